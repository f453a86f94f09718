"""The Common Transfer File (CTF), the DfE's XML for a pupil's record (DOMAIN.md "The Common
Transfer File (CTF)"): a Header, then one Pupil per child with Attendance/YearData blocks.

Streaming: lxml's iterparse reports only Header and Pupil ends; each Pupil is read, turned into
records, then cleared and unlinked, so a 50 MB file is never held whole. Safety: a CTF has no
business carrying a DTD, and a DTD is how XML bombs ("billion laughs") and external entities
(file:///etc/passwd) get in, so any DOCTYPE is refused before libxml2 sees it, the parser runs
with entity resolution, DTD loading and network access off, and the document info is checked
again as the parse starts in case the prolog was not one the byte check could read.

Values are yielded as strings; only what expanding the marks needs is parsed (the start date).
A YearData's own totals and its marks can disagree in real files, so both are yielded.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import zip_longest
from typing import BinaryIO, Final

from lxml import etree

from adapters.mis.errors import MalformedFeed
from gateway.model.attendance import FeedHeader, PupilIdentity, RawMark, YearTotals

# The character AttendanceMarks carries for each session of a day with no session (weekends,
# holidays). The DfE CTF specification itself could not be retrieved with the search tool; this
# is what a supplier's CTF exporter writes: Follett Aspen, DfEExportManager.java
# (github.com/EvgeniiTrofimov/aspenProject, commit fa94d83,
# tool-source/src/main/procedures/com/x2dev/procedures/statereporting/uk/DfEExportManager.java),
# ATTENDANCE_MARK_NOT_IN_SESSION = "#", written twice for every calendar date not in session.
# "#" is also the DfE register code for a planned school closure, a session that is not possible,
# so skipping "##" days loses no possible session. Nothing else is treated as filler: any other
# character comes through as the mark and the intake reports the codes it does not know.
NO_SESSION_FILLER: Final = "#"

CtfRecord = FeedHeader | PupilIdentity | YearTotals | RawMark

_PARSER_OPTIONS: Final = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,  # so a processing instruction cannot split a marks string's text
}
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LAST_ORDINAL: Final = dt.date.max.toordinal()


def read_ctf(stream: BinaryIO) -> Iterator[CtfRecord]:
    """Refuse a DTD now, then yield the FeedHeader, and for each pupil a PupilIdentity and, per
    YearData, its YearTotals followed by one RawMark per day that has a mark.

    Locators: "Pupil[i]" and "Pupil[i]/Attendance/YearData[j]" (1-based), a mark's
    "Pupil[i]/Attendance/YearData[j]/AttendanceMarks@YYYY-MM-DD".
    """
    return _records(ctf_elements(stream))


def _records(elements: Iterator[tuple[int, etree._Element]]) -> Iterator[CtfRecord]:
    header: FeedHeader | None = None
    for number, element in elements:
        if number == 0:
            header = _feed_header(element)
            yield header
        else:
            assert header is not None, "ctf_elements yields the Header first"
            yield from _pupil_records(element, number, header)


def ctf_elements(stream: BinaryIO) -> Iterator[tuple[int, etree._Element]]:
    """The CTF's Header as (0, element), then each Pupil as (its 1-based number, element),
    streamed: each is cleared once the caller has read it. Every CTF reader (attendance,
    leavers) goes through here, so each refuses a DTD and a document that is not a CTF alike.
    A DTD in the prolog is refused now, before the first element is asked for."""
    return _elements(
        etree.iterparse(
            _PrologGuard(stream), events=("end",), tag=("Header", "Pupil"), **_PARSER_OPTIONS
        )
    )


def _elements(events: etree.iterparse) -> Iterator[tuple[int, etree._Element]]:
    seen_header = False
    pupils = 0
    checked = False
    try:
        for _, element in events:
            if not checked:
                _check_document(element.getroottree())
                checked = True
            parent = element.getparent()
            if element.tag == "Header" and parent is not None and parent.getparent() is None:
                if not seen_header:
                    seen_header = True
                    yield 0, element
            elif element.tag == "Pupil" and parent is not None and parent.tag == "CTFpupilData":
                if not seen_header:
                    raise MalformedFeed(
                        "a Pupil comes before the Header", f"line {element.sourceline}"
                    )
                pupils += 1
                yield pupils, element
            else:
                continue
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as error:
        line, column = error.position
        message = re.sub(r", line \d+, column \d+$", "", error.msg or "not well-formed XML")
        raise MalformedFeed(message, f"line {max(line, 1)}, column {max(column, 1)}") from None
    _check_document(events.root.getroottree())
    if not seen_header:
        raise MalformedFeed("the CTF has no CTfile/Header", "end of document")


def _check_document(tree: etree._ElementTree) -> None:
    """The backstop to _PrologGuard, and the root must be a CTF's."""
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise MalformedFeed("a CTF may not carry a DTD or entity declarations", "prolog")
    root = tree.getroot()
    if root.tag != "CTfile":
        raise MalformedFeed(
            f"the root element is {root.tag!r}, not CTfile", f"line {root.sourceline}"
        )


def _feed_header(header: etree._Element) -> FeedHeader:
    return FeedHeader(
        school_urn=text_of(header, "SourceSchool/URN"),
        la_code=text_of(header, "SourceSchool/LEA"),
        estab=text_of(header, "SourceSchool/Estab"),
        academic_year=text_of(header, "SourceSchool/AcademicYear"),
        ctf_version=text_of(header, "CTFversion"),
        supplier=text_of(header, "SupplierID"),
    )


