"""/api/v1/sla/clocks and pausing/resuming a case's clocks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest
from gateway.model.clock import Agency, Clock, ClockState
from gateway.security.reach import reachable_cases
from gateway.sla.clock_actions import pause_clock, resume_clock
from gateway.store.unit_of_work import Store


class Pause(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{3,60}$")]


class ClockController(Controller):
    path = "/sla/clocks"
    tags = ["sla"]

    @get("/", operation_id="list_clocks", sync_to_thread=True, **scoped("reports:read"))
    def list_clocks(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        clock_state: Annotated[ClockState | None, QueryParameter(name="state")] = None,
        agency: FromQuery[Agency | None] = None,
        kind: Annotated[str | None, QueryParameter(max_length=80)] = None,
        case_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        due_from: FromQuery[dt.date | None] = None,
        due_to: FromQuery[dt.date | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[Clock]:
        """Clocks by state, agency, kind, case and due date (``due_to`` exclusive)."""
        with store.unit_of_work(read_only=True) as uow:
            return uow.clocks.search(
                state=clock_state,
                agency=agency,
                kind=kind,
                case_id=case_id,
                due_from=_start_of(due_from),
                due_to=_start_of(due_to),
                limit=limit,
                within=reachable_cases(request.user),
            )


class CaseClockController(Controller):
    path = "/cases/{case_id:str}/clocks"
    tags = ["sla"]

    @post(
        "/{clock_id:str}/pause",
        operation_id="pause_clock",
        status_code=200,
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def pause(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        case_id: FromPath[str],
        clock_id: FromPath[str],
        data: JSONBody[Pause],
    ) -> Clock:
        """Stop the clock for one of the reasons the SEND Regulations allow."""
        return pause_clock(store, case_id, clock_id, data.reason, request.user)

    @post(
        "/{clock_id:str}/resume",
        operation_id="resume_clock",
        status_code=200,
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def resume(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        case_id: FromPath[str],
        clock_id: FromPath[str],
    ) -> Clock:
        """Start it again; the due date moves by the time it was paused."""
        return resume_clock(store, case_id, clock_id, request.user)


def _start_of(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
