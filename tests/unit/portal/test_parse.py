"""parse_notification: what a school sees when its notification is refused, and what it gets
when it is not. Every fault is named by its field, all at once (000 s.5(a): every notification
is reviewed, so a refusal must say everything that is wrong in one reply)."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest

from adapters.portal import InvalidNotification, PortalNotification, parse_notification
from gateway.model.identifiers import upn_check_letter
from tests.unit.portal import body, example


def refusal(document: object) -> list[tuple[str, str]]:
    raw = document if isinstance(document, bytes) else body(document)
    with pytest.raises(InvalidNotification) as refused:
        parse_notification(raw)
    return refused.value.errors


def paths(document: object) -> list[str]:
    return [path for path, _ in refusal(document)]


def test_a_valid_notification_becomes_frozen_structs_with_typed_values() -> None:
    n = parse_notification(body(example("suspension")))
    assert isinstance(n, PortalNotification)
    assert n.submitted_at == dt.datetime(2025, 11, 17, 15, 5, tzinfo=dt.UTC)
    assert n.exclusion is not None
    assert n.exclusion.first_day == dt.date(2025, 11, 18)
    assert n.exclusion.days == 3
    assert n.illness is None
    with pytest.raises(AttributeError):
        n.summary = "changed"  # type: ignore[misc]


def test_a_misspelt_field_is_refused_by_its_own_name() -> None:
    document = example("illness")
    document["child"]["nhs_numbr"] = document["child"].pop("nhs_number")
    document["submited_at"] = document.pop("submitted_at")
    errors = dict(refusal(document))
    assert errors["child.nhs_numbr"].startswith("unknown field")
    assert errors["submited_at"].startswith("unknown field")
    assert errors["submitted_at"] == "required"
    assert "child.nhs_number" not in errors  # optional, so its absence is not a fault


def test_a_wrong_upn_check_letter_is_child_upn() -> None:
    document = example("illness")
    upn = document["child"]["upn"]
    wrong = next(letter for letter in "ABCD" if letter != upn[0])
    document["child"]["upn"] = wrong + upn[1:]
    assert refusal(document) == [("child.upn", "the UPN check letter does not match")]


def test_a_temporary_upn_is_accepted() -> None:
    document = example("illness")
    temporary = "88520012400" + "A"
    document["child"]["upn"] = upn_check_letter(temporary) + temporary
    assert parse_notification(body(document)).child.upn.endswith("A")


def test_a_upn_of_the_wrong_shape_is_reported_once() -> None:
    document = example("illness")
    document["child"]["upn"] = "M88520012400"
    assert refusal(document) == [("child.upn", "must match ^[A-Z][0-9]{11}[0-9A-Z]$")]


def test_identifier_faults_come_with_the_schema_faults() -> None:
    document = example("section19_request")
    document["child"]["nhs_number"] = "9434765918"
    document["school"]["urn"] = "1"
    assert paths(document) == ["child.nhs_number", "school.urn"]


@pytest.mark.parametrize("prefix", [b"", codecs.BOM_UTF8])
def test_malformed_json_is_body_with_msgspec_position(prefix: bytes) -> None:
    sent = prefix + b'{"notification_id": "CSP-1",, }'
    [(path, message)] = refusal(sent)
    assert path == "body"
    assert (
        message == f"JSON is malformed: object keys must be strings (byte {sent.index(b',,') + 1})"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Input data was truncated"),
        (b'"\xff"', "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a": 1e400}', "Number out of range"),
    ],
)
def test_bodies_that_cannot_be_read_are_body(raw: bytes, message: str) -> None:
    [(path, said)] = refusal(raw)
    assert path == "body"
    assert message in said


@pytest.mark.parametrize("document", [[], "illness", 3, None])
def test_a_body_that_is_not_an_object_is_body(document: object) -> None:
    assert refusal(document) == [("body", "must be an object")]


def test_a_byte_order_mark_is_skipped() -> None:
    parse_notification(codecs.BOM_UTF8 + body(example("illness")))


def test_errors_are_sorted_by_path_and_never_echo_the_value() -> None:
    document = example("illness")
    document["summary"] = "x" * 2001
    document["child"]["given_name"] = 7
    document["ehcp"]["status"] = "Issued"
    errors = refusal(document)
    assert errors == sorted(errors)
    assert [path for path, _ in errors] == ["child.given_name", "ehcp.status", "summary"]
    assert all("xxx" not in message and "Issued" not in message for _, message in errors)


@pytest.mark.parametrize(
    ("name", "section", "field"),
    [
        ("suspension", "exclusion", "days"),
        ("illness", "illness", "days_absent"),
        ("part_time_timetable", "part_time_timetable", "started_on"),
        ("continuous_absence", "continuous_absence", "last_attended"),
        ("section19_request", "section19_request", "requester_role"),
    ],
)
def test_each_type_requires_its_own_section(name: str, section: str, field: str) -> None:
    document = example(name)
    del document[section][field]
    assert paths(document) == [f"{section}.{field}"]
    del document[section]
    assert paths(document) == [section]


def test_a_permanent_exclusion_has_no_length() -> None:
    document = example("permanent_exclusion")
    document["exclusion"]["days"] = 5
    assert refusal(document) == [
        ("exclusion.days", "not part of a notification of type permanent_exclusion")
    ]


def test_suspension_days_are_half_days_up_to_45() -> None:
    document = example("suspension")
    document["exclusion"]["days"] = 0.5  # a lunchtime suspension
    parse_notification(body(document))
    for days, problem in [
        (0, "must be more than 0"),
        (46, "must be at most 45"),
        (1.2, "multiple"),
    ]:
        document["exclusion"]["days"] = days
        [(path, message)] = refusal(document)
        assert path == "exclusion.days" and problem in message


def test_a_missing_type_does_not_add_section_errors() -> None:
    document = example("suspension")
    del document["type"]
    assert paths(document) == ["type"]


@pytest.mark.parametrize(
    "moment",
    [
        "2025-11-17T15:05:00+00:00",
        "2025-11-17t15:05:00z",
        "2025-11-17T15:05:00.1234567Z",  # seven digits, as .NET writes them
        "2025-11-17T16:05:00+01:00",
    ],
)
def test_rfc3339_date_times_with_an_offset_are_accepted(moment: str) -> None:
    document = example("suspension")
    document["submitted_at"] = moment
    parsed = parse_notification(body(document)).submitted_at
    assert parsed.replace(microsecond=0) == dt.datetime(2025, 11, 17, 15, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "moment",
    [
        "2025-11-17T15:05:00",  # no offset: not an instant
        "2025-11-17 15:05:00Z",
        "2025-11-17T25:05:00Z",
        "2025-02-30T15:05:00Z",
        "2025-11-17T15:05:00Z\n",
        "2025-11-17",
    ],
)
def test_other_date_times_are_refused(moment: str) -> None:
    document = example("suspension")
    document["exclusion"]["issued_at"] = moment
    assert paths(document) == ["exclusion.issued_at"]


@pytest.mark.parametrize(
    "day", ["2015-3-9", "2015-02-29", "20150309", "09/03/2015", "\uff12\uff10\uff11\uff15-03-09"]
)
def test_dates_are_yyyy_mm_dd(day: str) -> None:
    document = example("illness")
    document["child"]["date_of_birth"] = day
    assert refusal(document) == [("child.date_of_birth", "must be a date, YYYY-MM-DD")]


def test_a_whole_number_written_with_a_point_is_still_a_whole_number() -> None:
    document = example("continuous_absence")
    document["continuous_absence"]["days"] = 12.0
    parsed = parse_notification(body(document)).continuous_absence
    assert parsed is not None and parsed.days == 12


def test_ehcp_unable_to_attend_accepts_a_plan_or_a_decision_to_draft() -> None:
    document = example("ehcp_unable_to_attend")
    for status, decided in [("issued", False), ("draft", False), ("assessing", True)]:
        document["ehcp"].update(status=status, decision_to_issue_draft=decided)
        parse_notification(body(document))
    document["ehcp"].update(status="ceased", decision_to_issue_draft=False)
    assert paths(document) == ["ehcp"]


def test_invalid_notification_sorts_and_deduplicates_its_errors() -> None:
    error = InvalidNotification([("b", "second"), ("a", "first"), ("a", "first")])
    assert error.errors == [("a", "first"), ("b", "second")]
    assert str(error) == "a: first; b: second"
