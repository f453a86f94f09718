"""Workers that drain the same outbox at once never send a message twice
(FOR UPDATE SKIP LOCKED on PostgreSQL; serialised claims on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import sqlalchemy as sa

from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.model.delivery import OutboundMessage
from gateway.store import Store, make_engine
from gateway.store.schema import delivery_attempts, outbox
from tests.integration.destinations import RecordingDestination
from tests.support import ManualClock

MESSAGES = 400


def test_two_workers_deliver_every_message_exactly_once(
    database_url: str, clock: ManualClock
) -> None:
    seed = Store(make_engine(database_url), clock)
    with seed.unit_of_work() as uow:
        uow.outbox.enqueue(
            [
                OutboundMessage(destination="log", kind="t", idempotency_key=f"k{i}", payload={})
                for i in range(MESSAGES)
            ],
            uow.now,
        )
    destination = RecordingDestination(pause=0.001)
    workers = [
        Worker(
            Store(make_engine(database_url), clock),  # each with its own connection pool
            {"log": destination},
            RetryPolicy(max_attempts=3, base_seconds=1, cap_seconds=1),
            lease=dt.timedelta(minutes=5),
            batch_size=10,
            name=f"worker-{n}",
        )
        for n in range(2)
    ]
    start = threading.Barrier(len(workers))

    def run(worker: Worker) -> None:
        start.wait()
        worker.drain()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(destination.received) == MESSAGES
    assert set(destination.received.values()) == {1}
    with seed.engine.connect() as connection:
        statuses = Counter(connection.execute(sa.select(outbox.c.status)).scalars())
        by_worker = Counter(connection.execute(sa.select(delivery_attempts.c.worker)).scalars())
    assert statuses == {"delivered": MESSAGES}
    # Both really worked: otherwise this test would prove nothing about concurrency.
    assert set(by_worker) == {"worker-0", "worker-1"}
    assert sum(by_worker.values()) == MESSAGES
    for worker in workers:
        worker.store.engine.dispose()
    seed.engine.dispose()
