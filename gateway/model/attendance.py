"""Attendance as it arrives from school MIS feeds, and the facts the gateway derives from it.

Feed readers (adapters/mis) yield these *raw* records with every value still a string as the
school sent it: validation happens once, in the intake, so each rejected record can be reported
with its locator, field and reason instead of the whole feed failing on the first bad value.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Session = Literal["am", "pm"]
# How a register code counts (DOMAIN.md "Attendance"; mappings/data/attendance_codes.csv).
CodeCategory = Literal[
    "present",  # / \ L
    "approved_education",  # K V P W B: attending a place other than the school
    "authorised",  # authorised absence, counts as possible
    "unauthorised",  # unauthorised absence, counts as possible
    "not_possible",  # exceptional circumstances and administrative codes
]


class RawMark(msgspec.Struct, frozen=True, kw_only=True):
    """One pupil's two sessions on one date, unvalidated.

    ``locator`` says where the record was in the document: "line 12" (CSV), "$[11]" (JSON),
    "Pupil[3]/Attendance/YearData[1]/AttendanceMarks@2025-09-04" (CTF). An empty ``am`` or
    ``pm`` means no mark was sent for that session.
    """

    locator: str
    school_urn: str
    upn: str
    date: str
    am: str
    pm: str


class PupilIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who a CTF pupil is, as the sending school recorded it (unvalidated)."""

    locator: str
    upn: str
    surname: str | None = None
    forename: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None  # CTF <Sex> (newer files) or <Gender> (older files)


class YearTotals(msgspec.Struct, frozen=True, kw_only=True):
    """A CTF YearData block's own totals; kept beside the marks because real files disagree."""

    locator: str
    upn: str
    school_urn: str
    academic_year: str  # CTF <Year>: the calendar year the academic year starts in
    sessions_possible: int | None
    sessions_authorised: int | None
    sessions_attended: int | None
    sessions_unauthorised: int | None
    marks_start: str | None


class FeedHeader(msgspec.Struct, frozen=True, kw_only=True):
    """What a CTF header says about the document and the school that sent it."""

    school_urn: str | None
    la_code: str | None
    estab: str | None
    academic_year: str | None
    ctf_version: str | None
    supplier: str | None


class RejectedRecord(msgspec.Struct, frozen=True, kw_only=True):
    locator: str
    field: str
    reason: str


FeedFormat = Literal["ctf", "csv", "json"]
# received, parsing: being read by the request that brought it. stalled: no progress for longer
# than the parse lease (the request was cut off); a worker reads it again from its archive.
# superseded: cut off, and the same feed sent again was taken instead.
FeedStatus = Literal[
    "received", "parsing", "stalled", "queued", "completed", "rejected", "failed", "superseded"
]


class FeedReport(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    school_urn: str | None
    format: FeedFormat
    status: FeedStatus
    received_at: dt.datetime
    completed_at: dt.datetime | None
    records_received: int
    records_accepted: int
    records_rejected: int
    marks_changed: int
    concerns_raised: int
    period_start: dt.date | None
    period_end: dt.date | None
    duplicate_of: str | None = None
    rejected: list[RejectedRecord] = []
    notes: list[str] = []
    # Why a feed is stalled, superseded, rejected or failed, and what to do about it.
    error: str | None = None
