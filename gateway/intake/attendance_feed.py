"""Taking an attendance feed at the door: archive it, read it, validate every record, and
queue what was accepted for the applier (gateway/intake/feed_applier.py), which merges it
into the registers, updates figures and raises concerns, many schools at a time.

The archive row is always written before the body is read: a small feed (a school's day) is
archived, read and queued in one transaction, so nothing is acknowledged that is not stored;
a large one commits its archive first so its progress can be followed while it is read. A
document that cannot be read is kept, archived and marked rejected (a body over the archive's
limit for refused bodies as its digest, size and first KiB: gateway/store/archive.py). A large
feed whose reading is cut off (the process dies, the sender goes away) is read again from its
archive by the worker once its parse lease has passed (gateway/intake/feed_resume.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import BinaryIO

import msgspec
import structlog

from gateway.attendance.terms import academic_year as academic_year_of
from gateway.intake.feed_apply import Identity, StagedFeed
from gateway.intake.feed_parse import FeedRefused, ParsedFeed, parse_feed
from gateway.intake.ports import FeedReader, MalformedDocument
from gateway.model.attendance import FeedFormat, FeedReport
from gateway.model.client import Client
from gateway.store.unit_of_work import Store, UnitOfWork
from mappings.attendance_codes import load_codes

log = structlog.get_logger("gateway.intake.attendance")


# The response lists this many rejected records; GET the feed for all of them.
REJECTIONS_SHOWN = 1000
# A feed this small is archived, read and queued in one transaction (a school's day is
# tens of kilobytes); a larger one commits its archive first and shows its progress.
SMALL_FEED_BYTES = 4 * 1024 * 1024
SMALL_FEED_RECORDS = 50_000
_encode_staged = msgspec.msgpack.Encoder().encode
_decode_staged = msgspec.msgpack.Decoder(StagedFeed).decode


class FeedUpload(msgspec.Struct, kw_only=True, frozen=True):
    """A received body, already spooled to a file and hashed by the caller."""

    format: FeedFormat
    content_type: str
    sha256: str
    size: int
    school_urn: str | None = None
    academic_year: int | None = None


class FeedRejected(Exception):
    """The document is unusable as a whole; the feed is kept (archived, marked rejected).
    ``forbidden``: its sender may not send feeds for that school (answered 403, not 400)."""

    def __init__(
        self, feed_id: str, message: str, position: str | None, *, forbidden: bool = False
    ) -> None:
        super().__init__(message if position is None else f"{message} at {position}")
        self.feed_id = feed_id
        self.message = message
        self.position = position
        self.forbidden = forbidden


class FeedForbidden(FeedRefused):
    """A school's MIS client sending for a school it is not bound to."""


class TakenBack(Exception):
    """The feed's reading stalled for longer than its lease, and a worker took it back to read
    it again from the archive: whoever was reading it stops."""


def feed_year(fmt: FeedFormat, academic_year: int | None, day: dt.date) -> int | None:
    """The academic year a feed's records must fall in: the one given, else the year of
    receipt (CSV, JSON); a CTF's YearData say their own."""
    if academic_year is None and fmt != "ctf":
        return academic_year_of(day)
    return academic_year


def read_document(
    body: BinaryIO,
    read: FeedReader,
    *,
    school_urn: str | None,
    academic_year: int | None,
    today: dt.date,
    progress: Callable[[int], None],
    progress_every: int,
) -> ParsedFeed:
    body.seek(0)
    return parse_feed(
        read(body),
        school_urn=school_urn,
        academic_year=academic_year,
        today=today,
        codes=load_codes(),
        progress=progress,
        progress_every=progress_every,
    )


