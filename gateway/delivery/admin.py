"""Finding, inspecting and replaying deliveries: shared by the admin API and the CLI."""

from __future__ import annotations

from gateway.model.delivery import DeliveryDetail, DeliveryPage
from gateway.store.outbox import DeliveryFilter
from gateway.store.unit_of_work import Store


def list_deliveries(
    store: Store, where: DeliveryFilter, cursor: str | None, limit: int
) -> DeliveryPage:
    with store.unit_of_work(read_only=True) as uow:
        items, next_cursor = uow.outbox.page(where, cursor, limit)
    return DeliveryPage(items=items, next_cursor=next_cursor)


def read_delivery(store: Store, delivery_id: str) -> DeliveryDetail:
    with store.unit_of_work(read_only=True) as uow:
        return uow.outbox.get(delivery_id)


def replay_delivery(store: Store, delivery_id: str) -> DeliveryDetail:
    """A dead message goes back to the queue with a fresh set of attempts; its history stays."""
    with store.unit_of_work() as uow:
        return uow.outbox.replay(delivery_id, uow.now)


def discard_delivery(store: Store, delivery_id: str, reason: str, by: str) -> DeliveryDetail:
    """A person's decision that a dead or parked message will never go; kept, with why."""
    with store.unit_of_work() as uow:
        return uow.outbox.discard(delivery_id, reason, by, uow.now)
