"""Clocks start, stop and move from events on a case's timeline, never by hand: the pack's
[[clocks]] say which event starts each promise and which events keep it (ARCHITECTURE.md
"case + SLA"). Each transition is itself a timeline entry.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from gateway.clock import new_id
from gateway.model.case import CaseSummary
from gateway.model.clock import Clock
from gateway.model.events import (
    ActionRecorded,
    CaseOpened,
    ClockChanged,
    DecisionRecorded,
    Event,
    StatusChanged,
)
from gateway.rules.engine import RoutingFacts, matches
from gateway.rules.pack import ClockRule, PolicyPack
from gateway.sla.calendars import due_at, extend
from gateway.store.unit_of_work import UnitOfWork


def tokens_of(event: Event) -> list[str]:
    """The event tokens a timeline entry stands for (gateway/rules/pack.py EventToken)."""
    detail = event.detail
    if isinstance(detail, CaseOpened):
        return ["case_opened"]
    if isinstance(detail, StatusChanged):
        return [f"status:{detail.to_status}"]
    if isinstance(detail, DecisionRecorded):
        return [f"decision:{detail.decision.outcome}"]
    if isinstance(detail, ActionRecorded):
        return [f"action:{detail.action.kind}"]
    return []


def on_event(
    uow: UnitOfWork,
    case: CaseSummary,
    tokens: list[str],
    at: dt.datetime,
    facts: RoutingFacts | None = None,
) -> list[tuple[Clock, str]]:
    """Start, meet or cancel the case's clocks for these tokens; returns (clock, change).
    ``facts`` are what a clock's ``when`` is matched on: the intake's facts where it has them
    (a permanent exclusion, not a suspension), else the case's reason."""
    pack = uow.pack
    if pack is None or not tokens or not pack.clocks:
        return []
    changes: list[tuple[Clock, str]] = []
    live = uow.clocks.live_for_case(case.id)
    ended: set[str] = set()
    for clock in live:
        rule = _rule(pack, clock.kind)
        if rule is None:
            continue
        if any(token in rule.stops_on for token in tokens):
            met = _replace(clock, state="met", met_at=at)
            changes.append((met, "met late" if at > clock.due_at else "met"))
            ended.add(clock.kind)
            if rule.repeats and not any(token in rule.cancels_on for token in tokens):
                # The next meeting is due a full period after this one was held.
                changes.append((_start(pack, rule, case, at), "started"))
        elif any(token in rule.cancels_on for token in tokens):
            changes.append((_replace(clock, state="cancelled", cancelled_at=at), "cancelled"))
            ended.add(clock.kind)
    restarted = {c.kind for c, change in changes if change == "started"}
    running_kinds = ({c.kind for c in live} - ended) | restarted
    facts = facts or RoutingFacts(reason=case.reason, off_roll=case.kind == "cme_enquiry")
    for rule in pack.clocks:
        if (
            any(token in rule.starts_on for token in tokens)
            and rule.id not in running_kinds
            and matches(rule.when, facts)
        ):
            changes.append((_start(pack, rule, case, at), "started"))
    for clock, change in changes:
        if change == "started":
            uow.clocks.add(clock)
        else:
            uow.clocks.update(clock)
    return changes


def pause(clock: Clock, reason: str, at: dt.datetime) -> Clock:
    return _replace(clock, state="paused", paused_at=at, pause_reason=reason)


def resume(clock: Clock, at: dt.datetime) -> Clock:
    """The due moment moves by the time paused, counted on the clock's own calendar."""
    assert clock.paused_at is not None
    moved = extend(clock.due_at, clock.calendar, clock.paused_at, at)
    return _replace(clock, state="running", paused_at=None, pause_reason=None, due_at=moved)


def clock_event(clock: Clock, change: str, reason: str | None = None) -> ClockChanged:
    return ClockChanged(
        clock_id=clock.id,
        kind=clock.kind,
        label=clock.label,
        change=change,
        due_at=clock.due_at,
        reason=reason,
        agency=clock.agency,
        owner_team=clock.owner_team,
        policy_ref=clock.policy_ref,
    )


def _start(pack: PolicyPack, rule: ClockRule, case: CaseSummary, at: dt.datetime) -> Clock:
    return Clock(
        id=new_id(),
        case_id=case.id,
        kind=rule.id,
        label=rule.label,
        agency=rule.agency,
        owner_team=rule.owner or case.lead_team,
        calendar=rule.calendar,
        length=rule.length,
        policy_ref=f"{pack.authority.seed} {rule.cite}",
        state="running",
        started_at=at,
        due_at=due_at(rule.calendar, at, rule.length),
    )


def _rule(pack: PolicyPack, kind: str) -> ClockRule | None:
    return next((rule for rule in pack.clocks if rule.id == kind), None)


def _replace(clock: Clock, **changes: object) -> Clock:
    return msgspec.structs.replace(clock, **changes)
