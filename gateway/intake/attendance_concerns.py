"""Raise each attendance concern once per crossing, and close it when the figure recovers.

A concern is identified by (pupil, academic year, threshold, term): a pupil below 90 % all
term has one open persistent-absence concern, not one a day. When the latest figures no
longer cross it, it is resolved; a later crossing raises a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from gateway.attendance.thresholds import ConcernFigures
from gateway.cases.service import SYSTEM, open_case_in, record_entry
from gateway.clock import new_id
from gateway.delivery.routes import messages_for
from gateway.model.case import NewCase
from gateway.model.events import Action, ActionRecorded, ConcernRaised, ConcernResolved, Event
from gateway.model.routing import RoutingDecision
from gateway.rules.engine import concern_route
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import UnitOfWork

ACTOR = "attendance-feed"


class Judgement(msgspec.Struct, kw_only=True):
    """What one school's feed(s) left crossed: UPN -> threshold id -> figures, for every
    pupil they touched."""

    feed_id: str
    school_urn: str
    academic_year: int
    crossed: Mapping[str, Mapping[str, ConcernFigures]]
    raised: int = 0


def settle_concerns(
    uow: UnitOfWork, judgements: Sequence[Judgement], pack: PolicyPack | None = None
) -> None:
    """Raise what is newly crossed, resolve what no longer is, for many schools at once
    (one read of the judged pupils' open concerns, one write of each kind). Sets each
    judgement's ``raised``."""
    now = uow.now
    open_by_school: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for concern in uow.attendance.open_concerns_of({upn for j in judgements for upn in j.crossed}):
        key = (concern["school_urn"], concern["academic_year"])
        open_by_school.setdefault(key, []).append(concern)
    to_raise: list[tuple[Judgement, str, ConcernFigures]] = []
    to_resolve: list[tuple[dict[str, Any], ConcernFigures | None]] = []
    for judgement in judgements:
        crossed = judgement.crossed
        open_now = [
            c
            for c in open_by_school.get((judgement.school_urn, judgement.academic_year), [])
            if c["upn"] in crossed
        ]
        open_keys = {(c["upn"], c["rule_id"], c["term"]) for c in open_now}
        for concern in open_now:
            figures = crossed[concern["upn"]].get(concern["rule_id"])
            if figures is None or figures.term != concern["term"]:
                to_resolve.append((concern, figures))
        for upn, by_rule in crossed.items():
            for figures in by_rule.values():
                if (upn, figures.rule, figures.term) not in open_keys:
                    to_raise.append((judgement, upn, figures))
                    judgement.raised += 1
    if not to_raise and not to_resolve:
        return
    child_of = uow.attendance.child_ids({upn for _, upn, _ in to_raise})
    missing = {upn: j.school_urn for j, upn, _ in to_raise if upn not in child_of}
    child_of |= uow.attendance.add_minimal_children(missing, now)

    rows: list[dict[str, Any]] = []
    events: list[Event] = []
    for judgement, upn, figures in to_raise:
        concern_id = new_id()
        numbers = _numbers(figures)
        routing, case_id = _route(uow, pack, judgement, child_of[upn], figures)
        rows.append(
            {
                "id": concern_id,
                "child_id": child_of[upn],
                "upn": upn,
                "school_urn": judgement.school_urn,
                "kind": figures.rule,
                "academic_year": judgement.academic_year,
                "term": figures.term,
                "status": "open",
                "rule_id": figures.rule,
                "policy_ref": figures.cite,
                "figures": numbers,
                "feed_id": judgement.feed_id,
                "raised_at": now,
                "routing": None if routing is None else msgspec.to_builtins(routing),
                "case_id": case_id,
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
                    academic_year=judgement.academic_year,
                    term=figures.term,
                    figures=numbers,
                    routing=routing,
                    case_id=case_id,
                ),
            )
        )
    for concern, latest in to_resolve:
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
    uow.attendance.resolve_concerns([c["id"] for c, _ in to_resolve], now)
    uow.timeline.append_many(events)
    uow.outbox.enqueue((m for e in events for m in messages_for(e)), now)


def _route(
    uow: UnitOfWork,
    pack: PolicyPack | None,
    judgement: Judgement,
    child_id: str,
    figures: ConcernFigures,
) -> tuple[RoutingDecision | None, str | None]:
    """What the authority's pack does with this concern: tell a lead, or open a case (or
    attach to the child's case already in progress)."""
    rule = concern_route(pack, figures.rule) if pack is not None else None
    if pack is None or rule is None or rule.action == "record_only":
        return None, None
    decision = RoutingDecision(
        lead_team=rule.lead or "",
        panel=rule.panel,
        rule_id=rule.id,
        policy_ref=f"{pack.authority.seed} {rule.cite}",
        reason=rule.reason,
        authority=pack.authority.id,
    )
    if rule.action != "open_case" or rule.reason_code is None:
        return decision, None
    existing = uow.cases.open_for_child(child_id, rule.reason_code)
    if existing is not None:
        record_entry(
            uow,
            existing,
            SYSTEM,
            f"Attendance concern: {figures.rule.replace('_', ' ')} ({_headline(figures)})",
            ActionRecorded(
                action=Action(
                    kind="attendance_concern",
                    description=f"{rule.reason} ({_headline(figures)})",
                    actor=SYSTEM.name,
                )
            ),
        )
        return decision, existing.id
    new = NewCase(
        child_id=child_id,
        reason=rule.reason_code,
        source="attendance_feed",
        summary=f"Attendance concern: {figures.rule.replace('_', ' ')} ({_headline(figures)})",
        school_urn=judgement.school_urn,
    )
    case = open_case_in(uow, new, SYSTEM, decision)
    return decision, case.id


def _headline(figures: ConcernFigures) -> str:
    if figures.rate is not None:
        return f"attendance {figures.rate:.1%}"
    if figures.days is not None:
        return f"{figures.days:g} school days"
    return f"{figures.value:g}"


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
