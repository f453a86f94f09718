"""Case operations, each one business sentence in one unit of work: change the case, add
the timeline entry, queue what the other agencies must hear."""

from __future__ import annotations

import msgspec

from gateway.cases.lifecycle import lifecycle
from gateway.delivery.routes import messages_for
from gateway.errors import InvalidInput, NotFound
from gateway.model.case import Case, CasePage, CaseSummary, NewCase, StatusChange
from gateway.model.client import Client
from gateway.model.events import (
    Action,
    ActionRecorded,
    CaseOpened,
    Event,
    EventDetail,
    StatusChanged,
)
from gateway.store.cases import CaseFilter
from gateway.store.unit_of_work import Store, UnitOfWork


def open_case(store: Store, new: NewCase, caller: Client) -> Case:
    with store.unit_of_work() as uow:
        child = uow.children.get(new.child_id)
        if child is None:
            raise InvalidInput(f"no child {new.child_id}", field="child_id")
        if new.school_urn is None and child.school_urn is not None:
            new = _with_school(new, child.school_urn)
        case = uow.cases.add(new, lifecycle().initial, uow.now)
        detail = CaseOpened(reason=new.reason, source=new.source, lead_team=new.lead_team)
        _record(uow, case, caller, f"Case opened ({new.reason})", new.summary, detail)
        return _full(uow, case.id)


def change_status(store: Store, case_id: str, change: StatusChange, caller: Client) -> Case:
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        lifecycle().check_move(case.status, change.status)
        uow.cases.set_status(case_id, case.status, change.status, uow.now)
        detail = StatusChanged(from_status=case.status, to_status=change.status)
        summary = f"Status {case.status} → {change.status}"
        _record(uow, uow.cases.get(case_id), caller, summary, change.reason, detail)
        return _full(uow, case_id)


def record_action(store: Store, case_id: str, action: Action, caller: Client) -> Event:
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        summary = f"Action: {action.kind.replace('_', ' ')}"
        return _record(
            uow, case, caller, summary, action.description, ActionRecorded(action=action)
        )


def read_case(store: Store, case_id: str, caller: Client, endpoint: str) -> Case:
    with store.unit_of_work() as uow:
        case = _full(uow, case_id)
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
        items, next_cursor = uow.cases.page(where, cursor, limit)
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
) -> Event:
    event = uow.cases.append_event(
        case.id, at=uow.now, actor=caller.name, summary=summary, why=why, detail=detail
    )
    uow.outbox.enqueue(messages_for(event, uow.cases.get(case.id)), uow.now)
    return event


def _full(uow: UnitOfWork, case_id: str) -> Case:
    summary = uow.cases.find(case_id)
    if summary is None:
        raise NotFound(f"no case {case_id}")
    fields = {name: getattr(summary, name) for name in CaseSummary.__struct_fields__}
    return Case(**fields, timeline=uow.cases.timeline(case_id))


def _with_school(new: NewCase, school_urn: str) -> NewCase:
    """A case records the school the child was at when it opened, for board reports."""

    return msgspec.structs.replace(new, school_urn=school_urn)