def spool_digest(stream: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def ingest_feed(
    store: Store,
    upload: FeedUpload,
    body: BinaryIO,
    read: FeedReader,
    caller: Client,
    *,
    on_progress: Callable[[int], None] = lambda _: None,
    progress_every: int = 50_000,
) -> FeedReport:
    """Take one feed: archive it, read and validate it, queue it for the applier. The report
    says what was accepted and what was rejected and why; what the marks changed and which
    concerns they raised follow when the feed is applied (GET the feed). The same feed sent
    again answers with the first one's report."""
    today = store.clock.now().date()
    year = feed_year(upload.format, upload.academic_year, today)

    def parse(progress: Callable[[int], None]) -> ParsedFeed:
        return read_document(
            body,
            read,
            school_urn=upload.school_urn,
            academic_year=year,
            today=today,
            progress=progress,
            progress_every=progress_every,
        )

    if upload.size <= SMALL_FEED_BYTES and progress_every >= SMALL_FEED_RECORDS:
        # A school's day: archive, read and queue in one transaction. The archive row is
        # written before the body is read; nothing is acknowledged before it is committed.
        with store.unit_of_work() as uow:
            duplicate = _duplicate(uow, upload, caller)
            if duplicate is not None:
                return duplicate
            feed_id, archive_id, received_at = _archive(uow, upload, body, caller)
            try:
                parsed = parse(lambda _: None)
                check_school(uow, parsed.school_urn, caller)
            except (MalformedDocument, FeedRefused) as exc:
                uow.attendance.update_feed(feed_id, uow.now, status="rejected", error=str(exc))
                uow.archive.keep_head_only(archive_id, body)  # refused whole: a large one's head
                refused: Exception | None = exc
            else:
                refused = None
                report = queue_parsed(uow, feed_id, received_at, upload.format, parsed, year)
        if refused is not None:
            raise _rejected(feed_id, refused)
        return report

    # A large feed: archived and committed first, so its progress can be followed.
    with store.unit_of_work() as uow:
        duplicate = _duplicate(uow, upload, caller)
        if duplicate is not None:
            return duplicate
        feed_id, archive_id, received_at = _archive(uow, upload, body, caller)

    # Each write is the request's only while the feed is still its own (attempt 0): a worker
    # takes back a feed whose progress stopped for longer than the parse lease.
    def progress(records: int) -> None:
        with store.unit_of_work() as uow:
            if not uow.attendance.update_reading(
                feed_id, 0, uow.now, status="parsing", records_received=records
            ):
                raise TakenBack(feed_id)
        on_progress(records)

    try:
        parsed = parse(progress)
        with store.unit_of_work(read_only=True) as uow:
            check_school(uow, parsed.school_urn, caller)
    except TakenBack:
        with store.unit_of_work(read_only=True) as uow:
            return uow.attendance.feed_report(feed_id)
    except (MalformedDocument, FeedRefused) as exc:
        with store.unit_of_work() as uow:
            if uow.attendance.update_reading(
                feed_id, 0, uow.now, status="rejected", error=str(exc)
            ):
                uow.archive.keep_head_only(archive_id, body)  # refused whole: a large one's head
        raise _rejected(feed_id, exc) from exc
    with store.unit_of_work() as uow:
        if not uow.attendance.still_reading(feed_id, 0):
            return uow.attendance.feed_report(feed_id)  # the worker's reading decides
        first = same_feed_taken(uow, feed_id, upload.sha256, parsed.school_urn)
        if first is not None:  # the same feed, sent twice at once: the other was taken
            supersede(uow, feed_id, first, "the same feed, sent twice at once")
            return msgspec.structs.replace(uow.attendance.feed_report(first), duplicate_of=first)
        return queue_parsed(uow, feed_id, received_at, upload.format, parsed, year)


def check_school(uow: UnitOfWork, urn: str, caller: Client) -> None:
    """A school's MIS client sends feeds for its own schools only (bound at creation). Once a
    GIAS extract is loaded, a feed from a school it does not know, or one it says has closed,
    is refused whole: its marks would be kept against a register that cannot be. Before any
    extract is loaded there is nothing to check against."""
    if caller.schools and urn not in caller.schools:
        raise FeedForbidden(
            f"this client sends feeds for {', '.join(caller.schools)} only, not {urn}"
        )
    if not caller.schools and "admin" not in caller.scopes:
        # A school's register is written only by that school's MIS (or an administrator's
        # import): a client bound to no school would write any school's marks.
        raise FeedForbidden(
            "this client is bound to no school: a feed is accepted only from a client bound "
            "to its school (gateway client create --urn)"
        )
    if not uow.registers.has_establishments():
        return
    school = uow.registers.establishment(urn)
    if school is None:
        raise FeedRefused(f"school URN {urn} is not in the GIAS register")
    if school.status == "closed":
        closed = f" on {school.closed_on.isoformat()}" if school.closed_on else ""
        raise FeedRefused(f"school URN {urn} ({school.name}) closed{closed}, according to GIAS")


def _duplicate(uow: UnitOfWork, upload: FeedUpload, caller: Client) -> FeedReport | None:
    """The feed already applied, if this is it again. Authorised before it is de-duplicated:
    a school-bound client is told of an earlier feed only for its own schools, so guessing
    another school's marks reads the same refusal whether the guess is right or not."""
    first = uow.attendance.completed_feed_with(upload.sha256, upload.school_urn)
    if first is None:
        return None
    report = uow.attendance.feed_report(first)
    if caller.schools and report.school_urn not in caller.schools:
        return None
    return msgspec.structs.replace(report, duplicate_of=first)


def same_feed_taken(uow: UnitOfWork, feed_id: str, sha256: str, school_urn: str) -> str | None:
    """Another feed of the same bytes for the same school, queued or applied already."""
    first = uow.attendance.completed_feed_with(sha256, school_urn)
    return first if first != feed_id else None


def supersede(uow: UnitOfWork, feed_id: str, first: str, why: str) -> None:
    """Another feed of the same bytes was taken: this one is not applied (applied once)."""
    uow.attendance.update_feed(
        feed_id, uow.now, status="superseded", error=f"{why}, was taken as feed {first}"
    )
    log.info("attendance feed superseded", feed_id=feed_id, taken=first)


def _archive(
    uow: UnitOfWork, upload: FeedUpload, body: BinaryIO, caller: Client
) -> tuple[str, str, dt.datetime]:
    """The feed's archive (within its sender's daily budget) and its row: (feed id, archive
    id, received at)."""
    archive_id = uow.archive.keep(
        source="attendance_feed",
        content_type=upload.content_type,
        sha256=upload.sha256,
        size=upload.size,
        client_id=caller.id,
        body=body,
        now=uow.now,
    )
    feed_id = uow.attendance.create_feed(
        archive_id=archive_id,
        client_id=caller.id,
        sha256=upload.sha256,
        school_urn=upload.school_urn,
        fmt=upload.format,
        academic_year=upload.academic_year,
        now=uow.now,
    )
    log.info("attendance feed received", feed_id=feed_id, format=upload.format, size=upload.size)
    return feed_id, archive_id, uow.now


def queue_parsed(
    uow: UnitOfWork,
    feed_id: str,
    received_at: dt.datetime,
    fmt: FeedFormat,
    parsed: ParsedFeed,
    year: int | None,
) -> FeedReport:
    """Keep the validated records on the feed for the applier, and report."""
    marks = [(upn, date, am, pm) for upn, date, _, am, pm in parsed.accepted]
    years = parsed.years or [
        year if year is not None else academic_year_of(date) for _, date, *_ in marks
    ]
    staged = StagedFeed(
        feed_id=feed_id,
        school_urn=parsed.school_urn,
        marks=marks,
        years=years,
        identities=[msgspec.convert(i, Identity) for i in parsed.identities],
    )
    dates = [mark[1] for mark in marks]
    report = FeedReport(
        id=feed_id,
        school_urn=parsed.school_urn,
        format=fmt,
        status="queued",
        received_at=received_at,
        completed_at=None,
        records_received=parsed.records,
        records_accepted=len(marks),
        records_rejected=len(parsed.rejected),
        marks_changed=0,
        concerns_raised=0,
        period_start=min(dates, default=None),
        period_end=max(dates, default=None),
        rejected=parsed.rejected[:REJECTIONS_SHOWN],
        notes=parsed.notes,
    )
    uow.attendance.add_rejections(feed_id, parsed.rejected)
    uow.attendance.update_feed(
        feed_id,
        uow.now,
        status="queued",
        staged=_encode_staged(staged),
        records_received=report.records_received,
        records_accepted=report.records_accepted,
        records_rejected=report.records_rejected,
        period_start=report.period_start,
        period_end=report.period_end,
        school_urn=report.school_urn,
        notes=report.notes,
    )
    return report


def _rejected(feed_id: str, exc: Exception) -> FeedRejected:
    return FeedRejected(
        feed_id,
        getattr(exc, "message", str(exc)),
        getattr(exc, "position", None),
        forbidden=isinstance(exc, FeedForbidden),
    )


def decode_staged(blob: bytes) -> StagedFeed:
    return _decode_staged(blob)
