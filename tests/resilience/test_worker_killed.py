"""A worker process killed with SIGKILL in the middle of delivering 1,000 casenotes, then
started again: every casenote reaches Mosaic exactly once, each child's in order."""

from __future__ import annotations

import datetime as dt
import pathlib
import signal

import pytest
import sqlalchemy as sa

from gateway.cases import service
from gateway.model.case import NewCase
from gateway.model.events import Action
from gateway.rules.pack import load_pack
from gateway.store import Store, make_engine
from gateway.store.schema import outbox
from simulators.mosaic import running_mosaic
from tests.conftest import _truncate
from tests.resilience.processes import environment, start, wait_for
from tests.support import ManualClock, child_details, officer

PACK = load_pack("lincolnshire")
OFFICER = officer()


@pytest.mark.postgres
def test_a_killed_worker_loses_and_repeats_nothing(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    engine = make_engine(postgres_url)
    _truncate(engine)
    store = Store(engine, ManualClock(dt.datetime.now(dt.UTC)), PACK)
    with running_mosaic(username="gw", password="pw") as mosaic:
        for serial in range(1, 126):  # 125 cases, 8 casenotes each: 1,000 messages
            with store.unit_of_work() as uow:
                child = uow.children.add(child_details(serial), uow.now)
            mosaic.add_person(str(700_000 + serial), upn=child.identifiers.upn)
            new = NewCase(child_id=child.id, reason="illness", source="school", summary="s")
            case = service.open_case(store, new, OFFICER, PACK)
            for kind in (
                "evidence_requested",
                "acknowledgement_sent",
                "check_in_held",
                "home_visit",
            ):
                service.record_action(
                    store, case.id, Action(kind=kind, description="d", actor="o"), OFFICER
                )
        with engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        assert total >= 1000

        env = environment(
            postgres_url,
            mosaic_url=mosaic.url,
            mosaic_username="gw",
            mosaic_password="pw",
            delivery_lease_seconds="3",
            delivery_batch_size="20",
            worker_poll_seconds="0.1",
            escalation_every_seconds="3600",
        )
        log = str(tmp_path / "worker.log")
        first = start(env, "worker", log=log)
        wait_for(lambda: len(mosaic.notes) >= 300, 120, "300 casenotes")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        stored_at_kill = len(mosaic.notes)
        assert stored_at_kill < total

        second = start(env, "worker", log=log)
        try:
            wait_for(lambda: len(mosaic.notes) >= total, 180, "every casenote")
            with engine.connect() as connection:
                statuses = set(connection.execute(sa.select(outbox.c.status)).scalars())
            wait_for(lambda: _all_delivered(engine), 30, "the outbox to settle")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        references = [n.source_reference for n in mosaic.notes]
        assert len(references) == len(set(references)) == total
        with engine.connect() as connection:
            written = connection.execute(
                sa.select(outbox.c.child_id, outbox.c.idempotency_key).order_by(outbox.c.position)
            ).all()
        order: dict[str, list[str]] = {}
        for child_id, key in written:
            order.setdefault(child_id, []).append(key)
        by_person: dict[str, list[str]] = {}
        for note in mosaic.notes:
            by_person.setdefault(note.person_id, []).append(note.source_reference)
        assert sorted(map(tuple, by_person.values())) == sorted(map(tuple, order.values()))
        assert statuses <= {"delivered", "pending", "in_flight"}
    engine.dispose()


def _all_delivered(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        left = connection.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status != "delivered")
        ).scalar_one()
    return left == 0
