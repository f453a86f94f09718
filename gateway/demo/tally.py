"""What the demo has done so far, counted from the store and the simulators, for the line it
prints at the end of each day. Counting from where the effects landed (not from what the
script meant to do) is the point: the line says what the gateway actually did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import sqlalchemy as sa

from gateway.cases.service import SYSTEM
from gateway.store.schema import (
    advice_requests,
    attendance_concerns,
    attendance_feeds,
    cases,
    clocks,
    timeline_events,
)
from gateway.store.unit_of_work import Store
from simulators.mosaic import MosaicSimulator
from simulators.nhs import NhsTeamSimulator


@dataclass(frozen=True)
class Tally:
    feeds: int = 0
    records: int = 0
    rejected: int = 0
    concerns: int = 0
    cases: int = 0
    decisions: int = 0
    advice_asked: int = 0
    advice_answered: int = 0
    bundles_at_nhs: int = 0
    casenotes_in_mosaic: int = 0
    clocks_met: int = 0
    clocks_met_late: int = 0
    clocks_breached: int = 0

    def since(self, earlier: Tally) -> Tally:
        return Tally(
            **{f.name: getattr(self, f.name) - getattr(earlier, f.name) for f in fields(self)}
        )


def tally(store: Store, mosaic: MosaicSimulator, nhs: NhsTeamSimulator) -> Tally:
    with store.unit_of_work(read_only=True) as uow:
        run = uow.connection.execute

        def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
            return int(
                run(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
            )

        feeds, records, rejected = run(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(attendance_feeds.c.records_accepted), 0),
                sa.func.coalesce(sa.func.sum(attendance_feeds.c.records_rejected), 0),
            )
        ).one()
        met = [
            (_utc(met_at), _utc(due_at))
            for met_at, due_at in run(
                sa.select(clocks.c.met_at, clocks.c.due_at).where(clocks.c.state == "met")
            )
        ]
        return Tally(
            feeds=int(feeds),
            records=int(records),
            rejected=int(rejected),
            concerns=count(attendance_concerns),
            cases=count(cases),
            decisions=count(
                timeline_events,
                timeline_events.c.kind == "decision_recorded",
                timeline_events.c.actor != SYSTEM.name,  # routing is the gateway's own
            ),
            advice_asked=count(advice_requests, advice_requests.c.status != "held"),
            advice_answered=count(advice_requests, advice_requests.c.status == "completed"),
            bundles_at_nhs=len(nhs.received),
            casenotes_in_mosaic=len(mosaic.notes),
            clocks_met=len(met),
            clocks_met_late=sum(1 for met_at, due_at in met if met_at > due_at),
            clocks_breached=count(clocks, clocks.c.breach_sent_at.is_not(None)),
        )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


__all__ = ["Tally", "tally"]
