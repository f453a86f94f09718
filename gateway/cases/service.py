"""Case operations, each one business sentence in one unit of work: change the case, add
the timeline entry, queue what the other agencies must hear."""

from __future__ import annotations

import datetime as dt

import msgspec

from gateway.attendance.thresholds import load_thresholds
from gateway.cases.lifecycle import lifecycle
from gateway.cases.receipt import audit_if_backdated, received_moment
from gateway.children.service import check_own_school
from gateway.delivery.routes import messages_for
from gateway.errors import InvalidInput, NotFound
from gateway.model.case import (
    Case,
    CaseKind,
    CasePage,
    CaseSummary,
    Decide,
    NewCase,
    StatusChange,
)
from gateway.model.child import Child
from gateway.model.client import ALL_SCOPES, Client
from gateway.model.events import (
    Action,
    ActionRecorded,
    CaseOpened,
    Decision,
    DecisionRecorded,
    Event,
    EventDetail,
    StatusChanged,
)
from gateway.model.routing import Circumstances, RoutingDecision
from gateway.rules.engine import RoutingFacts, route
from gateway.rules.pack import PolicyPack
from gateway.security.reach import reachable_cases, reaches_child
from gateway.sla import clock_engine
from gateway.sla.calendars import local_date
from gateway.store.cases import CaseFilter
from gateway.store.unit_of_work import Store, UnitOfWork

# Entries the gateway writes itself, by its rules, carry this actor.
SYSTEM = Client(
    id="gateway",
    name="gateway rules",
    scopes=ALL_SCOPES,
    created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
)


OPEN_CASE = "POST /api/v1/cases"


def open_case(store: Store, new: NewCase, caller: Client, pack: PolicyPack | None = None) -> Case:
    """Open a case; unless the caller names a lead, the authority's pack routes it and the
    decision (lead, panel, rule, policy reference, reason) is kept and put on the timeline.
    Its clocks run from ``received_at`` when the request reached the gateway late."""
    with store.unit_of_work() as uow:
        child = uow.children.get(new.child_id)
        if child is None or not reaches_child(uow, caller, child.id):
            raise InvalidInput(f"no child {new.child_id}", field="child_id")
        received = received_moment(new.received_at, uow.now, child)
        _check_circumstances(new.circumstances, child)
        if new.school_urn is None and child.school_urn is not None:
            new = msgspec.structs.replace(new, school_urn=child.school_urn)
        check_own_school(caller, new.school_urn)
        facts = routing_facts(new, child)
        decision = None
        if new.lead_team is None and pack is not None:
            decision = route(pack, facts)
        # The clocks read the same facts the routing did (an off-roll child starts no
        # Section 19 request clock).
        case = open_case_in(uow, new, caller, decision, received_at=received, facts=facts)
        audit_if_backdated(uow, caller, child.id, OPEN_CASE, received)
        return full_case(uow, case.id)


def open_case_in(
    uow: UnitOfWork,
    new: NewCase,
    caller: Client,
    decision: RoutingDecision | None,
    received_at: dt.datetime | None = None,
    kind: CaseKind = "section19",
    off_roll_since: dt.date | None = None,
    facts: RoutingFacts | None = None,
) -> CaseSummary:
    """The case, its opening and its routing on the timeline, in the caller's unit of work
    (an attendance concern opens cases inside the feed's). The clocks its opening starts run
    from ``received_at`` (default: now)."""
    received = received_at or uow.now
    case = uow.cases.add(
        new,
        lifecycle().initial,
        uow.now,
        decision,
        received_at=received,
        kind=kind,
        off_roll_since=off_roll_since,
    )
    detail = CaseOpened(reason=new.reason, source=new.source, lead_team=case.lead_team)
    summary = f"Case opened ({new.reason})"
    _record(uow, case, caller, summary, new.summary, detail, clocks_at=received, facts=facts)
    if decision is not None:
        record_routing(uow, case, decision)
    return case


