"""A Common Transfer File of leavers read as deletion returns (adapters/mis/ctf_leavers.py):
the DestSchool says whether the school knows where the pupils went ("XXX"/"XXXX": it does
not; "MMM"/"MMMM": outside the maintained sector); the leaving date comes from the pupil's
SchoolHistory at the source school."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.mis.ctf_leavers import read_ctf_leavers
from adapters.mis.roll_returns import MalformedReturn
from tests.support import make_upn


def leavers_ctf(dest: str, *pupils: str, history: str = "") -> bytes:
    body = "".join(
        f"<Pupil><UPN>{upn}</UPN><Surname>Leaver</Surname><Forename>Ash</Forename>"
        f"<DOB>2013-05-02</DOB>{history if n == 0 else ''}</Pupil>"
        for n, upn in enumerate(pupils)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFversion>25.0</CTFversion>
    <DateTime>2026-01-09T15:00:00</DateTime>
    <DocumentQualifier>full</DocumentQualifier>
    <SourceSchool><LEA>925</LEA><Estab>2001</Estab><URN>119876</URN>
      <SchoolName>Fernhill</SchoolName><AcademicYear>2025</AcademicYear></SourceSchool>
    {dest}
  </Header>
  <CTFpupilData>{body}</CTFpupilData>
</CTfile>""".encode()


UNKNOWN = "<DestSchool><LEA>XXX</LEA><Estab>XXXX</Estab></DestSchool>"
KNOWN = "<DestSchool><LEA>925</LEA><Estab>4002</Estab><URN>120456</URN></DestSchool>"
HISTORY = (
    "<SchoolHistory><School><LEA>925</LEA><Estab>2001</Estab><SchoolName>Fernhill</SchoolName>"
    "<EntryDate>2019-09-04</EntryDate><LeavingDate>2026-01-07</LeavingDate></School>"
    "</SchoolHistory>"
)


def test_leavers_to_an_unknown_destination_are_deletions_with_no_destination() -> None:
    records = read_ctf_leavers(leavers_ctf(UNKNOWN, make_upn(1), make_upn(2), history=HISTORY))
    assert [where for where, _ in records] == ["Pupil[1]", "Pupil[2]"]
    first, second = (record for _, record in records)
    assert (first.school_urn, first.destination_urn, first.ground) == ("119876", None, None)
    assert first.pupil.upn == make_upn(1)
    assert first.pupil.name is not None and first.pupil.name.family == "Leaver"
    # The leaving date from the SchoolHistory; without one, the day the CTF was made.
    assert (first.deleted_on, second.deleted_on) == (dt.date(2026, 1, 7), dt.date(2026, 1, 9))


@pytest.mark.parametrize(
    ("dest", "urn"),
    [
        (KNOWN, "120456"),
        ("<DestSchool><LEA>MMM</LEA><Estab>MMMM</Estab><URN>120456</URN></DestSchool>", None),
        ("", None),
    ],
)
def test_the_destination_is_a_school_only_when_the_ctf_names_one(
    dest: str, urn: str | None
) -> None:
    ((_, record),) = read_ctf_leavers(leavers_ctf(dest, make_upn(3)))
    assert record.destination_urn == urn


def test_a_bad_upn_is_named_with_its_pupil() -> None:
    with pytest.raises(MalformedReturn) as refused:
        read_ctf_leavers(leavers_ctf(UNKNOWN, make_upn(4), "A12345678901X"))
    assert [where for where, _ in refused.value.errors] == ["Pupil[2].pupil.upn"]


@pytest.mark.parametrize(
    "body",
    [
        b"<CTfile><Header>",
        b'<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY x "y">]><CTfile/>',
        b"<NotACtf/>",
        leavers_ctf(UNKNOWN),
    ],
)
def test_what_is_not_a_leavers_ctf_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedReturn):
        read_ctf_leavers(body)
