"""A state change, its timeline entry and its outbox messages commit together or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.cases import open_case
from gateway.errors import InvalidInput
from gateway.model.case import NewCase
from gateway.model.client import ALL_SCOPES, Client
from gateway.model.delivery import OutboundMessage
from gateway.store import Store
from gateway.store.schema import cases, outbox, timeline_events
from tests.support import START, child_details

CALLER = Client(id="c0", name="officer-tool", scopes=ALL_SCOPES, created_at=START)


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def register(store: Store, serial: int = 1) -> str:
    with store.unit_of_work() as uow:
        return uow.children.add(child_details(serial), uow.now).id


def new_case(child_id: str) -> NewCase:
    return NewCase(child_id=child_id, reason="illness", source="school", summary="absent")


def test_opening_a_case_writes_case_event_and_outbox_together(store: Store) -> None:
    case = open_case(store, new_case(register(store)), CALLER)
    assert [e.seq for e in case.timeline] == [1]
    assert (count(store, cases), count(store, timeline_events), count(store, outbox)) == (1, 1, 1)


def test_failure_after_the_outbox_write_leaves_nothing(store: Store) -> None:
    child_id = register(store)

    class Crash(Exception):
        pass

    def step_that_fails_at_the_end() -> None:
        with store.unit_of_work() as uow:
            case = uow.cases.add(new_case(child_id), "received", uow.now)
            uow.outbox.enqueue(
                [OutboundMessage(destination="log", kind="k", idempotency_key="x", payload={})],
                uow.now,
            )
            uow.cases.set_status(case.id, "received", "acknowledged", uow.now)
            raise Crash

    with pytest.raises(Crash):
        step_that_fails_at_the_end()
    assert (count(store, cases), count(store, timeline_events), count(store, outbox)) == (0, 0, 0)


def test_a_refused_step_writes_no_partial_case(store: Store) -> None:
    with pytest.raises(InvalidInput, match="no child"):
        open_case(store, new_case("not-a-child"), CALLER)
    assert (count(store, cases), count(store, timeline_events), count(store, outbox)) == (0, 0, 0)


def test_the_same_idempotency_key_is_queued_once(store: Store) -> None:
    message = OutboundMessage(destination="log", kind="k", idempotency_key="same", payload={})
    with store.unit_of_work() as uow:
        assert uow.outbox.enqueue([message], uow.now) == 1
    with store.unit_of_work() as uow:
        assert uow.outbox.enqueue([message], uow.now) == 0
    assert count(store, outbox) == 1
