"""Read a feed document once, streaming, into the accepted marks, the rejected records and
what a CTF says about its pupils; nothing is written while reading, so a malformed document
is rejected whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from gateway.intake.feed_validation import Accepted, FeedValidator
from gateway.intake.ports import FeedItem
from gateway.model.attendance import (
    FeedHeader,
    PupilIdentity,
    RawMark,
    RejectedRecord,
    YearTotals,
)
from gateway.model.identifiers import upn_problem
from mappings.attendance_codes import CodeTable

MAX_NOTES = 100


class FeedRefused(Exception):
    """The feed as a whole cannot be taken (its school cannot be known, or does not match)."""


class ParsedFeed(msgspec.Struct, kw_only=True):
    school_urn: str
    records: int = 0
    accepted: list[Accepted] = msgspec.field(default_factory=list)
    rejected: list[RejectedRecord] = msgspec.field(default_factory=list)
    identities: list[dict[str, Any]] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    # Each accepted mark's academic year, when it is not the feed's single year (CTF).
    years: list[int] = msgspec.field(default_factory=list)


class _YearTally(msgspec.Struct):
    totals: YearTotals
    possible: int = 0
    attended: int = 0


def parse_feed(
    items: Iterable[FeedItem],
    *,
    school_urn: str | None,
    academic_year: int | None,
    today: dt.date,
    codes: CodeTable,
    progress: Callable[[int], None] = lambda _: None,
    progress_every: int = 50_000,
) -> ParsedFeed:
    feed: ParsedFeed | None = None
    validator: FeedValidator | None = None
    tally: _YearTally | None = None
    ctf_year: int | None = None
    for item in items:
        if isinstance(item, RawMark):
            if feed is None or validator is None:
                feed, validator = _start(item.school_urn, academic_year, today, codes)
            feed.records += 1
            result = validator.check(item, ctf_year)
            if isinstance(result, RejectedRecord):
                feed.rejected.append(result)
            else:
                feed.accepted.append(result)
                if ctf_year is not None:
                    feed.years.append(ctf_year)
                if tally is not None:
                    _count(tally, result, codes)
            if feed.records % progress_every == 0:
                progress(feed.records)
        elif isinstance(item, FeedHeader):
            header_school = item.school_urn
            if school_urn and header_school and school_urn != header_school:
                raise FeedRefused(
                    f"school_urn {school_urn} does not match the CTF header's {header_school}"
                )
            feed, validator = _start(school_urn or header_school, academic_year, today, codes)
        elif isinstance(item, YearTotals):
            if feed is not None and tally is not None:
                _compare(feed, tally)
            tally = _YearTally(totals=item)
            ctf_year = int(item.academic_year) if item.academic_year.isdigit() else None
        elif isinstance(item, PupilIdentity) and feed is not None:
            _identity(feed, item)
    if feed is None:
        if school_urn is None:
            raise FeedRefused("the feed holds no records, and no school_urn was given")
        feed, validator = _start(school_urn, academic_year, today, codes)
    if tally is not None:
        _compare(feed, tally)
    if feed.records >= progress_every:
        progress(feed.records)
    if validator is not None and validator.legacy_codes:
        codes_seen = ", ".join(sorted(validator.legacy_codes))
        feed.notes.append(f"retired register codes mapped to their current meaning: {codes_seen}")
    return feed


def _start(
    school_urn: str | None, academic_year: int | None, today: dt.date, codes: CodeTable
) -> tuple[ParsedFeed, FeedValidator]:
    if not school_urn:
        raise FeedRefused("the feed does not say which school it is from")
    validator = FeedValidator(
        school_urn=school_urn, academic_year=academic_year, today=today, codes=codes
    )
    return ParsedFeed(school_urn=school_urn), validator


def _count(tally: _YearTally, mark: Accepted, codes: CodeTable) -> None:
    for code in (mark[3], mark[4]):
        info = codes.get(code) if code else None
        if info is not None and info.possible:
            tally.possible += 1
            tally.attended += info.attended


def _compare(feed: ParsedFeed, tally: _YearTally) -> None:
    """Real CTFs' totals and marks can disagree: keep both and say so (DOMAIN.md, CTF)."""
    totals = tally.totals
    if totals.school_urn != feed.school_urn:
        return
    stated = (totals.sessions_possible, totals.sessions_attended)
    counted = (tally.possible, tally.attended)
    if stated[0] is None and stated[1] is None:
        return
    if stated != counted and len(feed.notes) < MAX_NOTES:
        feed.notes.append(
            f"{totals.locator}: totals say {stated[0]} possible / {stated[1]} attended, "
            f"the marks give {counted[0]} / {counted[1]}"
        )


def _identity(feed: ParsedFeed, item: PupilIdentity) -> None:
    upn = item.upn.upper()
    if upn_problem(upn) is not None:
        return  # the pupil's marks are rejected with the reason; nothing to record
    try:
        born = dt.date.fromisoformat(item.date_of_birth) if item.date_of_birth else None
    except ValueError:
        born = None
        feed.notes.append(f"{item.locator}: date of birth is not a date; not recorded")
    feed.identities.append(
        {
            "upn": upn,
            "given_name": (item.forename or None),
            "family_name": (item.surname or None),
            "date_of_birth": born,
            "school_urn": feed.school_urn,
        }
    )
