"""/api/v1/children: register a child, read one, find one by any identifier."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.children import (
    find_child,
    read_child,
    read_child_timeline,
    register_child,
    update_child,
)
from gateway.errors import InvalidInput
from gateway.model.child import Child, ChildDetails, ChildUpdate, IdentifierScheme
from gateway.model.events import Event
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store

IdQuery = Annotated[str | None, QueryParameter(max_length=64)]


class ChildController(Controller):
    path = "/children"
    tags = ["children"]

    @post("/", operation_id="register_child", sync_to_thread=True, **scoped("cases:write"))
    def register(
        self, request: ClientRequest, store: NamedDependency[Store], data: JSONBody[ChildDetails]
    ) -> Child:
        return register_child(store, data, request.user, endpoint_of(request))

    @get("/{child_id:str}", operation_id="read_child", sync_to_thread=True, **scoped("cases:read"))
    def read(
        self, request: ClientRequest, store: NamedDependency[Store], child_id: FromPath[str]
    ) -> Child:
        return read_child(store, child_id, request.user, endpoint_of(request))

    @patch(
        "/{child_id:str}", operation_id="update_child", sync_to_thread=True, **scoped("cases:write")
    )
    def update(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        child_id: FromPath[str],
        data: JSONBody[ChildUpdate],
    ) -> Child:
        """Add what was learnt later: an identifier the child lacks (never a different one:
        409), name, date of birth, home LA, school, EHCP status, looked after. Audited; an NHS
        number sends the health advice requests held for want of one."""
        return update_child(store, child_id, data, request.user, endpoint_of(request), pack)

    @get(
        "/{child_id:str}/timeline",
        operation_id="read_child_timeline",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def timeline(
        self, request: ClientRequest, store: NamedDependency[Store], child_id: FromPath[str]
    ) -> list[Event]:
        return read_child_timeline(store, child_id, request.user, endpoint_of(request))

    @get("/", operation_id="find_child", sync_to_thread=True, **scoped("cases:read"))
    def find(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        upn: IdQuery = None,
        nhs_number: IdQuery = None,
        mosaic_person_id: IdQuery = None,
        uln: IdQuery = None,
    ) -> Child:
        """Exactly one identifier: a lookup, never a search over many children."""
        offered: tuple[tuple[IdentifierScheme, str | None], ...] = (
            ("upn", upn),
            ("nhs_number", nhs_number),
            ("mosaic_person_id", mosaic_person_id),
            ("uln", uln),
        )
        given = [(scheme, value) for scheme, value in offered if value]
        if len(given) != 1:
            raise InvalidInput(
                "give exactly one of upn, nhs_number, mosaic_person_id, uln", field="query"
            )
        scheme, value = given[0]
        return find_child(store, scheme, value, request.user, endpoint_of(request))
