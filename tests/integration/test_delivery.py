"""The outbox worker: retries with back-off, dead letter, replay, leases, graceful release."""

from __future__ import annotations

import datetime as dt
import random
import threading

from gateway.delivery.admin import read_delivery, replay_delivery
from gateway.delivery.ports import Destination
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.model.delivery import OutboundMessage
from gateway.store import Store
from gateway.store.outbox import DeliveryFilter
from tests.integration.destinations import (
    FlakyDestination,
    RecordingDestination,
    RejectingDestination,
)
from tests.support import ManualClock

POLICY = RetryPolicy(max_attempts=4, base_seconds=60, cap_seconds=600, jitter=0)


def worker(store: Store, destination: Destination, name: str = "w1", inline: int = 0) -> Worker:
    return Worker(
        store,
        {destination.name: destination},
        POLICY,
        lease=dt.timedelta(minutes=5),
        inline_retries=inline,
        inline_wait_seconds=0,
        name=name,
        rng=random.Random(1),
        sleep=lambda _: None,
    )


def enqueue(store: Store, *keys: str, destination: str = "log") -> None:
    with store.unit_of_work() as uow:
        uow.outbox.enqueue(
            [
                OutboundMessage(destination=destination, kind="test", idempotency_key=k, payload={})
                for k in keys
            ],
            uow.now,
        )


def only_delivery_id(store: Store) -> str:
    with store.unit_of_work() as uow:
        items, _ = uow.outbox.page(DeliveryFilter(), None, 10)
    assert len(items) == 1
    return items[0].id


def test_destination_failing_twice_then_succeeding_is_delivered_on_the_third_attempt(
    store: Store, clock: ManualClock
) -> None:
    enqueue(store, "m1")
    flaky = FlakyDestination(failures=2)
    w = worker(store, flaky)
    delivery_id = only_delivery_id(store)

    assert w.run_once() == 1
    first = read_delivery(store, delivery_id)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_attempt_at == clock.now() + dt.timedelta(seconds=60)
    assert w.run_once() == 0  # not due yet: the back-off is persisted, not slept

    clock.advance(seconds=60)
    assert w.run_once() == 1
    second = read_delivery(store, delivery_id)
    assert second.next_attempt_at == clock.now() + dt.timedelta(seconds=120)

    clock.advance(seconds=120)
    assert w.run_once() == 1
    done = read_delivery(store, delivery_id)
    assert (done.status, done.attempts) == ("delivered", 3)
    assert [h.outcome for h in done.history] == ["transient", "transient", "delivered"]
    assert flaky.received == {"m1": 1}


def test_inline_retries_absorb_a_blip_within_one_attempt(store: Store) -> None:
    enqueue(store, "m1")
    flaky = FlakyDestination(failures=2)
    worker(store, flaky, inline=2).run_once()
    done = read_delivery(store, only_delivery_id(store))
    assert (done.status, done.attempts, flaky.calls) == ("delivered", 1, 3)


def test_after_the_last_attempt_the_message_is_dead_and_can_be_replayed(
    store: Store, clock: ManualClock
) -> None:
    enqueue(store, "m1")
    delivery_id = only_delivery_id(store)
    down = FlakyDestination(failures=10**6)
    w = worker(store, down)
    for _ in range(POLICY.max_attempts):
        w.run_once()
        clock.advance(hours=1)
    dead = read_delivery(store, delivery_id)
    assert dead.status == "dead"
    assert dead.last_error is not None and "gave up after 4 attempts" in dead.last_error
    assert len(dead.history) == 4

    replayed = replay_delivery(store, delivery_id)
    assert (replayed.status, replayed.attempts) == ("pending", 0)
    up = RecordingDestination()
    worker(store, up).run_once()
    assert read_delivery(store, delivery_id).status == "delivered"
    assert up.received == {"m1": 1}
    assert len(read_delivery(store, delivery_id).history) == 5  # history survives the replay


def test_a_permanent_failure_goes_straight_to_dead_letter_with_its_text(store: Store) -> None:
    enqueue(store, "m1")
    worker(store, RejectingDestination()).run_once()
    dead = read_delivery(store, only_delivery_id(store))
    assert (dead.status, dead.attempts) == ("dead", 1)
    assert dead.last_error == "schema violation: casenote type unknown"


def test_a_destination_this_worker_cannot_reach_is_left_for_one_that_can(store: Store) -> None:
    enqueue(store, "m1", destination="mosaic")
    assert worker(store, RecordingDestination()).run_once() == 0  # it only reaches "log"
    waiting = read_delivery(store, only_delivery_id(store))
    assert (waiting.status, waiting.attempts, waiting.history) == ("pending", 0, [])
    mosaic = RecordingDestination("mosaic")
    assert worker(store, mosaic).run_once() == 1
    assert read_delivery(store, only_delivery_id(store)).status == "delivered"
    assert mosaic.received == {"m1": 1}


def test_a_claim_whose_worker_died_is_taken_back_after_the_lease(
    store: Store, clock: ManualClock
) -> None:
    enqueue(store, "m1")
    with store.unit_of_work() as uow:  # a worker claims, then dies before sending
        claimed = uow.outbox.claim("dead-worker", uow.now, dt.timedelta(minutes=5), 10)
    assert len(claimed) == 1
    survivor = RecordingDestination()
    assert worker(store, survivor, name="w2").run_once() == 0  # still leased
    clock.advance(minutes=6)
    assert worker(store, survivor, name="w2").run_once() == 1
    assert survivor.received == {"m1": 1}
    with store.unit_of_work() as uow:  # the dead worker's late word does not overwrite
        assert not uow.outbox.finish(
            claimed[0], "dead-worker", started_at=uow.now, now=uow.now, outcome="transient"
        )
    assert read_delivery(store, claimed[0].id).status == "delivered"


def test_stopping_mid_batch_hands_unsent_messages_back(store: Store) -> None:
    enqueue(store, "m1", "m2", "m3")
    stop = threading.Event()
    seen = RecordingDestination()

    class StopAfterFirst(RecordingDestination):
        def send(self, message):  # type: ignore[no-untyped-def]
            seen.send(message)
            stop.set()

    w = worker(store, StopAfterFirst())
    assert w.run_once(stop) == 3
    with store.unit_of_work() as uow:
        backlog = uow.outbox.backlog()
    assert sum(seen.received.values()) == 1
    assert backlog == {"log": {"pending": 2}}
    rest = RecordingDestination()
    worker(store, rest, name="w2").drain()
    assert sum(rest.received.values()) == 2
    assert not set(rest.received) & set(seen.received)
