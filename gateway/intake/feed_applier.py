"""The attendance applier: takes queued feeds in batches and applies them (feed_apply), so an
authority's morning of several hundred small feeds costs a handful of statements per batch
rather than per school. It runs beside the delivery worker (``gateway worker``, and
``gateway serve --with-worker``); the CLI import runs it directly. Each turn of its loop first
takes back the feeds whose reading stalled, to read them again from their archive
(feed_resume).

A batch is one transaction. If it fails, its feeds are tried one at a time so a single bad
feed is marked failed (with the error kept) and the others still apply.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import structlog

from gateway.intake.attendance_feed import decode_staged
from gateway.intake.feed_apply import apply_feeds
from gateway.intake.feed_resume import resume_stalled
from gateway.intake.ports import FeedReader
from gateway.logs import error_fields
from gateway.model.attendance import FeedFormat
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store
from mappings.attendance_codes import load_codes

log = structlog.get_logger("gateway.intake.applier")
BATCH = 1000


def apply_queued(store: Store, pack: PolicyPack | None = None, limit: int = BATCH) -> int:
    """Apply up to ``limit`` queued feeds; returns how many were applied or failed (0 when
    none wait or another applier holds the turn)."""
    try:
        return _apply_batch(store, limit, pack)
    except Exception as exc:
        log.error("attendance batch failed; applying its feeds one by one", **error_fields(exc))
    settled = 0
    for _ in range(limit):
        try:
            done = _apply_batch(store, 1, pack)
        except Exception as exc:
            done = _fail_next(store, exc)
        if done == 0:
            break
        settled += done
    return settled


def _apply_batch(store: Store, limit: int, pack: PolicyPack | None) -> int:
    codes = load_codes()
    with store.unit_of_work() as uow:
        if not uow.attendance.hold_applier():
            return 0
        claimed = uow.attendance.claim_queued(limit)
        if not claimed:
            return 0
        applied = apply_feeds(uow, [decode_staged(blob) for _, blob in claimed], codes, pack)
        uow.attendance.complete_feeds(
            {fid: (a.marks_changed, a.concerns_raised) for fid, a in applied.items()}, uow.now
        )
    log.info("attendance feeds applied", feeds=len(claimed))
    return len(claimed)


def _fail_next(store: Store, exc: Exception) -> int:
    with store.unit_of_work() as uow:
        if not uow.attendance.hold_applier():
            return 0
        claimed = uow.attendance.claim_queued(1)
        if not claimed:
            return 0
        feed_id = claimed[0][0]
        uow.attendance.update_feed(
            feed_id, uow.now, status="failed", error=f"not applied: {type(exc).__name__}"
        )
    log.error("attendance feed failed", feed_id=feed_id, **error_fields(exc))
    return 1


class FeedApplier:
    """Runs ``cycle`` until stopped; a failing database does not end the loop. ``readers``
    read stalled feeds again (default: the MIS adapters'); ``parse_lease_seconds`` is
    GATEWAY_FEED_PARSE_LEASE_SECONDS."""

    def __init__(
        self,
        store: Store,
        pack: PolicyPack | None = None,
        poll_seconds: float = 1.0,
        *,
        readers: Mapping[FeedFormat, FeedReader] | None = None,
        parse_lease_seconds: float = 600.0,
    ) -> None:
        if readers is None:
            from adapters.mis.readers import mis_readers

            readers = mis_readers()
        self.store = store
        self.pack = pack
        self.poll_seconds = poll_seconds
        self.readers = readers
        self.parse_lease_seconds = parse_lease_seconds

    def cycle(self) -> int:
        """One turn: feeds whose reading stalled are read again from their archive, then the
        queued feeds are applied. Returns how many feeds it settled."""
        resumed = resume_stalled(self.store, self.readers, self.parse_lease_seconds)
        return resumed + apply_queued(self.store, self.pack)

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                applied = self.cycle()
            except Exception as exc:
                failures += 1
                log.error("applier cycle failed", **error_fields(exc))
                stop.wait(min(60.0, self.poll_seconds * 2**failures))
                continue
            failures = 0
            if applied == 0:
                stop.wait(self.poll_seconds)
