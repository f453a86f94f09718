"""One transaction per business step: the change, its timeline entry and its outbound
messages commit together or not at all (ARCHITECTURE.md "One path for every message", step 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from gateway.clock import Clock, SystemClock
from gateway.store.audit import AuditRepository
from gateway.store.cases import CaseRepository
from gateway.store.children import ChildRepository
from gateway.store.clients import ClientRepository
from gateway.store.outbox import OutboxRepository


class UnitOfWork:
    def __init__(self, connection: sa.Connection, now: dt.datetime) -> None:
        self.connection = connection
        # One timestamp for everything the step writes, so the timeline and outbox agree.
        self.now = now
        self.children = ChildRepository(connection)
        self.cases = CaseRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.clients = ClientRepository(connection)
        self.audit = AuditRepository(connection)


class Store:
    def __init__(self, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back when it raises."""
        with self.engine.begin() as connection:
            yield UnitOfWork(connection, self.clock.now())

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
