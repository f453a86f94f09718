"""A large CTF streams: memory stays flat while thousands of pupils go by.

libxml2 builds the tree in C, out of tracemalloc's sight, so the tree is watched through the
process's resident size; tracemalloc watches the Python side (records not piling up)."""

from __future__ import annotations

import datetime as dt
import pathlib
import sys
import tracemalloc

import pytest

from adapters.mis.ctf import read_ctf
from gateway.model.attendance import RawMark
from gateway.model.identifiers import upn_check_letter
from tests.unit.mis import HEADER

START = dt.date(2025, 9, 1)
# A full year from 1 September: "##" at weekends, a day off sick every 17th day.
YEAR_MARKS = "".join(
    "##" if (START + dt.timedelta(days=d)).weekday() >= 5 else ("II" if d % 17 == 0 else "/\\")
    for d in range(365)
)
SCHOOL_DAYS = sum(1 for d in range(365) if (START + dt.timedelta(days=d)).weekday() < 5)
CONTACTS = "".join(
    f"<Contact><Order>{k}</Order><Surname>Contact</Surname><Forename>Name{k}</Forename>"
    f"<Address><AddressLines><AddressLine1>{k} Example Road</AddressLine1></AddressLines>"
    "<PostCode>EX1 1AA</PostCode></Address></Contact>"
    for k in range(1, 4)
)


def write_ctf(path: pathlib.Path, pupils: int) -> int:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + HEADER + "<CTFpupilData>\n")
        for n in range(pupils):
            body = f"92520012{n:04d}"
            out.write(
                f"<Pupil><UPN>{upn_check_letter(body)}{body}</UPN><Surname>Example</Surname>"
                f"<Forename>Pupil{n}</Forename><DOB>2015-01-01</DOB><Sex>F</Sex>"
                f"<Contacts>{CONTACTS}</Contacts><Attendance><YearData><Year>2025</Year>"
                "<LEA>925</LEA><Estab>2001</Estab><SessionsPossible>380</SessionsPossible>"
                "<AttendSessions><AttendanceStartDate>2025-09-01</AttendanceStartDate>"
                f"<AttendanceMarks>{YEAR_MARKS}</AttendanceMarks></AttendSessions>"
                "</YearData></Attendance></Pupil>\n"
            )
        out.write("</CTFpupilData></CTfile>\n")
    return path.stat().st_size


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_five_thousand_pupils_with_a_full_year_of_marks_stream_in_flat_memory(
    tmp_path: pathlib.Path,
) -> None:
    size = write_ctf(tmp_path / "large.xml", 5000)
    baseline = peak = resident_bytes()
    marks = 0
    with (tmp_path / "large.xml").open("rb") as stream:
        for record in read_ctf(stream):
            if isinstance(record, RawMark):
                marks += 1
                if marks % 25_000 == 0:
                    peak = max(peak, resident_bytes())
    assert marks == 5000 * SCHOOL_DAYS
    # Without clearing each Pupil the tree grows past five times the file size; cleared, the
    # reader holds one pupil at a time.
    assert size > 8_000_000
    assert peak - baseline < size // 10


def test_records_are_handed_on_not_gathered(tmp_path: pathlib.Path) -> None:
    write_ctf(tmp_path / "medium.xml", 1000)
    tracemalloc.start()
    with (tmp_path / "medium.xml").open("rb") as stream:
        records = sum(1 for _ in read_ctf(stream))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert records == 1 + 1000 * (2 + SCHOOL_DAYS)
    assert peak < 2_000_000  # one pupil's records; all of them would take over 60 MB
