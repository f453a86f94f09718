"""The Section 19 routing engine: one function over canonical facts and a policy pack.

Routes are tried in the pack's order and the first whose conditions all hold decides; a pack
ends with a route that matches everything, so every case gets a lead. Pure: no I/O.
"""

from __future__ import annotations

import msgspec

from gateway.model.case import CaseReason
from gateway.model.routing import NotificationType, RoutingDecision
from gateway.rules.pack import ConcernRoute, Conditions, ExclusionKind, PolicyPack


class RoutingFacts(msgspec.Struct, kw_only=True, frozen=True):
    """What is known about a case when it is routed (from the case, the child and the
    notification that brought it)."""

    reason: CaseReason
    ehcp: bool = False
    ehcp_draft: bool = False
    linked_to_send: bool = False
    exclusion: ExclusionKind | None = None
    special_school: bool = False
    return_to_school_pathway: bool = False
    looked_after: bool = False
    open_to_social_care: bool = False
    notification: NotificationType | None = None
    concern: str | None = None
    illness_days: float | None = None
    illness_consecutive: bool | None = None
    # Not on any school's roll (a deletion with no destination), and for how many school days.
    off_roll: bool = False
    school_days_off_roll: int | None = None
    source: str | None = None


# A condition on a figure: at least this much of the fact it names.
AT_LEAST = {
    "illness_days_at_least": "illness_days",
    "school_days_off_roll_at_least": "school_days_off_roll",
}


def matches(when: Conditions, facts: RoutingFacts) -> bool:
    for field in when.__struct_fields__:
        wanted = getattr(when, field)
        if wanted is None:
            continue
        if field in AT_LEAST:
            figure = getattr(facts, AT_LEAST[field])
            if figure is None or figure < wanted:
                return False
        elif getattr(facts, field) != wanted:
            return False
    return True


def route(pack: PolicyPack, facts: RoutingFacts) -> RoutingDecision:
    for rule in pack.routes:
        if matches(rule.when, facts):
            return RoutingDecision(
                lead_team=rule.lead,
                panel=rule.panel,
                rule_id=rule.id,
                policy_ref=f"{pack.authority.seed} {rule.cite}",
                reason=rule.reason,
                caution=rule.caution,
                authority=pack.authority.id,
            )
    raise AssertionError("a validated pack ends with a route that matches every case")


def concern_route(pack: PolicyPack, concern: str) -> ConcernRoute | None:
    """What this authority does with an attendance concern; None when its pack says nothing
    (the concern is still recorded and shown)."""
    for rule in pack.concern_routes:
        if rule.concern == concern:
            return rule
    return None
