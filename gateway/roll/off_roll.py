"""Children off roll: each open enquiry routed again as its school days off roll mount.

Lancashire's CME officers support the family, and a child "off roll for the equivalent of 60
school days" is a persistent CME who "will automatically trigger for potential nomination at
the half-termly multi-agency CME panels" (001 1.4). The pack says it as a route with
``school_days_off_roll_at_least``; this sweep, run by the worker beside the clock escalations,
counts each enquiry's school days from the deletion (the authority's term dates,
gateway/sla/calendars.py) and records the new decision when the route changes. A panel an
officer already nominated the case to is kept.
"""

from __future__ import annotations

import msgspec
import structlog

from gateway.cases.service import record_routing
from gateway.roll.enquiries import open_enquiries
from gateway.roll.returns import enquiry_facts
from gateway.rules.engine import route
from gateway.sla.calendars import CalendarError, local_date, school_days_between
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.roll")


def review_off_roll(store: Store) -> int:
    """Returns how many enquiries the pack routed differently today."""
    moved = 0
    with store.unit_of_work() as uow:
        pack = uow.pack
        if pack is None:
            return 0
        today = local_date(uow.now)
        for case in open_enquiries(uow):
            child = uow.children.get(case.child_id)
            if child is None or case.off_roll_since is None:
                continue
            try:
                days = school_days_between(case.off_roll_since, today)
            except CalendarError as exc:
                log.warning("off-roll days not counted", case_id=case.id, reason=str(exc))
                continue
            decision = route(pack, enquiry_facts(child, days))
            if case.routing is not None and decision.rule_id == case.routing.rule_id:
                continue
            if decision.panel is None and case.panel is not None:
                decision = msgspec.structs.replace(decision, panel=case.panel)
            uow.cases.set_routing(case.id, decision, uow.now)
            headline = f"Routed again at {days} school days off roll"
            record_routing(uow, uow.cases.get(case.id), decision, headline)
            moved += 1
    return moved


__all__ = ["review_off_roll"]
