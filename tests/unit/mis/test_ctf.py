"""Reading a CTF into the header, pupils, year totals and marks (DOMAIN.md "The Common
Transfer File (CTF)")."""

from __future__ import annotations

import io

from adapters.mis.ctf import read_ctf
from gateway.model.attendance import FeedHeader, PupilIdentity, RawMark, YearTotals
from tests.unit.mis import FIXTURES, ctf_document, year_data

CTF = FIXTURES / "ctf"
P1_YEAR = "Pupil[1]/Attendance/YearData[1]"


def read_fixture(name: str) -> list[object]:
    with (CTF / name).open("rb") as stream:
        return list(read_ctf(stream))


def marks_of(records: list[object]) -> list[RawMark]:
    return [record for record in records if isinstance(record, RawMark)]


def test_a_ctf25_file_yields_header_pupils_totals_and_marks_in_document_order() -> None:
    upn, urn = "R925200126001", "120456"

    def day(date: str, am: str, pm: str) -> RawMark:
        where = f"{P1_YEAR}/AttendanceMarks@{date}"
        return RawMark(locator=where, school_urn=urn, upn=upn, date=date, am=am, pm=pm)

    assert read_fixture("ctf25_sex.xml") == [
        FeedHeader(
            school_urn=urn,
            la_code="925",
            estab="2001",
            academic_year="2025",
            ctf_version="25.0",
            supplier="Example MIS 7.4",
        ),
        PupilIdentity(
            locator="Pupil[1]",
            upn=upn,
            surname="Oakes",
            forename="Juniper",
            date_of_birth="2016-04-12",
            sex="F",
        ),
        YearTotals(
            locator=P1_YEAR,
            upn=upn,
            school_urn=urn,
            academic_year="2025",
            sessions_possible=12,
            sessions_authorised=2,
            sessions_attended=9,
            sessions_unauthorised=1,
            marks_start="2025-09-25",
        ),
        # Thursday 25 September onwards; the weekend's "####" is not emitted.
        day("2025-09-25", "/", "\\"),
        day("2025-09-26", "/", "N"),
        day("2025-09-29", "/", "\\"),
        day("2025-09-30", "L", "\\"),
        day("2025-10-01", "I", "I"),
        day("2025-10-02", "/", "\\"),
        # Totals without AttendSessions: no start date, no marks.
        PupilIdentity(
            locator="Pupil[2]",
            upn="F925200126002",
            surname="Whitlow",
            forename="Rafe",
            date_of_birth="2015-11-30",
            sex="M",
        ),
        YearTotals(
            locator="Pupil[2]/Attendance/YearData[1]",
            upn="F925200126002",
            school_urn=urn,
            academic_year="2025",
            sessions_possible=0,
            sessions_authorised=0,
            sessions_attended=0,
            sessions_unauthorised=0,
            marks_start=None,
        ),
        # No Attendance section at all.
        PupilIdentity(
            locator="Pupil[3]",
            upn="V925200126003",
            surname="Greave",
            forename="Tamsin",
            date_of_birth="2017-01-08",
            sex="F",
        ),
    ]


def test_an_older_file_gives_sex_from_gender_and_passes_retired_codes_through() -> None:
    records = read_fixture("ctf19_gender.xml")
    header, pupil = records[0], records[1]
    assert isinstance(header, FeedHeader)
    assert (header.ctf_version, header.school_urn) == ("19.0", "103987")
    assert isinstance(pupil, PupilIdentity)
    assert pupil.sex == "M"
    # H and J are no longer DfE codes: the reader hands them on for the intake to report.
    assert [(m.date, m.am, m.pm) for m in marks_of(records)] == [
        ("2018-12-27", "/", "\\"),
        ("2018-12-28", "H", "H"),
        ("2018-12-31", "J", "J"),
        ("2019-01-02", "/", "\\"),  # 29-30 December and 1 January were "##"
    ]


def test_sex_wins_over_gender_when_a_file_has_both() -> None:
    body = ctf_document(pupil_extra="<Gender>M</Gender>")
    identity = next(r for r in read_ctf(io.BytesIO(body)) if isinstance(r, PupilIdentity))
    assert identity.sex == "F"


def test_totals_that_disagree_with_the_marks_are_both_kept_as_sent() -> None:
    records = read_fixture("ctf_totals_disagree.xml")
    totals = next(r for r in records if isinstance(r, YearTotals))
    assert (totals.sessions_possible, totals.sessions_attended) == (20, 20)
    assert [(m.date, m.am, m.pm) for m in marks_of(records)] == [
        ("2025-09-08", "/", "\\"),
        ("2025-09-09", "O", "O"),
        ("2025-09-10", "/", "\\"),
    ]


def test_a_year_at_another_school_is_labelled_with_its_dfe_number() -> None:
    records = read_fixture("ctf_two_schools.xml")
    totals = [r for r in records if isinstance(r, YearTotals)]
    assert [(t.locator, t.school_urn, t.academic_year) for t in totals] == [
        (P1_YEAR, "120456", "2025"),
        ("Pupil[1]/Attendance/YearData[2]", "dfe:3304001", "2024"),
    ]
    assert [(m.locator, m.school_urn) for m in marks_of(records)] == [
        (f"{P1_YEAR}/AttendanceMarks@2025-09-15", "120456"),
        (f"{P1_YEAR}/AttendanceMarks@2025-09-16", "120456"),
        ("Pupil[1]/Attendance/YearData[2]/AttendanceMarks@2025-07-18", "dfe:3304001"),
    ]


def test_unknown_elements_anywhere_are_ignored() -> None:
    plain = list(read_ctf(io.BytesIO(ctf_document(year_data("2025-09-01", "/\\")))))
    noisy = ctf_document(
        year_data("2025-09-01", "/\\", extra="<Comment>moved in</Comment><Pupil>no</Pupil>"),
        pupil_extra="<SchoolHistory><School><LEA>925</LEA></School></SchoolHistory>",
        after_pupils="<SupplierTrailer><Count>1</Count></SupplierTrailer>",
    )
    assert list(read_ctf(io.BytesIO(noisy))) == plain


def test_totals_that_are_not_whole_numbers_come_through_as_absent() -> None:
    body = ctf_document(year_data(None, None)).replace(b">10<", b">ten<", 1)
    totals = next(r for r in read_ctf(io.BytesIO(body)) if isinstance(r, YearTotals))
    assert (totals.sessions_possible, totals.sessions_attended) == (None, 10)
