"""Feeds whose reading was cut off, read again from their archive.

A large feed is archived and committed before it is read, and its progress is written every
50,000 records (gateway/intake/attendance_feed.py). If the process reading it dies, or its
sender goes away, the feed would stay ``parsing`` for ever. Once it has shown no progress for
longer than the parse lease (GATEWAY_FEED_PARSE_LEASE_SECONDS), the worker takes it back and
reads it again from its archive, as it was received, against the day it was received: nothing
received is lost. Then:

- the same feed sent again meanwhile, and taken: this one is ``superseded`` (applied once);
- a later feed from the same school applied meanwhile: this one is ``failed``, not applied
  (its older marks would overwrite the newer ones), saying to send it again if still wanted;
- a document that cannot be read, or a school it may not send for: ``rejected``, as the
  request would have answered;
- otherwise it is queued for the applier, with a note saying it was read again.

A feed whose reading stops every time (the worker reading it dies too) is taken back at most
``MAX_READS - 1`` times, then failed with a message saying how to send it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO

import structlog
from sqlalchemy.exc import SQLAlchemyError

from gateway.intake.attendance_feed import (
    TakenBack,
    check_school,
    feed_year,
    queue_parsed,
    read_document,
    same_feed_taken,
    supersede,
)
from gateway.intake.feed_parse import FeedRefused
from gateway.intake.ports import FeedReader, MalformedDocument
from gateway.logs import error_fields
from gateway.model.attendance import FeedFormat
from gateway.model.client import Client
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.intake.resume")

# Readings of one feed in all: the request's, then the worker's.
MAX_READS = 3
PROGRESS_EVERY = 50_000


def resume_stalled(
    store: Store,
    readers: Mapping[FeedFormat, FeedReader],
    lease_seconds: float,
    limit: int = 10,
) -> int:
    """Take back up to ``limit`` feeds whose reading stalled; returns how many were settled
    (queued, superseded, rejected or failed)."""
    settled = 0
    for _ in range(limit):
        if not _resume_next(store, readers, dt.timedelta(seconds=lease_seconds)):
            break
        settled += 1
    return settled


def _resume_next(
    store: Store, readers: Mapping[FeedFormat, FeedReader], lease: dt.timedelta
) -> bool:
    with store.unit_of_work() as uow:
        stalled = uow.attendance.next_stalled(uow.now - lease)
        if stalled is None:
            return False
        feed_id: str = stalled["id"]
        readings = stalled["parse_attempts"] + 1
        since = stalled["updated_at"].isoformat()
        if readings >= MAX_READS:
            uow.attendance.update_feed(
                feed_id,
                uow.now,
                status="failed",
                error=(
                    f"its reading stopped {readings} times without finishing (the last at "
                    f"{since}), so it is not read again: send it again, split into smaller "
                    "feeds if it is very large"
                ),
            )
            log.warning("stalled attendance feed failed", feed_id=feed_id, readings=readings)
            return True
        attempt = stalled["parse_attempts"] + 1
        uow.attendance.update_feed(
            feed_id, uow.now, status="parsing", records_received=0, parse_attempts=attempt
        )
        caller = uow.clients.by_id(stalled["client_id"]) or _unregistered(stalled)
    log.warning(
        "attendance feed stalled; reading it again from its archive",
        feed_id=feed_id,
        no_progress_since=since,
        records_read=stalled["records_received"],
        attempt=attempt,
    )
    note = (
        f"its reading was cut off after {stalled['records_received']} records (no progress "
        f"since {since}); read again from its archive by the gateway's worker"
    )
    with _unpacked(stalled["archived_body"]) as body:
        try:
            _read_again(store, stalled, attempt, body, readers, caller, note)
        except TakenBack:
            pass  # another worker holds it now
        except SQLAlchemyError:
            raise  # the database, not the feed: it is taken back again after the lease
        except Exception as exc:
            with store.unit_of_work() as uow:
                uow.attendance.update_reading(
                    feed_id,
                    attempt,
                    uow.now,
                    status="failed",
                    error=f"could not be read again from its archive: {type(exc).__name__}",
                )
            log.error("stalled attendance feed not read", feed_id=feed_id, **error_fields(exc))
    return True


def _read_again(
    store: Store,
    stalled: dict[str, Any],
    attempt: int,
    body: BinaryIO,
    readers: Mapping[FeedFormat, FeedReader],
    caller: Client,
    note: str,
) -> None:
    feed_id: str = stalled["id"]
    received_at: dt.datetime = stalled["received_at"]
    fmt: FeedFormat = stalled["format"]
    year = feed_year(fmt, stalled["academic_year"], received_at.date())

    def progress(records: int) -> None:
        with store.unit_of_work() as uow:
            if not uow.attendance.update_reading(
                feed_id, attempt, uow.now, records_received=records
            ):
                raise TakenBack(feed_id)

    try:
        parsed = read_document(
            body,
            readers[fmt],
            school_urn=stalled["school_urn"],
            academic_year=year,
            today=received_at.date(),  # judged as it would have been on the day it came
            progress=progress,
            progress_every=PROGRESS_EVERY,
        )
        with store.unit_of_work(read_only=True) as uow:
            check_school(uow, parsed.school_urn, caller)
    except (MalformedDocument, FeedRefused) as exc:
        with store.unit_of_work() as uow:
            if uow.attendance.update_reading(
                feed_id, attempt, uow.now, status="rejected", error=str(exc)
            ):
                uow.archive.keep_head_only(stalled["archive_id"], body)
        log.info("stalled attendance feed rejected", feed_id=feed_id)
        return
    with store.unit_of_work() as uow:
        # After any batch being applied now: a later feed applied is seen, or applies after.
        uow.attendance.wait_for_applier()
        if not uow.attendance.still_reading(feed_id, attempt):
            return
        first = same_feed_taken(uow, feed_id, stalled["sha256"], parsed.school_urn)
        if first is not None:
            supersede(uow, feed_id, first, f"{note}; the same feed, sent again meanwhile")
            return
        later = uow.attendance.later_feed_applied(parsed.school_urn, received_at, feed_id)
        if later is not None:
            uow.attendance.update_feed(
                feed_id,
                uow.now,
                status="failed",
                school_urn=parsed.school_urn,
                error=(
                    f"{note}, but a later feed from school {parsed.school_urn} has been applied "
                    f"since (feed {later}), and this one's older marks could overwrite its "
                    "newer ones, so it was not applied: send it again if its marks are still "
                    "wanted"
                ),
            )
            log.warning("stalled attendance feed not applied", feed_id=feed_id, later=later)
            return
        parsed.notes.append(note)
        queue_parsed(uow, feed_id, received_at, fmt, parsed, year)
    log.info("stalled attendance feed read again and queued", feed_id=feed_id)


def _unregistered(stalled: dict[str, Any]) -> Client:
    """A feed taken by `gateway import attendance`: an operator at the gateway's own command
    line, who may import any school's register (gateway/cli.py takes it as an administrator)."""
    return Client(
        id=stalled["client_id"],
        name="unregistered",
        scopes=("admin",),
        created_at=stalled["received_at"],
    )


@contextmanager
def _unpacked(compressed: bytes) -> Iterator[BinaryIO]:
    """The archived body, decompressed to a temporary file (a large feed never sits whole in
    memory twice)."""
    inflater = zlib.decompressobj()
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as spool:
        view = memoryview(compressed)
        for start in range(0, len(view), 1 << 20):
            spool.write(inflater.decompress(view[start : start + (1 << 20)]))
        spool.write(inflater.flush())
        spool.seek(0)
        yield spool  # type: ignore[misc]