def decide(store: Store, case_id: str, decision: Decide, caller: Client, pack: PolicyPack) -> Case:
    """Record a panel's outcome (the pack's outcomes: Lincolnshire 003 Process step 4 and its
    equivalents): move the case, note who decided and why, and schedule any follow-up."""
    outcome = next((o for o in pack.outcomes if o.id == decision.outcome), None)
    if outcome is None:
        known = ", ".join(o.id for o in pack.outcomes)
        raise InvalidInput(
            f"{decision.outcome!r} is not an outcome in the {pack.authority.name} policy; "
            f"known: {known}",
            field="outcome",
        )
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        uow.audit.record(
            caller, case.child_id, "POST /api/v1/cases/{case_id}/decisions", "update", uow.now
        )
        if case.status != outcome.status:  # a review may leave the case where it is
            lifecycle().check_move(case.status, outcome.status, field="outcome")
            uow.cases.set_status(case_id, case.status, outcome.status, uow.now)
        moved = uow.cases.get(case_id)
        recorded = Decision(
            outcome=outcome.id,
            decided_by=decision.decided_by,
            reason=decision.reason,
            rule_id=outcome.id,
            policy_ref=f"{pack.authority.seed} {outcome.cite}",
        )
        summary = f"Decision: {outcome.id.replace('_', ' ')}. Next: {outcome.next_step}"
        _record(uow, moved, caller, summary, decision.reason, DecisionRecorded(decision=recorded))
        if outcome.follow_up_days:
            # Counted from the date in England: a summer evening is not yet tomorrow.
            due = local_date(uow.now) + dt.timedelta(days=outcome.follow_up_days)
            action = Action(
                kind=outcome.follow_up or "follow_up",
                description=f"{outcome.next_step} (due {due.isoformat()})",
                actor=moved.lead_team or "lead team",
                due_by=due,
            )
            _record(
                uow,
                moved,
                caller,
                f"Scheduled: {action.kind.replace('_', ' ')}",
                None,
                ActionRecorded(action=action),
            )
        if outcome.requests_advice:
            # A decision to assess asks the advisers in the same transaction (Sutton 004, 3.).
            from gateway.advice.requests import request_advice_in

            request_advice_in(uow, moved, list(outcome.requests_advice), caller, pack)
        return full_case(uow, case_id)


def routing_facts(new: NewCase, child: Child) -> RoutingFacts:
    c = new.circumstances or Circumstances()
    return RoutingFacts(
        reason=new.reason,
        ehcp=child.ehcp_status == "issued",
        ehcp_draft=child.ehcp_status == "draft" or c.ehcp_draft_decision,
        linked_to_send=c.linked_to_send,
        exclusion=c.exclusion,
        special_school=c.special_school,
        return_to_school_pathway=c.return_to_school_pathway,
        looked_after=child.looked_after,
        open_to_social_care=c.open_to_social_care,
        illness_days=c.illness_days,
        illness_consecutive=c.illness_consecutive,
        notification=c.notification,
        concern=c.concern,
        off_roll=c.off_roll,
        school_days_off_roll=c.school_days_off_roll,
        source=new.source,
    )


def _check_circumstances(c: Circumstances | None, child: Child) -> None:
    """What the portal's contract refuses, refused here too: the same facts through either
    door must be judged alike (gateway/rules/facts.py)."""
    if c is None:
        return
    if c.concern is not None and c.concern not in {t.id for t in load_thresholds()}:
        raise InvalidInput(
            f"{c.concern!r} is not an attendance concern "
            "(mappings/data/attendance_thresholds.toml)",
            field="circumstances.concern",
        )
    has_plan = child.ehcp_status in ("draft", "issued") or c.ehcp_draft_decision
    if c.notification == "ehcp_unable_to_attend" and not has_plan:
        raise InvalidInput(
            "ehcp_unable_to_attend is for a child with an EHC plan or a decision to issue a "
            "draft (000 s.2): record the plan on the child, or say ehcp_draft_decision",
            field="circumstances.notification",
        )


def record_routing(
    uow: UnitOfWork, case: CaseSummary, decision: RoutingDecision, headline: str = "Routed"
) -> None:
    """The pack's routing decision on the timeline (and so in Mosaic), by the gateway."""
    panel = f"; heard by {decision.panel}" if decision.panel else ""
    caution = f" Caution: {decision.caution}" if decision.caution else ""
    recorded = Decision(
        outcome=f"lead {decision.lead_team}",
        decided_by=f"{decision.authority} policy",
        reason=decision.reason + caution,
        rule_id=decision.rule_id,
        policy_ref=decision.policy_ref,
    )
    _record(
        uow,
        case,
        SYSTEM,
        f"{headline}: {decision.lead_team} leads{panel}"[:200],
        decision.reason,
        DecisionRecorded(decision=recorded),
    )


