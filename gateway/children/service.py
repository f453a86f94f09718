"""Registering and finding children; every read is audited (who saw this record?)."""

from __future__ import annotations

from gateway.errors import NotFound
from gateway.model.child import Child, ChildDetails, IdentifierScheme
from gateway.model.client import Client
from gateway.model.events import Event
from gateway.store.unit_of_work import Store


def register_child(store: Store, details: ChildDetails, caller: Client, endpoint: str) -> Child:
    with store.unit_of_work() as uow:
        child = uow.children.add(details, uow.now)
        uow.audit.record(caller, child.id, endpoint, "create", uow.now)
        return child


def read_child(store: Store, child_id: str, caller: Client, endpoint: str) -> Child:
    with store.unit_of_work() as uow:
        child = uow.children.get(child_id)
        if child is None:
            raise NotFound(f"no child {child_id}")
        uow.audit.record(caller, child.id, endpoint, "read", uow.now)
        return child


def find_child(
    store: Store, scheme: IdentifierScheme, value: str, caller: Client, endpoint: str
) -> Child:
    with store.unit_of_work() as uow:
        child = uow.children.find(scheme, value)
        if child is None:
            # The identifier is not echoed: it may be a UPN or NHS number.
            raise NotFound(f"no child with that {scheme}")
        uow.audit.record(caller, child.id, endpoint, "search", uow.now)
        return child


def read_child_timeline(store: Store, child_id: str, caller: Client, endpoint: str) -> list[Event]:
    """Everything that happened around the child: each case's entries and the facts outside
    any case (attendance concerns), oldest first."""
    with store.unit_of_work() as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        uow.audit.record(caller, child_id, endpoint, "read", uow.now)
        return uow.timeline.for_child(child_id)
