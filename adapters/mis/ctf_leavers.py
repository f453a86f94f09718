"""A Common Transfer File sent for leavers, read as deletion returns (contracts/roll/README.md).

When a pupil leaves, the school's MIS sends their CTF onward; the Header's DestSchool says
where. The DfE's placeholders name no school: LA "XXX", establishment "XXXX" for a destination
the school does not know (a "lost" CTF, for the Lost Pupil Database), and "MMM"/"MMMM" for one
outside the maintained sector in England and Wales (an independent school, abroad). This is
the DfE's school-to-school transfer guidance as authorities' pages quote it; the CTF
specification's own text (sections 2.4.2 and 2.4.4) was not read. Neither is a destination
URN. A CTF carries no regulation 9
ground, so each deletion is read with none (gateway/roll/grounds.py NOT_GIVEN). The leaving
date is the pupil's SchoolHistory entry at the source school, else the Header's date.

Streaming and safety as the attendance reader (adapters/mis/ctf.py ctf_elements): no DTD, the
root must be CTfile, one Pupil in memory at a time.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import msgspec
from lxml import etree

from adapters.mis.ctf import ctf_elements, text_of
from adapters.mis.errors import MalformedFeed
from adapters.mis.roll_returns import MalformedReturn, locate
from gateway.model.roll import RollDeletion

# DestSchool LA codes that name no school.
UNKNOWN_DESTINATIONS = frozenset({"MMM", "XXX"})


class _Header(msgspec.Struct, frozen=True):
    school_urn: str | None
    school_la: str | None
    school_estab: str | None
    destination_urn: str | None
    sent_on: dt.date | None


def read_ctf_leavers(body: bytes) -> list[tuple[str, RollDeletion]]:
    try:
        return list(_leavers(ctf_elements(io.BytesIO(body))))
    except MalformedFeed as exc:
        raise MalformedReturn([(exc.position, exc.message)]) from None


def _leavers(
    elements: Iterator[tuple[int, etree._Element]],
) -> Iterator[tuple[str, RollDeletion]]:
    header: _Header | None = None
    errors: list[tuple[str, str]] = []
    found: list[tuple[str, RollDeletion]] = []
    for number, element in elements:
        if number == 0:
            header = _header(element)
            if header.school_urn is None:
                errors.append(("Header/SourceSchool/URN", "a leavers' CTF must name its school"))
            continue
        assert header is not None
        where = f"Pupil[{number}]"
        try:
            found.append((where, _deletion(element, header)))
        except msgspec.ValidationError as exc:
            errors.append(locate(where, str(exc)))
    if errors:
        raise MalformedReturn(errors)
    if not found:
        raise MalformedReturn([("CTFpupilData", "the CTF names no leavers")])
    yield from found


def _header(element: etree._Element) -> _Header:
    lea = text_of(element, "DestSchool/LEA")
    destination = None if lea in UNKNOWN_DESTINATIONS else text_of(element, "DestSchool/URN")
    sent = text_of(element, "DateTime")
    return _Header(
        school_urn=text_of(element, "SourceSchool/URN"),
        school_la=text_of(element, "SourceSchool/LEA"),
        school_estab=text_of(element, "SourceSchool/Estab"),
        destination_urn=destination,
        sent_on=_date(sent[:10] if sent else None),
    )


def _deletion(pupil: etree._Element, header: _Header) -> RollDeletion:
    surname, forename = text_of(pupil, "Surname"), text_of(pupil, "Forename")
    name = {"given": forename, "family": surname} if surname and forename else None
    left = _leaving_date(pupil, header)
    return msgspec.convert(
        {
            "school_urn": header.school_urn,
            "pupil": {
                "upn": text_of(pupil, "UPN") or "",
                "name": name,
                "date_of_birth": text_of(pupil, "DOB"),
            },
            "ground": None,
            "deleted_on": left.isoformat() if left else None,
            "destination_urn": header.destination_urn,
        },
        RollDeletion,
    )


def _leaving_date(pupil: etree._Element, header: _Header) -> dt.date | None:
    """The LeavingDate of the pupil's SchoolHistory entry for the source school, if it has one."""
    for school in pupil.iterfind("SchoolHistory/School"):
        same = (text_of(school, "LEA"), text_of(school, "Estab")) == (
            header.school_la,
            header.school_estab,
        ) or text_of(school, "URN") == header.school_urn
        if same and (left := _date(text_of(school, "LeavingDate"))) is not None:
            return left
    return header.sent_on


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


__all__ = ["UNKNOWN_DESTINATIONS", "read_ctf_leavers"]
