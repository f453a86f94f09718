"""/api/v1/cases: open, read, list, move status, record actions, read the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway import cases
from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.cases.nomination import nominate
from gateway.errors import InvalidInput
from gateway.model.case import (
    Case,
    CaseKind,
    CasePage,
    CaseReason,
    CaseStatus,
    Decide,
    NewCase,
    Nominate,
    StatusChange,
)
from gateway.model.events import Action, Event
from gateway.rules.pack import PolicyPack
from gateway.store.cases import CaseFilter
from gateway.store.unit_of_work import Store


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]

    @post("/", operation_id="open_case", sync_to_thread=True, **scoped("cases:write"))
    def open(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        data: JSONBody[NewCase],
    ) -> Case:
        """Open a case. Without a ``lead_team`` the authority's policy pack routes it: the
        answer carries the lead, the panel, the rule and its policy reference."""
        return cases.open_case(store, data, request.user, pack)

    @get("/", operation_id="list_cases", sync_to_thread=True, **scoped("cases:read"))
    def list_cases(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        kind: FromQuery[CaseKind | None] = None,
        status: FromQuery[CaseStatus | None] = None,
        reason: FromQuery[CaseReason | None] = None,
        lead_team: Annotated[str | None, QueryParameter(max_length=32)] = None,
        school_urn: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{6}$")] = None,
        child_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        opened_from: FromQuery[dt.datetime | None] = None,
        opened_to: FromQuery[dt.datetime | None] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> CasePage:
        where = CaseFilter(
            kind=kind,
            status=status,
            reason=reason,
            lead_team=lead_team,
            school_urn=school_urn,
            child_id=child_id,
            opened_from=_aware(opened_from, "opened_from"),
            opened_to=_aware(opened_to, "opened_to"),
        )
        return cases.list_cases(store, where, cursor, limit, request.user, endpoint_of(request))

    @get("/{case_id:str}", operation_id="read_case", sync_to_thread=True, **scoped("cases:read"))
    def read(
        self, request: ClientRequest, store: NamedDependency[Store], case_id: FromPath[str]
    ) -> Case:
        return cases.read_case(store, case_id, request.user, endpoint_of(request))

    @post(
        "/{case_id:str}/status",
        operation_id="change_case_status",
        status_code=200,
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def change_status(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        case_id: FromPath[str],
        data: JSONBody[StatusChange],
    ) -> Case:
        return cases.change_status(store, case_id, data, request.user)

    @post(
        "/{case_id:str}/actions",
        operation_id="record_case_action",
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def record_action(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        case_id: FromPath[str],
        data: JSONBody[Action],
    ) -> Event:
        return cases.record_action(store, case_id, data, request.user)

    @post(
        "/{case_id:str}/decisions",
        operation_id="record_case_decision",
        status_code=200,
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def decide(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        case_id: FromPath[str],
        data: JSONBody[Decide],
    ) -> Case:
        """A panel's outcome, from the authority's list (e.g. agreed, not agreed at this
        time): the case moves, the decision and any follow-up land on its timeline."""
        return cases.decide(store, case_id, data, request.user, pack)

    @post(
        "/{case_id:str}/nominations",
        operation_id="nominate_case_to_panel",
        status_code=200,
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def nominate(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        case_id: FromPath[str],
        data: JSONBody[Nominate],
    ) -> Case:
        """Raise the case on a panel's agenda, where the authority's policy has officers do so
        (Worcestershire's CCAS panel, Lancashire's CME panel); nominating it again is a no-op."""
        return nominate(store, case_id, data, request.user, pack)

    @get(
        "/{case_id:str}/timeline",
        operation_id="read_case_timeline",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def timeline(
        self, request: ClientRequest, store: NamedDependency[Store], case_id: FromPath[str]
    ) -> list[Event]:
        return cases.read_timeline(store, case_id, request.user, endpoint_of(request))


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A filter time without a zone is read as UTC; one too far out to convert is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise InvalidInput("the time is out of range", field=field) from exc
