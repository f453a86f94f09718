"""Registering and finding children; every read is audited (who saw this record?)."""

from __future__ import annotations

from typing import Any

from gateway.errors import Conflict, Forbidden, NotFound
from gateway.model.child import Child, ChildDetails, ChildUpdate, IdentifierScheme
from gateway.model.client import Client
from gateway.model.events import Event
from gateway.rules.pack import PolicyPack
from gateway.security.reach import reaches_child
from gateway.store.unit_of_work import Store


def register_child(store: Store, details: ChildDetails, caller: Client, endpoint: str) -> Child:
    check_own_school(caller, details.school_urn)
    with store.unit_of_work() as uow:
        child = uow.children.add(details, uow.now)
        uow.audit.record(caller, child.id, endpoint, "create", uow.now)
        return child


def update_child(
    store: Store,
    child_id: str,
    update: ChildUpdate,
    caller: Client,
    endpoint: str,
    pack: PolicyPack,
) -> Child:
    """The fields given, audited as an update. An NHS number arriving releases the health
    advice requests held for want of one (Sutton 004 "tell us once": the family is not asked
    again)."""
    from gateway.advice.progress import release_held

    with store.unit_of_work() as uow:
        child = uow.children.get(child_id)
        if child is None:
            raise NotFound(f"no child {child_id}")
        values: dict[str, Any] = {}
        if update.identifiers is not None:
            for scheme, value in update.identifiers.items():
                held = getattr(child.identifiers, scheme)
                if held is not None and held != value:
                    # The values are not echoed: they are a child's identifiers.
                    raise Conflict(
                        f"the child already has a different {scheme}; an identifier is added, "
                        "never replaced (a wrong one is a matter for the record's owner)",
                        field=f"identifiers.{scheme}",
                    )
                if held is None:
                    values[scheme] = value
        if update.name is not None:
            values |= {
                "given_name": update.name.given,
                "family_name": update.name.family,
                "preferred_name": update.name.preferred,
            }
        if update.school_urn is not None:
            check_own_school(caller, update.school_urn)
        for field in ("date_of_birth", "home_la", "school_urn", "ehcp_status", "looked_after"):
            if getattr(update, field) is not None:
                values[field] = getattr(update, field)
        uow.audit.record(caller, child_id, endpoint, "update", uow.now)
        if not values:
            return child
        updated = uow.children.update(child_id, values, uow.now)
        if "nhs_number" in values:
            release_held(uow, child_id, "health", caller, pack)
        return updated


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
        if child is None or not reaches_child(uow, caller, child.id):
            # The identifier is not echoed: it may be a UPN or NHS number.
            raise NotFound(f"no child with that {scheme}")
        uow.audit.record(caller, child.id, endpoint, "search", uow.now)
        return child


def check_own_school(caller: Client, school_urn: str | None) -> None:
    """A bound client puts children only on its own schools' rolls: one that could name any
    school could bring another school's child into its reach."""
    if caller.bound and school_urn not in caller.schools:
        own = ", ".join(caller.schools) or "none"
        raise Forbidden(
            f"this client records children only at its own schools ({own})", field="school_urn"
        )


def read_child_timeline(store: Store, child_id: str, caller: Client, endpoint: str) -> list[Event]:
    """Everything that happened around the child: each case's entries and the facts outside
    any case (attendance concerns), oldest first."""
    with store.unit_of_work() as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        uow.audit.record(caller, child_id, endpoint, "read", uow.now)
        return uow.timeline.for_child(child_id)
