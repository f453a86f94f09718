"""Expanding AttendanceMarks: two characters a calendar day from AttendanceStartDate, AM then
PM, with the no-session filler skipped and every other character passed on."""

from __future__ import annotations

import io

import pytest

from adapters.mis.ctf import NO_SESSION_FILLER, read_ctf
from gateway.model.attendance import RawMark, YearTotals
from tests.unit.mis import ctf_document, year_data

PREFIX = "Pupil[1]/Attendance/YearData[1]/AttendanceMarks@"


def marks(start: str | None, text: str | None) -> list[tuple[str, str, str]]:
    records = read_ctf(io.BytesIO(ctf_document(year_data(start, text))))
    return [(r.date, r.am, r.pm) for r in records if isinstance(r, RawMark)]


def test_the_filler_is_the_hash_that_suppliers_write_for_days_without_sessions() -> None:
    assert NO_SESSION_FILLER == "#"


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        ("2025-12-31", "/\\/\\", [("2025-12-31", "/", "\\"), ("2026-01-01", "/", "\\")]),
        (
            "2028-02-28",
            "/\\IIO/",
            [("2028-02-28", "/", "\\"), ("2028-02-29", "I", "I"), ("2028-03-01", "O", "/")],
        ),
        ("2027-02-28", "/\\/\\", [("2027-02-28", "/", "\\"), ("2027-03-01", "/", "\\")]),
        ("2025-10-31", "##/\\", [("2025-11-01", "/", "\\")]),
    ],
)
def test_days_run_across_month_leap_day_and_year_ends(
    start: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert marks(start, text) == expected


def test_only_a_day_whose_two_characters_are_both_filler_is_skipped() -> None:
    assert marks("2025-09-05", "#/##\\#") == [
        ("2025-09-05", "#", "/"),
        ("2025-09-07", "\\", "#"),
    ]


def test_characters_that_are_not_codes_come_through_as_marks() -> None:
    assert marks("2025-09-01", " -?x") == [("2025-09-01", " ", "-"), ("2025-09-02", "?", "x")]


def test_an_odd_last_character_is_a_morning_with_no_afternoon_mark() -> None:
    assert marks("2025-09-01", "/\\/") == [("2025-09-01", "/", "\\"), ("2025-09-02", "/", "")]


def test_every_mark_is_located_by_pupil_year_and_date() -> None:
    records = read_ctf(io.BytesIO(ctf_document(year_data("2025-09-01", "/\\"))))
    mark = next(r for r in records if isinstance(r, RawMark))
    assert mark == RawMark(
        locator=PREFIX + "2025-09-01",
        school_urn="120456",
        upn="R925200126001",
        date="2025-09-01",
        am="/",
        pm="\\",
    )


@pytest.mark.parametrize("start", ["2025-13-01", "01/09/2025", "20250901", "2025-W36-1", ""])
def test_a_start_date_that_is_not_yyyy_mm_dd_is_handed_on_as_one_undated_record(
    start: str,
) -> None:
    records = list(read_ctf(io.BytesIO(ctf_document(year_data(start, "/\\/\\")))))
    assert [r for r in records if isinstance(r, RawMark)] == [
        RawMark(
            locator=PREFIX + start,
            school_urn="120456",
            upn="R925200126001",
            date=start,
            am="",
            pm="",
        )
    ]


def test_marks_without_a_start_date_are_handed_on_with_a_blank_date() -> None:
    assert marks(None, "/\\") == [("", "", "")]


def test_marks_running_past_the_last_representable_date_are_handed_on_undated() -> None:
    assert marks("9999-12-31", "/\\/\\") == [("9999-12-31", "", "")]
    assert marks("9999-12-31", "/\\") == [("9999-12-31", "/", "\\")]


def test_an_empty_marks_string_gives_totals_and_no_marks() -> None:
    records = list(read_ctf(io.BytesIO(ctf_document(year_data("2025-09-01", "")))))
    assert [type(r).__name__ for r in records] == ["FeedHeader", "PupilIdentity", "YearTotals"]
    totals = records[-1]
    assert isinstance(totals, YearTotals)
    assert totals.marks_start == "2025-09-01"


def test_a_comment_inside_the_marks_does_not_shift_the_days() -> None:
    body = ctf_document(year_data("2025-09-01", "/\\<!-- half term -->II<?mis x?>/\\"))
    records = read_ctf(io.BytesIO(body))
    assert [(r.date, r.am) for r in records if isinstance(r, RawMark)] == [
        ("2025-09-01", "/"),
        ("2025-09-02", "I"),
        ("2025-09-03", "/"),
    ]
