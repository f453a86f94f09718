"""The append-only timeline of each child: case entries and facts outside any case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.clock import new_id
from gateway.model.events import Event, EventDetail
from gateway.store.schema import timeline_events


class TimelineRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def append(
        self,
        *,
        child_id: str,
        case_id: str | None,
        seq: int | None,
        at: dt.datetime,
        actor: str,
        summary: str,
        why: str | None,
        detail: EventDetail,
    ) -> Event:
        [event] = self.append_many(
            [
                Event(
                    id=new_id(),
                    child_id=child_id,
                    case_id=case_id,
                    seq=seq,
                    at=at,
                    actor=actor,
                    summary=summary,
                    why=why,
                    detail=detail,
                )
            ]
        )
        return event

    def append_many(self, events: Iterable[Event]) -> list[Event]:
        """One round trip for many entries (an attendance feed can raise thousands)."""
        events = list(events)
        if events:
            self._connection.execute(
                timeline_events.insert(),
                [
                    {
                        "id": e.id,
                        "child_id": e.child_id,
                        "case_id": e.case_id,
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "kind": type(e.detail).__struct_config__.tag,
                        "summary": e.summary,
                        "why": e.why,
                        "detail": msgspec.to_builtins(e.detail),
                    }
                    for e in events
                ],
            )
        return events

    def for_case(self, case_id: str) -> list[Event]:
        return self._select(
            sa.select(timeline_events)
            .where(timeline_events.c.case_id == case_id)
            .order_by(timeline_events.c.seq)
        )

    def for_child(self, child_id: str) -> list[Event]:
        return self._select(
            sa.select(timeline_events)
            .where(timeline_events.c.child_id == child_id)
            .order_by(timeline_events.c.at, timeline_events.c.case_id, timeline_events.c.seq)
        )

    def _select(self, query: sa.Select[Any]) -> list[Event]:
        return [_event(row._mapping) for row in self._connection.execute(query)]


def _event(row: Any) -> Event:
    return Event(
        id=row["id"],
        child_id=row["child_id"],
        case_id=row["case_id"],
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        summary=row["summary"],
        why=row["why"],
        detail=msgspec.convert(row["detail"], EventDetail),
    )
