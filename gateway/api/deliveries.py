"""/api/v1/admin/deliveries: find, inspect and replay outbound messages."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.delivery.admin import (
    discard_delivery,
    list_deliveries,
    read_delivery,
    replay_delivery,
)
from gateway.delivery.links import link_mosaic_person
from gateway.model.delivery import (
    DeliveryDetail,
    DeliveryPage,
    DeliveryStatus,
    DiscardRequest,
    MosaicPersonLink,
    MosaicPersonLinked,
)
from gateway.security.audit_view import SubjectAccessReport, subject_access
from gateway.store.outbox import DeliveryFilter
from gateway.store.unit_of_work import Store


class DeliveryController(Controller):
    path = "/admin/deliveries"
    tags = ["admin"]

    @get("/", operation_id="list_deliveries", sync_to_thread=True, **scoped("admin"))
    def list_all(
        self,
        store: NamedDependency[Store],
        status: FromQuery[DeliveryStatus | None] = None,
        destination: Annotated[str | None, QueryParameter(max_length=32)] = None,
        kind: Annotated[str | None, QueryParameter(max_length=64)] = None,
        case_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        child_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> DeliveryPage:
        where = DeliveryFilter(
            status=status, destination=destination, kind=kind, case_id=case_id, child_id=child_id
        )
        return list_deliveries(store, where, cursor, limit)

    @get("/{delivery_id:str}", operation_id="read_delivery", sync_to_thread=True, **scoped("admin"))
    def read(self, store: NamedDependency[Store], delivery_id: FromPath[str]) -> DeliveryDetail:
        return read_delivery(store, delivery_id)

    @post(
        "/{delivery_id:str}/replay",
        operation_id="replay_delivery",
        status_code=200,
        sync_to_thread=True,
        **scoped("admin"),
    )
    def replay(self, store: NamedDependency[Store], delivery_id: FromPath[str]) -> DeliveryDetail:
        """A dead or parked message goes back to the queue with a fresh set of attempts."""
        return replay_delivery(store, delivery_id)

    @post(
        "/{delivery_id:str}/discard",
        operation_id="discard_delivery",
        status_code=200,
        sync_to_thread=True,
        **scoped("admin"),
    )
    def discard(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        delivery_id: FromPath[str],
        data: JSONBody[DiscardRequest],
    ) -> DeliveryDetail:
        """A dead or parked message that will never go: it stops holding back the child's later
        messages to the same destination. The message and its history are kept."""
        return discard_delivery(store, delivery_id, data.reason, request.user.name)


class ChildLinkController(Controller):
    path = "/admin/children"
    tags = ["admin"]

    @put(
        "/{child_id:str}/mosaic-person",
        operation_id="link_mosaic_person",
        sync_to_thread=True,
        **scoped("admin"),
    )
    def link(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        child_id: FromPath[str],
        data: JSONBody[MosaicPersonLink],
    ) -> MosaicPersonLinked:
        """Which Mosaic person the child is, when Mosaic could not find them by UPN or NHS
        number. Casenotes parked for want of it go again, in their order."""
        released = link_mosaic_person(
            store, child_id, data.person_id, request.user, endpoint_of(request)
        )
        return MosaicPersonLinked(child_id=child_id, person_id=data.person_id, released=released)


class AuditController(Controller):
    path = "/admin/audit"
    tags = ["admin"]

    @get("/", operation_id="subject_access", sync_to_thread=True, **scoped("admin"))
    def who_saw(
        self,
        store: NamedDependency[Store],
        child_id: Annotated[str, QueryParameter(min_length=1, max_length=36)],
    ) -> SubjectAccessReport:
        """A subject-access answer: every read and change of this child's record, by whom,
        when, for what purpose and which parts of it."""
        return subject_access(store, child_id)
