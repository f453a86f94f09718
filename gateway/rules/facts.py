"""The facts each pack's rules read, and the doors each fact can come through.

A rule that reads a fact only one door can carry routes a case differently by how it arrived:
an officer keying a paper referral must be able to say everything a portal notice says. The
list of facts is generated from the packs themselves (every condition of every route and
clock), so a new condition in a pack shows up here, and a test fails until it has a way in
through ``POST /api/v1/cases`` (docs/routing-facts.md is this module's output).
"""

from __future__ import annotations

import msgspec

from gateway.rules.engine import AT_LEAST
from gateway.rules.pack import Conditions, PolicyPack


class Doors(msgspec.Struct, kw_only=True, frozen=True):
    """Where a fact comes from: ``api`` is POST /api/v1/cases (with the child's record);
    ``portal`` a Children's Services Portal notice; ``other`` the doors that are neither."""

    api: str
    portal: str | None = None
    other: str | None = None


DOORS: dict[str, Doors] = {
    "reason": Doors(
        api="`reason`",
        portal="the notice's type (`REASON_BY_TYPE`), `section19_request.reason`, or illness "
        "details",
    ),
    "ehcp": Doors(
        api="the child's `ehcp_status` = `issued` (POST or PATCH /api/v1/children)",
        portal="`ehcp.status` = `issued`",
    ),
    "ehcp_draft": Doors(
        api="the child's `ehcp_status` = `draft`, or `circumstances.ehcp_draft_decision`",
        portal="`ehcp.status` = `draft`, or `ehcp.decision_to_issue_draft`",
    ),
    "linked_to_send": Doors(api="`circumstances.linked_to_send`", portal="`ehcp.linked_to_needs`"),
    "exclusion": Doors(
        api="`circumstances.exclusion`",
        portal="the type `suspension` or `permanent_exclusion`",
    ),
    "special_school": Doors(api="`circumstances.special_school`", portal="`special_school`"),
    "return_to_school_pathway": Doors(
        api="`circumstances.return_to_school_pathway`", portal="`return_to_school_pathway`"
    ),
    "looked_after": Doors(
        api="the child's `looked_after` (POST or PATCH /api/v1/children)",
        portal="`looked_after`",
    ),
    "open_to_social_care": Doors(
        api="`circumstances.open_to_social_care`", portal="`open_to_social_care`"
    ),
    "notification": Doors(api="`circumstances.notification`", portal="`type`"),
    "concern": Doors(
        api="`circumstances.concern`",
        other="an attendance concern the applier raised (the pack's `concern_routes`)",
    ),
    "illness_days": Doors(api="`circumstances.illness_days`", portal="`illness.days_absent`"),
    "illness_consecutive": Doors(
        api="`circumstances.illness_consecutive`", portal="`illness.consecutive`"
    ),
    "source": Doors(api="`source`", portal="always `portal`"),
    "off_roll": Doors(
        api="`circumstances.off_roll`",
        other="a deletion from a school's admission register with no destination named "
        "(POST /api/v1/roll/deletions, JSON or a Common Transfer File of leavers; a portal "
        "notice of type `deletion_from_roll`)",
    ),
    "school_days_off_roll": Doors(
        api="`circumstances.school_days_off_roll`",
        other="counted each school day from the deletion (gateway/roll/off_roll.py)",
    ),
}


def facts_read(pack: PolicyPack) -> dict[str, list[str]]:
    """Each fact the pack's routes and clocks read, with the ids of the rules that read it."""
    read: dict[str, list[str]] = {}
    conditions: list[tuple[str, Conditions]] = [(r.id, r.when) for r in pack.routes]
    conditions += [(c.id, c.when) for c in pack.clocks]
    for rule_id, when in conditions:
        for field in when.__struct_fields__:
            if getattr(when, field) is not None:
                fact = AT_LEAST.get(field, field)
                read.setdefault(fact, []).append(rule_id)
    return dict(sorted(read.items()))


def facts_table(packs: list[PolicyPack]) -> str:
    """docs/routing-facts.md: every fact a pack reads, the rules reading it, and its doors."""
    lines = [
        "# The facts the policy packs read, and where each comes from",
        "",
        "Generated from the packs by `gateway policy facts` (gateway/rules/facts.py); a test",
        "fails when this file and the packs disagree, or when a fact has no way in through",
        "`POST /api/v1/cases`.",
        "",
        "| fact | read by | POST /api/v1/cases | portal notice | other doors |",
        "| --- | --- | --- | --- | --- |",
    ]
    by_fact: dict[str, list[str]] = {}
    for pack in packs:
        for fact, rules in facts_read(pack).items():
            by_fact.setdefault(fact, []).extend(rules)
    for fact in sorted(by_fact):
        doors = DOORS.get(fact, Doors(api="—"))
        lines.append(
            f"| `{fact}` | {', '.join(f'`{r}`' for r in by_fact[fact])} | {doors.api} "
            f"| {doors.portal or '—'} | {doors.other or '—'} |"
        )
    return "\n".join(lines) + "\n"


__all__ = ["DOORS", "Doors", "facts_read", "facts_table"]
