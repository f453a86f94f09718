"""Statutory clocks as stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.model.clock import Clock
from gateway.store.rows import plain
from gateway.store.schema import clocks

# Built once: every timeline entry looks up the case's live clocks.
_LIVE_FOR_CASE = (
    sa.select(clocks)
    .where(clocks.c.case_id == sa.bindparam("k_case"), clocks.c.state.in_(("running", "paused")))
    .order_by(clocks.c.started_at)
)


class ClockRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, clock: Clock) -> None:
        self._connection.execute(clocks.insert(), msgspec.structs.asdict(clock))

    def update(self, clock: Clock) -> None:
        values = msgspec.structs.asdict(clock)
        self._connection.execute(clocks.update().where(clocks.c.id == clock.id).values(**values))

    def mark_told(self, clock_id: str, column: str, now: dt.datetime) -> bool:
        """Set ``breach_sent_at`` or ``due_soon_sent_at`` unless it is set already or the
        clock has moved on; False when another worker told it first or it was met meanwhile.
        The condition is in the UPDATE itself, so two workers escalating at once cannot both
        win on a stale read."""
        if column not in ("breach_sent_at", "due_soon_sent_at"):
            raise ValueError(column)
        # Still running and still as late (or as near) as when it was read: a clock met or
        # paused a moment ago is not announced as breached.
        due = clocks.c.due_at < now if column == "breach_sent_at" else clocks.c.due_at >= now
        result = self._connection.execute(
            clocks.update()
            .where(
                clocks.c.id == clock_id,
                clocks.c[column].is_(None),
                clocks.c.state == "running",
                due,
            )
            .values({column: now})
        )
        return result.rowcount == 1

    def get(self, clock_id: str) -> Clock | None:
        row = self._connection.execute(sa.select(clocks).where(clocks.c.id == clock_id)).first()
        return None if row is None else _clock(plain(row))

    def for_case(self, case_id: str) -> list[Clock]:
        """Every clock of the case, running or ended, in the order they started."""
        rows = self._connection.execute(
            sa.select(clocks)
            .where(clocks.c.case_id == case_id)
            .order_by(clocks.c.started_at, clocks.c.id)
        )
        return [_clock(plain(row)) for row in rows]

    def live_for_case(self, case_id: str) -> list[Clock]:
        rows = self._connection.execute(_LIVE_FOR_CASE, {"k_case": case_id})
        return [_clock(plain(r)) for r in rows]

    def running_due_before(self, moment: dt.datetime) -> list[Clock]:
        rows = self._connection.execute(
            sa.select(clocks)
            .where(clocks.c.state == "running", clocks.c.due_at <= moment)
            .order_by(clocks.c.due_at)
        )
        return [_clock(plain(r)) for r in rows]

    def search(
        self,
        *,
        state: str | None,
        agency: str | None,
        kind: str | None,
        case_id: str | None,
        due_from: dt.datetime | None,
        due_to: dt.datetime | None,
        limit: int,
        within: sa.Select[tuple[str]] | sa.CompoundSelect[tuple[str]] | None = None,
    ) -> list[Clock]:
        """``within``: only these cases' clocks (a bound client's reach)."""
        query = sa.select(clocks)
        if within is not None:
            query = query.where(clocks.c.case_id.in_(within))
        for column, value in (
            ("state", state),
            ("agency", agency),
            ("kind", kind),
            ("case_id", case_id),
        ):
            if value is not None:
                query = query.where(clocks.c[column] == value)
        if due_from is not None:
            query = query.where(clocks.c.due_at >= due_from)
        if due_to is not None:
            query = query.where(clocks.c.due_at < due_to)
        rows = self._connection.execute(query.order_by(clocks.c.due_at).limit(limit))
        return [_clock(plain(r)) for r in rows]

    def started_between(self, start: dt.datetime, end: dt.datetime) -> list[Clock]:
        rows = self._connection.execute(
            sa.select(clocks)
            .where(clocks.c.started_at >= start, clocks.c.started_at < end)
            .order_by(clocks.c.started_at)
        )
        return [_clock(plain(r)) for r in rows]


def _clock(row: dict[str, Any]) -> Clock:
    return msgspec.convert(row, Clock, strict=False)