def change_status(store: Store, case_id: str, change: StatusChange, caller: Client) -> Case:
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        uow.audit.record(
            caller, case.child_id, "POST /api/v1/cases/{case_id}/status", "update", uow.now
        )
        lifecycle().check_move(case.status, change.status)
        uow.cases.set_status(case_id, case.status, change.status, uow.now)
        detail = StatusChanged(from_status=case.status, to_status=change.status)
        summary = f"Status {case.status} → {change.status}"
        _record(uow, uow.cases.get(case_id), caller, summary, change.reason, detail)
        return full_case(uow, case_id)


def close_if_allowed(uow: UnitOfWork, case: CaseSummary, caller: Client, why: str) -> bool:
    """Close the case when its lifecycle allows it from where it stands (an enquiry whose
    child is back on roll); a case waiting on a panel is left for the panel to decide."""
    if "closed" not in lifecycle().statuses[case.status].next:
        return False
    uow.cases.set_status(case.id, case.status, "closed", uow.now)
    detail = StatusChanged(from_status=case.status, to_status="closed")
    _record(uow, uow.cases.get(case.id), caller, f"Status {case.status} → closed", why, detail)
    return True


def record_action(store: Store, case_id: str, action: Action, caller: Client) -> Event:
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        summary = f"Action: {action.kind.replace('_', ' ')}"
        return _record(
            uow, case, caller, summary, action.description, ActionRecorded(action=action)
        )


def read_case(store: Store, case_id: str, caller: Client, endpoint: str) -> Case:
    with store.unit_of_work() as uow:
        case = full_case(uow, case_id)
        uow.audit.record(caller, case.child_id, endpoint, "read", uow.now)
        return case


def read_timeline(store: Store, case_id: str, caller: Client, endpoint: str) -> list[Event]:
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        uow.audit.record(caller, case.child_id, endpoint, "read", uow.now)
        return uow.cases.timeline(case_id)


def list_cases(
    store: Store, where: CaseFilter, cursor: str | None, limit: int, caller: Client, endpoint: str
) -> CasePage:
    with store.unit_of_work() as uow:
        items, next_cursor = uow.cases.page(where, cursor, limit, reachable_cases(caller))
        for child_id in dict.fromkeys(item.child_id for item in items):
            uow.audit.record(caller, child_id, endpoint, "list", uow.now)
        return CasePage(items=items, next_cursor=next_cursor)


def _record(
    uow: UnitOfWork,
    case: CaseSummary,
    caller: Client,
    summary: str,
    why: str | None,
    detail: EventDetail,
    clocks_at: dt.datetime | None = None,
    facts: RoutingFacts | None = None,
) -> Event:
    """The entry, its outbox messages and the clocks it moves; ``clocks_at`` is when what it
    records happened, when that is not now (a request received before it reached us);
    ``facts`` what the clocks' conditions read, when the caller has them."""
    event, current = uow.cases.append_event_and_read(
        case.id, at=uow.now, actor=caller.name, summary=summary, why=why, detail=detail
    )
    uow.outbox.enqueue(messages_for(event, current), uow.now)
    apply_tokens(uow, current, clock_engine.tokens_of(event), clocks_at, facts)
    return event


def record_entry(
    uow: UnitOfWork,
    case: CaseSummary,
    caller: Client,
    summary: str,
    detail: EventDetail,
    clocks_at: dt.datetime | None = None,
) -> Event:
    """A timeline entry (and its outbox messages) written by another part of the gateway."""
    return _record(uow, case, caller, summary, None, detail, clocks_at)


def apply_tokens(
    uow: UnitOfWork,
    case: CaseSummary,
    tokens: list[str],
    at: dt.datetime | None = None,
    facts: RoutingFacts | None = None,
) -> None:
    """The clocks these events start or stop (the pack's [[clocks]]), each on the timeline.
    ``at`` is when the event happened when that is not now (an exclusion issued yesterday)."""
    for clock, change in clock_engine.on_event(uow, case, tokens, at or uow.now, facts):
        detail = clock_engine.clock_event(clock, change)
        _record(uow, case, SYSTEM, f"Clock {change}: {clock.label}", None, detail)


def full_case(uow: UnitOfWork, case_id: str) -> Case:
    summary = uow.cases.find(case_id)
    if summary is None:
        raise NotFound(f"no case {case_id}")
    fields = {name: getattr(summary, name) for name in CaseSummary.__struct_fields__}
    return Case(**fields, timeline=uow.cases.timeline(case_id), clocks=uow.clocks.for_case(case_id))
