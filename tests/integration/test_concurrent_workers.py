"""Workers that drain the same outbox at once never send a message twice
(FOR UPDATE SKIP LOCKED on PostgreSQL; serialised claims on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
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


@pytest.mark.postgres
def test_a_childs_messages_are_numbered_in_commit_order(postgres_url: str) -> None:
    """PostgreSQL numbers a row at insert but shows it at commit. A second writer for the same
    child waits for the first to commit, so its message cannot be claimed before the first's."""
    from tests.conftest import _truncate

    engine = make_engine(postgres_url)
    _truncate(engine)
    store = Store(engine, ManualClock())

    def message(key: str) -> OutboundMessage:
        return OutboundMessage(
            destination="mosaic", kind="k", idempotency_key=key, payload={}, child_id="child-1"
        )

    first = store.unit_of_work()
    uow = first.__enter__()
    uow.outbox.enqueue([message("written-first")], uow.now)

    def second_writer() -> None:
        with store.unit_of_work() as other:
            other.outbox.enqueue([message("written-second")], other.now)

    writer = threading.Thread(target=second_writer)
    writer.start()
    writer.join(timeout=0.5)
    assert writer.is_alive(), "the second writer should wait for the first to commit"
    with store.unit_of_work() as poll:
        assert poll.outbox.claim("w1", poll.now, dt.timedelta(minutes=5), 10, 8) == []
    first.__exit__(None, None, None)
    writer.join(timeout=10)
    with store.unit_of_work() as poll:
        claimed = poll.outbox.claim("w1", poll.now, dt.timedelta(minutes=5), 10, 8)
    assert [m.idempotency_key for m in claimed] == ["written-first"]
    engine.dispose()
