"""The transactional outbox: messages written with the change that caused them, claimed by
workers, and their delivery history.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so N workers never take the same row;
on SQLite the engine begins every transaction IMMEDIATE, which serialises claims instead.
A claim is a lease: a worker that dies leaves rows whose lease runs out and are taken again.
The attempt counter moves at claim time, so a message that kills its worker every time still
reaches dead letter instead of looping for ever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.clock import new_id
from gateway.errors import Conflict, NotFound
from gateway.model.delivery import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryDetail,
    OutboundMessage,
)
from gateway.store.pagination import decode_cursor, encode_cursor
from gateway.store.schema import delivery_attempts, outbox
from gateway.store.types import UTCDateTime


class ClaimedMessage(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    destination: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    case_id: str | None
    child_id: str | None
    attempt: int


UNFINISHED = ("pending", "in_flight", "parked", "dead")
# What a person may put back on the queue: "logged" was only written to a log (development).
REPLAYABLE = ("dead", "parked", "logged")
# How long a parked message waits before it is tried again by itself.
PARKED_RECHECK = dt.timedelta(hours=1)


class DeliveryFilter(msgspec.Struct, kw_only=True, frozen=True):
    status: str | None = None
    destination: str | None = None
    kind: str | None = None
    case_id: str | None = None
    child_id: str | None = None


# Built once per dialect: every timeline entry enqueues, and building costs more than running.
_ENQUEUE = {
    name: dialect.insert(outbox)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(outbox.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class OutboxRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        # Children whose lock this transaction holds already: one round trip each, not one
        # per message written (a notice opening a case writes four or five).
        self._locked: set[str] = set()

    def enqueue(self, messages: Iterable[OutboundMessage], now: dt.datetime) -> int:
        """Add messages; one whose idempotency key is known already is left as it is."""
        messages = list(messages)  # read twice below
        rows = [
            {
                "id": new_id(),
                "destination": m.destination,
                "kind": m.kind,
                "idempotency_key": m.idempotency_key,
                "payload": m.payload,
                "case_id": m.case_id,
                "child_id": m.child_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for m in messages
        ]
        if not rows:
            return 0
        if self._dialect == "postgresql":
            # Positions are taken at insert but seen at commit: two transactions writing for one
            # child could commit in the other order. Holding the child's lock to commit makes
            # the second wait, so a child's positions follow commit order. Sorted: no deadlock.
            for child_id in sorted({m.child_id for m in messages if m.child_id} - self._locked):
                self._locked.add(child_id)
                self._connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"outbox:{child_id}"},
                )
        else:
            # SQLite has no identity for a non-key column; its writers are serialised, so the
            # next position is safe to read here.
            top = self._connection.execute(sa.select(sa.func.max(outbox.c.position))).scalar()
            for offset, row in enumerate(rows, start=1):
                row["position"] = (top or 0) + offset
        added = self._connection.execute(_ENQUEUE[self._dialect], rows)
        return len(added.all())

    def claim(
        self,
        worker: str,
        now: dt.datetime,
        lease: dt.timedelta,
        limit: int,
        max_attempts: int | None = None,
        destinations: Collection[str] | None = None,
        sending: Collection[str] = (),
    ) -> list[ClaimedMessage]:
        """``destinations``: the ones this worker can send to. The rest's messages are left
        pending for a worker that can, never taken and settled by one that cannot.
        ``sending``: those it really sends to (not the development log stand-in). There a
        message only logged holds the child's later ones back, as a dead one does, until it
        is replayed or discarded: it would otherwise reach the destination after them."""
        if max_attempts is not None:
            self._bury_lost(now, max_attempts)
        due = sa.or_(
            # Parked messages are looked at again now and then: what a person fixes elsewhere
            # (Mosaic given the child's UPN) frees them without anyone here acting.
            sa.and_(outbox.c.status.in_(("pending", "parked")), outbox.c.next_attempt_at <= now),
            sa.and_(outbox.c.status == "in_flight", outbox.c.claimed_until < now),
        )
        # A child's messages reach each destination in the order they were written: only the
        # head of each child's queue (its earliest unfinished message there) may go. Dead and
        # parked messages are unfinished: they hold the rest back until a person replays or
        # discards them. Heads are found in one grouped pass over the unfinished rows, so a
        # long backlog for one child costs a scan, not a scan per message.
        holding: sa.ColumnElement[bool] = outbox.c.status.in_(UNFINISHED)
        if sending:
            holding = sa.or_(
                holding,
                sa.and_(outbox.c.status == "logged", outbox.c.destination.in_(sorted(sending))),
            )
        heads = (
            sa.select(sa.func.min(outbox.c.position))
            .where(holding, outbox.c.child_id.is_not(None))
            .group_by(outbox.c.destination, outbox.c.child_id)
        )
        at_head = sa.or_(outbox.c.child_id.is_(None), outbox.c.position.in_(heads))
        if destinations is not None:
            at_head = sa.and_(at_head, outbox.c.destination.in_(sorted(destinations)))
        ids = (
            self._connection.execute(
                sa.select(outbox.c.id)
                .where(due, at_head)
                .order_by(outbox.c.next_attempt_at, outbox.c.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        rows = self._connection.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids))
            .values(
                status="in_flight",
                claimed_by=worker,
                claimed_until=now + lease,
                attempts=outbox.c.attempts + 1,
            )
            .returning(
                outbox.c.id,
                outbox.c.destination,
                outbox.c.kind,
                outbox.c.idempotency_key,
                outbox.c.payload,
                outbox.c.case_id,
                outbox.c.child_id,
                outbox.c.attempts,
                outbox.c.created_at,
            )
        ).all()
        ordered = sorted(rows, key=lambda r: (r.created_at, r.id))
        return [
            ClaimedMessage(
                id=r.id,
                destination=r.destination,
                kind=r.kind,
                idempotency_key=r.idempotency_key,
                payload=r.payload,
                case_id=r.case_id,
                child_id=r.child_id,
                attempt=r.attempts,
            )
            for r in ordered
        ]

    def _bury_lost(self, now: dt.datetime, max_attempts: int) -> None:
        """A message whose lease ran out on its last attempt killed or lost its worker that
        many times: it goes to dead letter instead of being taken again for ever."""
        lost = self._connection.execute(
            outbox.update()
            .where(
                outbox.c.status == "in_flight",
                outbox.c.claimed_until < now,
                outbox.c.attempts >= max_attempts,
            )
            .values(
                status="dead",
                next_attempt_at=None,
                claimed_by=None,
                claimed_until=None,
                last_error=f"worker lost during attempt {max_attempts} of {max_attempts}",
            )
            .returning(outbox.c.id, outbox.c.attempts, outbox.c.last_error)
        ).all()
        if lost:
            self._connection.execute(
                delivery_attempts.insert(),
                [
                    {
                        "delivery_id": row.id,
                        "number": row.attempts,
                        "started_at": now,
                        "finished_at": now,
                        "outcome": "permanent",
                        "error": row.last_error,
                        "worker": "lease-expiry",
                    }
                    for row in lost
                ],
            )

    def renew(self, message: ClaimedMessage, worker: str, until: dt.datetime) -> bool:
        """Extend this worker's claim just before a send; False means another worker has
        taken the message back and this one must not send it."""
        result = self._connection.execute(
            outbox.update()
            .where(
                outbox.c.id == message.id,
                outbox.c.status == "in_flight",
                outbox.c.claimed_by == worker,
            )
            .values(claimed_until=until)
        )
        return result.rowcount == 1

    def finish(
        self,
        message: ClaimedMessage,
        worker: str,
        *,
        started_at: dt.datetime,
        now: dt.datetime,
        outcome: AttemptOutcome,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> bool:
        """Record how an attempt ended. False when this worker no longer holds the claim
        (its lease ran out and another worker took the message): the other worker's word wins."""
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
        if outcome == "delivered":
            values |= {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        elif outcome == "logged":
            # Written to the log in development: settled, but never shown as delivered.
            values |= {"status": "logged", "next_attempt_at": None}
        elif outcome == "released":
            # Handed back unsent (graceful shutdown): the attempt does not count.
            values |= {"status": "pending", "attempts": outbox.c.attempts - 1}
        elif outcome == "parked":
            # A look, not an attempt: it does not count towards dead letter.
            values |= {
                "status": "parked",
                "next_attempt_at": now + PARKED_RECHECK,
                "last_error": error,
                "attempts": outbox.c.attempts - 1,
            }
        elif outcome == "discarded":
            values |= {"status": "discarded", "next_attempt_at": None, "last_error": error}
        elif retry_at is not None:
            values |= {"status": "pending", "next_attempt_at": retry_at, "last_error": error}
        else:
            values |= {"status": "dead", "next_attempt_at": None, "last_error": error}
        result = self._connection.execute(
            outbox.update()
            .where(
                outbox.c.id == message.id,
                outbox.c.status == "in_flight",
                outbox.c.claimed_by == worker,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            return False
        if outcome != "released":
            self._connection.execute(
                delivery_attempts.insert().values(
                    delivery_id=message.id,
                    number=message.attempt,
                    started_at=started_at,
                    finished_at=now,
                    outcome=outcome,
                    error=error,
                    worker=worker,
                )
            )
        return True

    def get(self, delivery_id: str) -> DeliveryDetail:
        row = self._connection.execute(sa.select(outbox).where(outbox.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(f"no delivery {delivery_id}")
        history = self._connection.execute(
            sa.select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id == delivery_id)
            .order_by(delivery_attempts.c.id)
        )
        fields = _delivery_fields(row._mapping)
        return msgspec.convert(
            fields
            | {
                "payload": row.payload,
                "history": [
                    {name: h._mapping[name] for name in DeliveryAttempt.__struct_fields__}
                    for h in history
                ],
            },
            DeliveryDetail,
            strict=False,
        )

    def page(
        self, where: DeliveryFilter, cursor: str | None, limit: int
    ) -> tuple[list[Delivery], str | None]:
        query = sa.select(outbox)
        for column in ("status", "destination", "kind", "case_id", "child_id"):
            value = getattr(where, column)
            if value is not None:
                query = query.where(outbox.c[column] == value)
        if cursor is not None:
            at, after_id = decode_cursor(cursor)
            position = sa.tuple_(sa.literal(at, UTCDateTime), sa.literal(after_id))
            query = query.where(sa.tuple_(outbox.c.created_at, outbox.c.id) < position)
        query = query.order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit + 1)
        items = [
            msgspec.convert(_delivery_fields(r._mapping), Delivery, strict=False)
            for r in self._connection.execute(query)
        ]
        more = len(items) > limit
        items = items[:limit]
        return items, (encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    def replay(self, delivery_id: str, now: dt.datetime) -> DeliveryDetail:
        """A dead, parked or only-logged message goes back to the queue with a fresh set of
        attempts."""
        result = self._connection.execute(
            outbox.update()
            .where(outbox.c.id == delivery_id, outbox.c.status.in_(REPLAYABLE))
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        if result.rowcount != 1:
            current = self.get(delivery_id)  # raises NotFound for an unknown id
            raise Conflict(
                "only a dead, parked or logged delivery can be replayed; "
                f"this one is {current.status}"
            )
        return self.get(delivery_id)

    def release_held(self, destination: str, child_id: str, now: dt.datetime) -> int:
        """Once a person has resolved what held them (linked the child to its record there), a
        child's parked and dead messages to one destination go again, in their order."""
        result = self._connection.execute(
            outbox.update()
            .where(
                outbox.c.destination == destination,
                outbox.c.child_id == child_id,
                outbox.c.status.in_(("parked", "dead")),
            )
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        return int(result.rowcount)

    def discard(self, delivery_id: str, reason: str, by: str, now: dt.datetime) -> DeliveryDetail:
        """A dead or parked message a person decides will never go (a note that cannot be
        mapped, a child recorded twice): it stops holding the child's later messages back."""
        result = self._connection.execute(
            outbox.update()
            .where(outbox.c.id == delivery_id, outbox.c.status.in_(REPLAYABLE))
            .values(status="discarded", next_attempt_at=None, last_error=f"discarded: {reason}")
        )
        if result.rowcount != 1:
            current = self.get(delivery_id)
            raise Conflict(
                "only a dead, parked or logged delivery can be discarded; "
                f"this one is {current.status}"
            )
        attempts = self.get(delivery_id).attempts
        self._connection.execute(
            delivery_attempts.insert().values(
                delivery_id=delivery_id,
                number=attempts,
                started_at=now,
                finished_at=now,
                outcome="discarded",
                error=reason,
                worker=by[:100],
            )
        )
        return self.get(delivery_id)

    def backlog(self) -> dict[str, dict[str, int]]:
        """Count of undelivered messages per destination and status."""
        rows = self._connection.execute(
            sa.select(outbox.c.destination, outbox.c.status, sa.func.count())
            .where(outbox.c.status != "delivered")
            .group_by(outbox.c.destination, outbox.c.status)
        )
        counts: dict[str, dict[str, int]] = {}
        for destination, status, count in rows:
            counts.setdefault(destination, {})[status] = int(count)
        return counts

    @property
    def _dialect(self) -> str:
        return self._connection.dialect.name


def _delivery_fields(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in Delivery.__struct_fields__}
