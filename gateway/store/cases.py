"""Cases and their append-only timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.clock import new_id
from gateway.errors import Conflict, NotFound
from gateway.model.case import CaseSummary, NewCase
from gateway.model.events import Event, EventDetail
from gateway.model.routing import RoutingDecision
from gateway.store.pagination import decode_cursor, encode_cursor
from gateway.store.schema import cases
from gateway.store.timeline import TimelineRepository
from gateway.store.types import UTCDateTime

# A case in one of these statuses is no longer in progress.
FINISHED = ("closed", "not_agreed")


class CaseFilter(msgspec.Struct, kw_only=True, frozen=True):
    kind: str | None = None
    status: str | None = None
    reason: str | None = None
    lead_team: str | None = None
    school_urn: str | None = None
    child_id: str | None = None
    opened_from: dt.datetime | None = None
    opened_to: dt.datetime | None = None


# Built once: every timeline entry runs it, and building a statement costs more than running it.
_NEXT_SEQ = (
    cases.update()
    .where(cases.c.id == sa.bindparam("k_case"))
    .values(last_seq=cases.c.last_seq + 1, updated_at=sa.bindparam("k_at"))
    .returning(*cases.c)
)


class CaseRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(
        self,
        new: NewCase,
        status: str,
        now: dt.datetime,
        routing: RoutingDecision | None = None,
        received_at: dt.datetime | None = None,
        kind: str = "section19",
        off_roll_since: dt.date | None = None,
    ) -> CaseSummary:
        case_id = new_id()
        row = self._connection.execute(
            cases.insert()
            .values(
                id=case_id,
                child_id=new.child_id,
                reason=new.reason,
                source=new.source,
                status=status,
                lead_team=new.lead_team if routing is None else routing.lead_team,
                panel=None if routing is None else routing.panel,
                routing=None if routing is None else msgspec.to_builtins(routing),
                school_urn=new.school_urn,
                summary=new.summary,
                opened_at=now,
                received_at=received_at or now,
                kind=kind,
                off_roll_since=off_roll_since,
                updated_at=now,
                last_seq=0,
            )
            .returning(*cases.c)
        )
        return _summary(row.one()._mapping)

    def find(self, case_id: str) -> CaseSummary | None:
        row = self._connection.execute(sa.select(cases).where(cases.c.id == case_id)).first()
        return None if row is None else _summary(row._mapping)

    def get(self, case_id: str) -> CaseSummary:
        case = self.find(case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def open_for_child(self, child_id: str, reason: str | None = None) -> CaseSummary | None:
        """The child's most recent case still in progress (for this reason), if any."""
        query = sa.select(cases).where(
            cases.c.child_id == child_id, cases.c.status.not_in(FINISHED)
        )
        if reason is not None:
            query = query.where(cases.c.reason == reason)
        row = self._connection.execute(query.order_by(cases.c.opened_at.desc()).limit(1)).first()
        return None if row is None else _summary(row._mapping)

    def set_status(self, case_id: str, expected: str, status: str, now: dt.datetime) -> None:
        """Compare-and-set, so two officers moving the same case cannot both win."""
        result = self._connection.execute(
            cases.update()
            .where(cases.c.id == case_id, cases.c.status == expected)
            .values(status=status, updated_at=now)
        )
        if result.rowcount != 1:
            raise Conflict(f"case {case_id} changed while this request ran; read it again")

    def set_panel(self, case_id: str, panel: str, now: dt.datetime) -> None:
        """The panel that will hear the case (an officer's nomination, a threshold reached)."""
        self._connection.execute(
            cases.update().where(cases.c.id == case_id).values(panel=panel, updated_at=now)
        )

    def end_off_roll(self, case_id: str, now: dt.datetime) -> None:
        """The enquiry's child is on a roll again: no more days off roll are counted."""
        self._connection.execute(
            cases.update().where(cases.c.id == case_id).values(off_roll_since=None, updated_at=now)
        )

    def set_routing(self, case_id: str, routing: RoutingDecision, now: dt.datetime) -> None:
        """A new routing decision once the facts moved on (days off roll reaching the pack's
        threshold): lead, panel and the decision itself."""
        self._connection.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .values(
                lead_team=routing.lead_team,
                panel=routing.panel,
                routing=msgspec.to_builtins(routing),
                updated_at=now,
            )
        )

    def append_event(
        self,
        case_id: str,
        *,
        at: dt.datetime,
        actor: str,
        summary: str,
        why: str | None,
        detail: EventDetail,
    ) -> Event:
        return self.append_event_and_read(
            case_id, at=at, actor=actor, summary=summary, why=why, detail=detail
        )[0]

    def append_event_and_read(
        self,
        case_id: str,
        *,
        at: dt.datetime,
        actor: str,
        summary: str,
        why: str | None,
        detail: EventDetail,
    ) -> tuple[Event, CaseSummary]:
        """The event and the case as it stands after it, from the one statement that numbers
        the event: its outbound messages need the case, and reading it again costs a round
        trip on every timeline entry."""
        # Bumping last_seq locks the case row, so timeline numbers never collide or skip.
        row = self._connection.execute(_NEXT_SEQ, {"k_case": case_id, "k_at": at}).one()
        event = TimelineRepository(self._connection).append(
            child_id=row.child_id,
            case_id=case_id,
            seq=row.last_seq,
            at=at,
            actor=actor,
            summary=summary,
            why=why,
            detail=detail,
        )
        return event, _summary(row._mapping)

    def timeline(self, case_id: str) -> list[Event]:
        return TimelineRepository(self._connection).for_case(case_id)

    def page(
        self,
        where: CaseFilter,
        cursor: str | None,
        limit: int,
        within: sa.Select[tuple[str]] | sa.CompoundSelect[tuple[str]] | None = None,
    ) -> tuple[list[CaseSummary], str | None]:
        """``within``: only these cases (a bound client's reach)."""
        query = sa.select(cases)
        if within is not None:
            query = query.where(cases.c.id.in_(within))
        for column in ("kind", "status", "reason", "lead_team", "school_urn", "child_id"):
            value = getattr(where, column)
            if value is not None:
                query = query.where(cases.c[column] == value)
        if where.opened_from is not None:
            query = query.where(cases.c.opened_at >= where.opened_from)
        if where.opened_to is not None:
            query = query.where(cases.c.opened_at < where.opened_to)
        if cursor is not None:
            at, after_id = decode_cursor(cursor)
            position = sa.tuple_(sa.literal(at, UTCDateTime), sa.literal(after_id))
            query = query.where(sa.tuple_(cases.c.opened_at, cases.c.id) < position)
        query = query.order_by(cases.c.opened_at.desc(), cases.c.id.desc()).limit(limit + 1)
        rows = [_summary(row._mapping) for row in self._connection.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].opened_at, rows[-1].id) if more else None
        return rows, next_cursor


def _summary(row: Any) -> CaseSummary:
    return msgspec.convert(
        {name: row[name] for name in CaseSummary.__struct_fields__}, CaseSummary, strict=False
    )
