"""Delivery when things go wrong: a message that keeps killing its worker, a lease taken back
mid-batch, a database that fails under a running worker."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from gateway.delivery.admin import read_delivery
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.model.delivery import OutboundMessage
from gateway.store import Store, UnitOfWork
from tests.integration.destinations import RecordingDestination
from tests.support import ManualClock

LEASE = dt.timedelta(minutes=5)
POLICY = RetryPolicy(max_attempts=3, base_seconds=1, cap_seconds=1, jitter=0)


def enqueue(store: Store, *keys: str) -> None:
    with store.unit_of_work() as uow:
        uow.outbox.enqueue(
            [
                OutboundMessage(destination="log", kind="t", idempotency_key=k, payload={})
                for k in keys
            ],
            uow.now,
        )


def worker(store: Store, destination: RecordingDestination, name: str) -> Worker:
    return Worker(store, {"log": destination}, POLICY, lease=LEASE, name=name, inline_retries=0)


def test_a_message_that_kills_its_worker_every_time_reaches_dead_letter(
    store: Store, clock: ManualClock
) -> None:
    enqueue(store, "poison")
    for attempt in range(POLICY.max_attempts):  # each claim's worker dies before finishing
        with store.unit_of_work() as uow:
            claimed = uow.outbox.claim(f"doomed-{attempt}", uow.now, LEASE, 10, POLICY.max_attempts)
        assert len(claimed) == 1
        clock.advance(minutes=6)
    with store.unit_of_work() as uow:
        assert uow.outbox.claim("next", uow.now, LEASE, 10, POLICY.max_attempts) == []
    dead = read_delivery(store, claimed[0].id)
    assert dead.status == "dead"
    assert dead.last_error == "worker lost during attempt 3 of 3"
    assert [h.worker for h in dead.history] == ["lease-expiry"]


def test_a_message_whose_lease_was_taken_back_is_not_sent_twice(
    store: Store, clock: ManualClock
) -> None:
    enqueue(store, "m1")
    slow_destination, fast_destination = RecordingDestination(), RecordingDestination()
    slow = worker(store, slow_destination, "slow")
    with store.unit_of_work() as uow:  # the slow worker claims, then stalls past its lease
        [message] = uow.outbox.claim("slow", uow.now, LEASE, 10, POLICY.max_attempts)
    clock.advance(minutes=6)
    assert worker(store, fast_destination, "fast").run_once() == 1
    if slow._still_ours(message):  # what run_once does before each send
        slow._deliver(message)
    assert fast_destination.received == {"m1": 1}
    assert slow_destination.received == {}


class _FlakyStore(Store):
    """The real store, but its first ``failures`` units of work fail as a lost database does."""

    def __init__(self, store: Store, failures: int) -> None:
        super().__init__(store.engine, store.clock)
        self.failures = failures

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        if self.failures > 0:
            self.failures -= 1
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        with super().unit_of_work(read_only=read_only) as uow:
            yield uow


def test_a_worker_survives_database_failures_and_carries_on(store: Store) -> None:
    enqueue(store, "m1", "m2")
    destination = RecordingDestination()
    flaky = _FlakyStore(store, failures=2)
    delivery = worker(flaky, destination, "steady")  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=delivery.run, args=(stop, 0.01))
    thread.start()
    for _ in range(500):
        if len(destination.received) == 2:
            break
        threading.Event().wait(0.01)
    stop.set()
    thread.join(timeout=10)
    assert destination.received == {"m1": 1, "m2": 1}
    assert flaky.failures == 0
