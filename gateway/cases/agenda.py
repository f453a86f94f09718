"""A panel's agenda for a meeting: new referrals, reviews due, actions from earlier meetings.

The standing order follows Worcestershire's CCAS agenda (000 "weekly CCAS panel": welcomes,
actions from the last meeting, new referrals, existing placements, AOB); the review cycle is
the panel's own (`review_every_weeks` in the pack: CCAS 12 weeks, Essex 6).
"""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa

from gateway.errors import NotFound
from gateway.model.case import CaseSummary
from gateway.model.client import Client
from gateway.model.events import Action, ActionRecorded
from gateway.rules.pack import PolicyPack
from gateway.security.reach import reachable_cases
from gateway.store.cases import FINISHED
from gateway.store.schema import cases, timeline_events
from gateway.store.unit_of_work import Store

AWAITING = ("received", "acknowledged", "awaiting_panel", "multi_agency_meeting")
ON_PROVISION = ("agreed", "provision_arranged", "not_agreed_at_this_time")
STANDING_ORDER = [
    "Welcome and introductions",
    "Actions from the last meeting",
    "New referrals",
    "Existing placements and reviews due",
    "Any other business",
]


class ReviewDue(msgspec.Struct, kw_only=True, frozen=True):
    case: CaseSummary
    last_decided: dt.date
    due: dt.date


class ActionDue(msgspec.Struct, kw_only=True, frozen=True):
    case_id: str
    action: Action
    recorded_at: dt.datetime


class Agenda(msgspec.Struct, kw_only=True, frozen=True):
    panel: str
    panel_name: str
    date: dt.date
    meets: str
    standing_order: list[str]
    new_referrals: list[CaseSummary]
    reviews_due: list[ReviewDue]
    actions_due: list[ActionDue]


def build_agenda(
    store: Store, pack: PolicyPack, panel: str, date: dt.date, caller: Client, endpoint: str
) -> Agenda:
    found = pack.panels.get(panel)
    if found is None:
        known = ", ".join(pack.panels) or "none"
        raise NotFound(
            f"no panel {panel} in the {pack.authority.name} policy; panels: {known}",
            field="panel",
        )
    with store.unit_of_work() as uow:
        query = sa.select(cases.c.id).where(cases.c.panel == panel, cases.c.status.not_in(FINISHED))
        if (reach := reachable_cases(caller)) is not None:
            query = query.where(cases.c.id.in_(reach))
        rows = uow.connection.execute(query.order_by(cases.c.opened_at)).scalars()
        open_cases = [uow.cases.get(case_id) for case_id in rows]
        decided = _last_decided(uow.connection, [c.id for c in open_cases])
        actions = _actions(uow.connection, [c.id for c in open_cases], date)
        for child_id in dict.fromkeys(c.child_id for c in open_cases):
            uow.audit.record(caller, child_id, endpoint, "list", uow.now)
    cycle = dt.timedelta(weeks=found.review_every_weeks) if found.review_every_weeks else None
    reviews = []
    for case in open_cases:
        if case.status not in ON_PROVISION or cycle is None:
            continue
        last = decided.get(case.id, case.opened_at).date()
        if last + cycle <= date:
            reviews.append(ReviewDue(case=case, last_decided=last, due=last + cycle))
    return Agenda(
        panel=panel,
        panel_name=found.name,
        date=date,
        meets=found.meets,
        standing_order=STANDING_ORDER,
        new_referrals=[c for c in open_cases if c.status in AWAITING],
        reviews_due=reviews,
        actions_due=actions,
    )


def _last_decided(connection: sa.Connection, case_ids: list[str]) -> dict[str, dt.datetime]:
    if not case_ids:
        return {}
    rows = connection.execute(
        sa.select(timeline_events.c.case_id, sa.func.max(timeline_events.c.at))
        .where(
            timeline_events.c.case_id.in_(case_ids),
            timeline_events.c.kind == "decision_recorded",
        )
        .group_by(timeline_events.c.case_id)
    )
    return {case_id: _aware(at) for case_id, at in rows}


def _actions(connection: sa.Connection, case_ids: list[str], date: dt.date) -> list[ActionDue]:
    """Actions with a due date on or before the meeting."""
    if not case_ids:
        return []
    rows = connection.execute(
        sa.select(timeline_events.c.case_id, timeline_events.c.detail, timeline_events.c.at)
        .where(
            timeline_events.c.case_id.in_(case_ids),
            timeline_events.c.kind == "action_recorded",
        )
        .order_by(timeline_events.c.at)
    )
    due = []
    for case_id, detail, at in rows:
        action = msgspec.convert(detail, ActionRecorded).action
        if action.due_by is not None and action.due_by <= date:
            due.append(ActionDue(case_id=case_id, action=action, recorded_at=_aware(at)))
    return due


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