def _pupil_records(pupil: etree._Element, number: int, header: FeedHeader) -> list[CtfRecord]:
    """A pupil's records as one list: one generator level per mark is the reader's main cost."""
    where = f"Pupil[{number}]"
    upn = text_of(pupil, "UPN") or ""
    records: list[CtfRecord] = [
        PupilIdentity(
            locator=where,
            upn=upn,
            surname=text_of(pupil, "Surname"),
            forename=text_of(pupil, "Forename"),
            date_of_birth=text_of(pupil, "DOB"),
            sex=text_of(pupil, "Sex") or text_of(pupil, "Gender"),  # Gender in files before Sex
        )
    ]
    for index, year in enumerate(pupil.iterfind("Attendance/YearData"), start=1):
        records += _year_records(year, f"{where}/Attendance/YearData[{index}]", upn, header)
    return records


def _year_records(
    year: etree._Element, where: str, upn: str, header: FeedHeader
) -> list[YearTotals | RawMark]:
    school_urn = _school_urn(text_of(year, "LEA"), text_of(year, "Estab"), header)
    start = text_of(year, "AttendSessions/AttendanceStartDate")
    totals = YearTotals(
        locator=where,
        upn=upn,
        school_urn=school_urn,
        academic_year=text_of(year, "Year") or "",
        sessions_possible=_count(year, "SessionsPossible"),
        sessions_authorised=_count(year, "SessionsAuthorised"),
        sessions_attended=_count(year, "SessionsAttended"),
        sessions_unauthorised=_count(year, "SessionsUnauthorised"),
        marks_start=start,
    )
    marks = year.findtext("AttendSessions/AttendanceMarks")  # not stripped: every char is a day
    if not marks:
        return [totals]
    return [totals, *_expand(marks, start or "", f"{where}/AttendanceMarks@", upn, school_urn)]


def _school_urn(lea: str | None, estab: str | None, header: FeedHeader) -> str:
    """The feed's own URN for a YearData at the SourceSchool; otherwise the DfE number
    "dfe:LLLEEEE", which the intake rejects as not the feed's school."""
    if lea and estab and header.school_urn and (lea, estab) == (header.la_code, header.estab):
        return header.school_urn
    return f"dfe:{lea or ''}{estab or ''}"


def _expand(marks: str, start: str, prefix: str, upn: str, school_urn: str) -> list[RawMark]:
    """Two characters a calendar day from ``start``, AM then PM; filler days are skipped.

    A start date that is not YYYY-MM-DD leaves nothing to date the marks by: one RawMark carries
    the text as its date so the intake reports it. An odd last character is an AM with no PM.
    """
    first = _iso_date(start)
    if first is None or first.toordinal() + (len(marks) - 1) // 2 > _LAST_ORDINAL:
        return [
            RawMark(
                locator=prefix + start, school_urn=school_urn, upn=upn, date=start, am="", pm=""
            )
        ]
    ordinal = first.toordinal()
    filler = NO_SESSION_FILLER
    return [
        RawMark(
            locator=prefix + (date := _datetext_of(ordinal + day)),
            school_urn=school_urn,
            upn=upn,
            date=date,
            am=am,
            pm=pm,
        )
        for day, (am, pm) in enumerate(zip_longest(marks[0::2], marks[1::2], fillvalue=""))
        if am != filler or pm != filler
    ]


@lru_cache(maxsize=4096)
def _datetext_of(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _iso_date(text: str) -> dt.date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def text_of(element: etree._Element, path: str) -> str | None:
    """The stripped text at ``path``; None when absent or blank."""
    value = element.findtext(path)
    if value is None:
        return None
    return value.strip() or None


def _count(element: etree._Element, path: str) -> int | None:
    value = text_of(element, path)
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


class _PrologGuard:
    """The stream as lxml reads it, after checking that nothing before the root element is a
    DTD: a "<!" that does not open a comment is refused without libxml2 ever parsing it.

    The check reads bytes, so it sees the prolog of UTF-8 and other ASCII-compatible files (the
    CTF's encoding); for anything else, _check_document refuses a DTD once the parse starts.
    """

    _LIMIT: Final = 64 * 1024  # a longer prolog is left to _check_document

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._head = b""
        while True:
            more = raw.read(4096)
            self._head += more
            found = _prolog_dtd(self._head)
            if found is not None or not more or len(self._head) > self._LIMIT:
                break
        if found is not None and found >= 0:
            line = self._head.count(b"\n", 0, found) + 1
            column = found - self._head.rfind(b"\n", 0, found)
            raise MalformedFeed(
                "a CTF may not carry a DTD or entity declarations", f"line {line}, column {column}"
            )

    def read(self, size: int = -1) -> bytes:
        if self._head:
            taken = len(self._head) if size < 0 else size
            chunk, self._head = self._head[:taken], self._head[taken:]
            return chunk
        return self._raw.read(size)


def _prolog_dtd(head: bytes) -> int | None:
    """Where a DTD starts in ``head``; -1 if the prolog ends without one; None if ``head``
    ends inside the prolog and more bytes are needed to tell."""
    if len(head) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(head):
        return None  # nothing yet, or part of a byte-order mark
    at = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    while True:
        while at < len(head) and head[at] in b" \t\r\n":
            at += 1
        rest = head[at : at + 4]
        if len(rest) < 4 and (b"<!--".startswith(rest) or b"<?".startswith(rest)):
            return None  # cut off before it can tell what comes next
        if rest.startswith(b"<?"):
            close = head.find(b"?>", at + 2)
            if close < 0:
                return None
            at = close + 2
        elif rest.startswith(b"<!--"):
            close = head.find(b"-->", at + 4)
            if close < 0:
                return None
            at = close + 3
        elif rest.startswith(b"<!"):
            return at
        else:
            return -1
