"""The register code tables (mappings/data/attendance_codes.csv, attendance_legacy_codes.csv)
against DOMAIN.md "Attendance" (codes in force from 19 August 2024, SI 2024/208 reg 10)."""

from __future__ import annotations

import pytest

from mappings.attendance_codes import build_table, load_codes
from mappings.data import load_csv

# Transcribed from the DOMAIN.md "Attendance" table, row by row.
DOMAIN_TABLE = {
    "present": "/ \\ L",
    "approved_education": "K V P W B",
    "authorised": "C1 M J1 S C2 C T R I E",
    "unauthorised": "G N O U",
    "not_possible": "Q Y1 Y2 Y3 Y4 Y5 Y6 Y7 X D Z #",
}
EXPECTED = {code: cat for cat, codes in DOMAIN_TABLE.items() for code in codes.split()}


def test_current_codes_are_exactly_the_domain_table_with_their_categories() -> None:
    current = {code: info for code, info in load_codes().codes.items() if not info.legacy}
    assert {code: info.category for code, info in current.items()} == EXPECTED


def test_possible_and_attended_follow_the_category() -> None:
    for info in load_codes().codes.values():
        assert info.possible == (info.category != "not_possible"), info.code
        assert info.attended == (info.category in ("present", "approved_education")), info.code


@pytest.mark.parametrize(
    ("flag", "codes"),
    [
        ("illness", {"I"}),
        ("part_time", {"C2"}),
        ("suspension", {"E"}),
        # U is unauthorised but the pupil was in school: not absent without authorisation.
        ("unexplained", {"G", "N", "O"}),
    ],
)
def test_each_flag_is_on_exactly_its_codes(flag: str, codes: set[str]) -> None:
    current = [info for info in load_codes().codes.values() if not info.legacy]
    assert {info.code for info in current if getattr(info, flag)} == codes


def test_every_current_code_cites_a_source() -> None:
    rows = load_csv("attendance_codes.csv")
    assert all(row["source"] for row in rows)
    assert {row["code"] for row in rows} == set(EXPECTED)


def test_legacy_j_reads_as_j1() -> None:
    j = load_codes().get("J")
    assert j is not None
    assert (j.legacy, j.current_code, j.category, j.possible, j.attended) == (
        True,
        "J1",
        "authorised",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("code", "category", "possible"),
    [("H", "authorised", True), ("F", "authorised", True), ("Y", "not_possible", False)],
)
def test_legacy_codes_without_a_successor_keep_a_category(
    code: str, category: str, possible: bool
) -> None:
    info = load_codes().get(code)
    assert info is not None
    assert (info.legacy, info.current_code, info.category, info.possible) == (
        True,
        None,
        category,
        possible,
    )
    assert not (info.illness or info.part_time or info.suspension or info.unexplained)


def test_unknown_and_empty_marks_are_not_codes() -> None:
    table = load_codes()
    assert table.get("") is None
    assert table.get("?") is None
    assert table.get("i") is None  # exact match only: normalising is the intake's job
    assert load_codes() is table  # loaded once


def _row(**overrides: str) -> dict[str, str]:
    row = {
        "code": "I",
        "meaning": "illness",
        "category": "authorised",
        "possible": "true",
        "illness": "true",
        "part_time": "false",
        "suspension": "false",
        "unexplained": "false",
        "source": "SI 2024/208 reg 10",
        "note": "",
    }
    return row | overrides


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": "absent"}, "unknown category"),
        ({"possible": "false"}, "contradicts"),
        ({"possible": "yes"}, "true or false"),
        ({"category": "unauthorised"}, "illness needs category authorised"),
        ({"source": ""}, "no source"),
    ],
)
def test_a_bad_current_row_is_refused_naming_its_code(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_table([_row(**overrides)], [])


@pytest.mark.parametrize(
    ("legacy", "message"),
    [
        ({"code": "J", "maps_to": "J9", "category": ""}, "unknown code"),
        ({"code": "J", "maps_to": "I", "category": "authorised"}, "exactly one"),
        ({"code": "I", "maps_to": "", "category": "authorised"}, "also a current code"),
    ],
)
def test_a_bad_legacy_row_is_refused(legacy: dict[str, str], message: str) -> None:
    row = {"meaning": "m", "retired": "2024-08-19", "note": ""} | legacy
    with pytest.raises(ValueError, match=message):
        build_table([_row()], [row])
