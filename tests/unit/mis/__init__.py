"""Tests of the MIS feed readers (adapters/mis), and a builder of small CTF documents for them."""

from __future__ import annotations

import pathlib

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures"

HEADER = """<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFversion>25.0</CTFversion>
    <SupplierID>Example MIS 7.4</SupplierID>
    <SourceSchool>
      <LEA>925</LEA><Estab>2001</Estab><URN>120456</URN><AcademicYear>2025</AcademicYear>
    </SourceSchool>
  </Header>
"""


def year_data(start: str | None, marks: str | None, *, lea: str = "925", extra: str = "") -> str:
    """One YearData at the feed's school (LEA 925, Estab 2001) unless ``lea`` says otherwise."""
    sessions = ""
    if start is not None or marks is not None:
        sessions = "<AttendSessions>"
        sessions += (
            f"<AttendanceStartDate>{start}</AttendanceStartDate>" if start is not None else ""
        )
        sessions += f"<AttendanceMarks>{marks}</AttendanceMarks>" if marks is not None else ""
        sessions += "</AttendSessions>"
    return (
        f"<YearData><Year>2025</Year><LEA>{lea}</LEA><Estab>2001</Estab>{extra}"
        "<SessionsPossible>10</SessionsPossible><SessionsAuthorised>0</SessionsAuthorised>"
        "<SessionsAttended>10</SessionsAttended><SessionsUnauthorised>0</SessionsUnauthorised>"
        f"{sessions}</YearData>"
    )


def ctf_document(*years: str, pupil_extra: str = "", after_pupils: str = "") -> bytes:
    """A CTF from the feed's school with one pupil, R925200126001, holding ``years``."""
    pupil = (
        "<Pupil><UPN>R925200126001</UPN><Surname>Oakes</Surname><Forename>Juniper</Forename>"
        f"<DOB>2016-04-12</DOB><Sex>F</Sex>{pupil_extra}"
        f"<Attendance>{''.join(years)}</Attendance></Pupil>"
    )
    body = f"{HEADER}<CTFpupilData>{pupil}</CTFpupilData>{after_pupils}</CTfile>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
