"""Taking an attendance feed: archive it, read it, store the marks, update each pupil's
running figures, raise concerns — the whole path in one place (ARCHITECTURE.md steps 1-6).

Phases and their transactions:
1. archive + feed row, committed before anything is parsed (nothing received is lost);
2. read and validate, streaming, writing only progress counts;
3. one transaction: marks and their corrections, identities, figures, concerns, timeline,
   outbox, the rejected-record report and the feed's completion. A failure here leaves the
   archived feed marked failed and nothing half-applied.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import BinaryIO

import msgspec
import structlog

from gateway.attendance.statistics import PupilYear
from gateway.attendance.terms import academic_year as academic_year_of
from gateway.intake.feed_apply import apply_feed
from gateway.intake.feed_parse import FeedRefused, parse_feed
from gateway.intake.ports import FeedReader, MalformedDocument
from gateway.model.attendance import FeedFormat, FeedReport
from gateway.model.client import Client
from gateway.store.unit_of_work import Store
from mappings.attendance_codes import load_codes

log = structlog.get_logger("gateway.intake.attendance")
_decode_state = msgspec.json.Decoder(PupilYear).decode
_encode_state = msgspec.json.Encoder().encode


# The response lists this many rejected records; GET the feed for all of them.
REJECTIONS_SHOWN = 1000


class FeedUpload(msgspec.Struct, kw_only=True, frozen=True):
    """A received body, already spooled to a file and hashed by the caller."""

    format: FeedFormat
    content_type: str
    sha256: str
    size: int
    school_urn: str | None = None
    academic_year: int | None = None


class FeedRejected(Exception):
    """The document is unusable as a whole; the feed is kept (archived, marked rejected)."""

    def __init__(self, feed_id: str, message: str, position: str | None) -> None:
        super().__init__(message if position is None else f"{message} at {position}")
        self.feed_id = feed_id
        self.message = message
        self.position = position


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
    """Take one feed; the same feed sent again answers with the first one's report."""
    with store.unit_of_work() as uow:
        first = uow.attendance.completed_feed_with(upload.sha256, upload.school_urn)
        if first is not None:
            report = uow.attendance.feed_report(first)
            return msgspec.structs.replace(report, duplicate_of=first)
        archive_id = uow.attendance.archive(
            source="attendance_feed",
            content_type=upload.content_type,
            sha256=upload.sha256,
            size=upload.size,
            client_id=caller.id,
            compressed_body=_compress(body),
            now=uow.now,
        )
        received_at = uow.now
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

    def progress(records: int) -> None:
        with store.unit_of_work() as uow:
            uow.attendance.update_feed(feed_id, uow.now, status="parsing", records_received=records)
        on_progress(records)

    codes = load_codes()
    today = store.clock.now().date()
    year = upload.academic_year
    if year is None and upload.format != "ctf":
        year = academic_year_of(today)
    try:
        body.seek(0)
        parsed = parse_feed(
            read(body),
            school_urn=upload.school_urn,
            academic_year=year,
            today=today,
            codes=codes,
            progress=progress,
            progress_every=progress_every,
        )
    except (MalformedDocument, FeedRefused) as exc:
        position = getattr(exc, "position", None)
        message = getattr(exc, "message", str(exc))
        _mark_rejected(store, feed_id, str(exc))
        raise FeedRejected(feed_id, message, position) from exc
    try:
        with store.unit_of_work() as uow:
            applied = apply_feed(uow, feed_id, parsed, year, codes)
            uow.attendance.add_rejections(feed_id, parsed.rejected)
            dates = [row[1] for row in parsed.accepted]
            report = FeedReport(
                id=feed_id,
                school_urn=parsed.school_urn,
                format=upload.format,
                status="completed",
                received_at=received_at,
                completed_at=uow.now,
                records_received=parsed.records,
                records_accepted=len(parsed.accepted),
                records_rejected=len(parsed.rejected),
                marks_changed=applied.marks_changed,
                concerns_raised=applied.concerns_raised,
                period_start=min(dates, default=None),
                period_end=max(dates, default=None),
                rejected=parsed.rejected[:REJECTIONS_SHOWN],
                notes=parsed.notes,
            )
            uow.attendance.update_feed(
                feed_id,
                uow.now,
                status="completed",
                completed_at=uow.now,
                records_received=report.records_received,
                records_accepted=report.records_accepted,
                records_rejected=report.records_rejected,
                marks_changed=report.marks_changed,
                concerns_raised=report.concerns_raised,
                period_start=report.period_start,
                period_end=report.period_end,
                school_urn=report.school_urn,
                notes=report.notes,
            )
        return report
    except Exception:
        _mark_failed(store, feed_id)
        raise


def _compress(body: BinaryIO) -> bytes:
    compressor = zlib.compressobj(level=1)
    parts = []
    body.seek(0)
    while chunk := body.read(1 << 20):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    return b"".join(parts)


def _mark_rejected(store: Store, feed_id: str, error: str) -> None:
    with store.unit_of_work() as uow:
        uow.attendance.update_feed(feed_id, uow.now, status="rejected", error=error[:2000])


def _mark_failed(store: Store, feed_id: str) -> None:
    with store.unit_of_work() as uow:
        uow.attendance.update_feed(feed_id, uow.now, status="failed", error="not applied; see logs")
