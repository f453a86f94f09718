"""One transaction per business step: the change, its timeline entry and its outbound
messages commit together or not at all (ARCHITECTURE.md "One path for every message", step 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from gateway.clock import Clock, SystemClock
from gateway.rules.pack import PolicyPack
from gateway.store.advice import AdviceRepository, SharingRepository
from gateway.store.archive import ArchiveRepository, ArchiveRules
from gateway.store.attendance import AttendanceRepository
from gateway.store.audit import AuditRepository
from gateway.store.cases import CaseRepository
from gateway.store.children import ChildRepository
from gateway.store.clients import ClientRepository
from gateway.store.clocks import ClockRepository
from gateway.store.outbox import OutboxRepository
from gateway.store.providers import RegisterRepository
from gateway.store.timeline import TimelineRepository


class UnitOfWork:
    def __init__(
        self,
        connection: sa.Connection,
        now: dt.datetime,
        pack: PolicyPack | None = None,
        archive_rules: ArchiveRules | None = None,
    ) -> None:
        self.connection = connection
        # The authority's rules, for the steps that start and stop clocks (None in tests
        # that do not need them).
        self.pack = pack
        # One timestamp for everything the step writes, so the timeline and outbox agree.
        self.now = now
        self.children = ChildRepository(connection)
        self.cases = CaseRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.clients = ClientRepository(connection)
        self.audit = AuditRepository(connection)
        self.timeline = TimelineRepository(connection)
        self.attendance = AttendanceRepository(connection)
        self.archive = ArchiveRepository(connection, archive_rules or ArchiveRules())
        self.clocks = ClockRepository(connection)
        self.advice = AdviceRepository(connection)
        self.sharing = SharingRepository(connection)
        self.registers = RegisterRepository(connection)


class Store:
    def __init__(
        self,
        engine: sa.Engine,
        clock: Clock | None = None,
        pack: PolicyPack | None = None,
        archive_rules: ArchiveRules | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.pack = pack
        # The raw archive's budget and what is kept of refused bodies (the app sets them from
        # its settings).
        self.archive_rules = archive_rules or ArchiveRules()

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back when it raises. ``read_only``
        units (token checks, listings without audit) never queue behind a writer on SQLite."""
        with self.engine.connect() as connection:
            if read_only:
                connection = connection.execution_options(read_only=True)
            with connection.begin():
                yield UnitOfWork(connection, self.clock.now(), self.pack, self.archive_rules)

    def ping(self) -> None:
        with self.unit_of_work(read_only=True) as uow:
            uow.connection.execute(sa.text("SELECT 1"))
