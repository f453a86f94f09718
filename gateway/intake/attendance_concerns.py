"""Raise each attendance concern once per crossing, and close it when the figure recovers.

A concern is identified by (pupil, academic year, threshold, term): a pupil below 90 % all
term has one open persistent-absence concern, not one a day. When the latest figures no
longer cross it, it is resolved; a later crossing raises a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

from gateway.attendance.thresholds import ConcernFigures
from gateway.clock import new_id
from gateway.delivery.routes import messages_for
from gateway.model.events import ConcernRaised, ConcernResolved, Event
from gateway.store.unit_of_work import UnitOfWork

ACTOR = "attendance-feed"


def settle_concerns(
    uow: UnitOfWork,
    *,
    feed_id: str,
    school_urn: str,
    academic_year: int,
    crossed: Mapping[str, Mapping[str, ConcernFigures]],
) -> int:
    """``crossed``: UPN -> threshold id -> figures, for every pupil the feed touched.
    Returns how many concerns were raised."""
    now = uow.now
    open_now = [
        c for c in uow.attendance.open_concerns(school_urn, academic_year) if c["upn"] in crossed
    ]
    open_keys = {(c["upn"], c["rule_id"], c["term"]) for c in open_now}
    to_resolve = [
        c
        for c in open_now
        if (figures := crossed.get(c["upn"], {}).get(c["rule_id"])) is None
        or figures.term != c["term"]
    ]
    to_raise = [
        (upn, figures)
        for upn, by_rule in crossed.items()
        for figures in by_rule.values()
        if (upn, figures.rule, figures.term) not in open_keys
    ]
    child_of = uow.attendance.child_ids({upn for upn, _ in to_raise})
    missing = {upn: school_urn for upn, _ in to_raise if upn not in child_of}
    child_of |= uow.attendance.add_minimal_children(missing, now)

    rows: list[dict[str, Any]] = []
    events: list[Event] = []
    for upn, figures in to_raise:
        concern_id = new_id()
        numbers = _numbers(figures)
        rows.append(
            {
                "id": concern_id,
                "child_id": child_of[upn],
                "upn": upn,
                "school_urn": school_urn,
                "kind": figures.rule,
                "academic_year": academic_year,
                "term": figures.term,
                "status": "open",
                "rule_id": figures.rule,
                "policy_ref": figures.cite,
                "figures": numbers,
                "feed_id": feed_id,
                "raised_at": now,
            }
        )
        events.append(
            _event(
                child_of[upn],
                now,
                f"Attendance concern: {figures.rule.replace('_', ' ')}",
                ConcernRaised(
                    concern_id=concern_id,
                    kind=figures.rule,
                    rule_id=figures.rule,
                    policy_ref=figures.cite,
                    academic_year=academic_year,
                    term=figures.term,
                    figures=numbers,
                ),
            )
        )
    for concern in to_resolve:
        latest = crossed.get(concern["upn"], {}).get(concern["rule_id"])
        events.append(
            _event(
                concern["child_id"],
                now,
                f"Attendance concern cleared: {concern['kind'].replace('_', ' ')}",
                ConcernResolved(
                    concern_id=concern["id"],
                    kind=concern["kind"],
                    figures=_numbers(latest) if latest else {},
                ),
            )
        )
    uow.attendance.add_concerns(rows)
    uow.attendance.resolve_concerns([c["id"] for c in to_resolve], now)
    uow.timeline.append_many(events)
    uow.outbox.enqueue((m for e in events for m in messages_for(e)), now)
    return len(rows)


def _event(child_id: str, at: dt.datetime, summary: str, detail: Any) -> Event:
    return Event(
        id=new_id(),
        child_id=child_id,
        case_id=None,
        seq=None,
        at=at,
        actor=ACTOR,
        summary=summary,
        why=None,
        detail=detail,
    )


def _numbers(figures: ConcernFigures) -> dict[str, float | int | str | None]:
    """The figures a reader needs, without the citation (kept in its own column)."""
    raw = msgspec.to_builtins(figures)
    return {k: v for k, v in raw.items() if k not in {"cite"} and v is not None}
