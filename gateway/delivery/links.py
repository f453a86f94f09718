"""Resolving a held casenote: a person says which Mosaic person the child is, and the child's
casenotes parked (or dead-lettered) for want of it go again, in their order."""

from __future__ import annotations

from gateway.errors import InvalidInput, NotFound
from gateway.model.client import Client
from gateway.model.identifiers import mosaic_person_id_problem
from gateway.store.unit_of_work import Store


def link_mosaic_person(
    store: Store,
    child_id: str,
    person_id: str,
    caller: Client | None = None,
    endpoint: str = "cli",
) -> int:
    """Returns how many parked deliveries were released. A change to a child's record, so it
    is audited."""
    if problem := mosaic_person_id_problem(person_id):
        raise InvalidInput(problem, field="person_id")
    with store.unit_of_work() as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        uow.children.set_mosaic_person(child_id, person_id, uow.now)
        if caller is not None:
            uow.audit.record(caller, child_id, endpoint, "link", uow.now)
        return uow.outbox.release_held("mosaic", child_id, uow.now)


__all__ = ["link_mosaic_person"]
