"""SIGTERM, as Kubernetes sends it before a pod goes: the API finishes the request it is
taking, and a worker finishes the casenote it is sending, hands back the rest of its batch and
exits cleanly, so the next worker sends them: nothing lost, nothing sent twice. The worker's
own port answers its liveness probe and (with a token) its delivery counters meanwhile."""

from __future__ import annotations

import datetime as dt
import pathlib
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from gateway.cases import service
from gateway.model.case import NewCase
from gateway.model.events import Action
from gateway.rules.pack import load_pack
from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from gateway.store.schema import attendance_feeds, outbox
from simulators.mosaic import MosaicSimulator, running_mosaic
from tests.attendance_support import SCHOOL, csv_feed, pattern_rows, school_days
from tests.conftest import _truncate
from tests.resilience.processes import environment, free_port, serve, start, wait_for
from tests.support import ManualClock, child_details, make_upn, officer

PACK = load_pack("lincolnshire")
OFFICER = officer()


@pytest.mark.postgres
def test_the_api_finishes_the_request_it_is_taking_when_told_to_stop(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    engine = make_engine(postgres_url)
    _truncate(engine)
    _, token = create_client(Store(engine), "mis", ("attendance:write",), schools=(SCHOOL,))
    days = school_days(dt.date(2025, 9, 1), 20)
    body = csv_feed(
        row for n in range(300) for row in pattern_rows(make_upn(n), days, [("/", "\\")])
    )
    api, base = serve(environment(postgres_url), str(tmp_path / "api.log"))
    answers: list[httpx.Response] = []
    first_part_sent = threading.Event()

    def slowly() -> Iterator[bytes]:
        """The feed in 20 parts over about two seconds: SIGTERM arrives in the middle."""
        step = len(body) // 20 + 1
        for start_at in range(0, len(body), step):
            yield body[start_at : start_at + step]
            first_part_sent.set()
            time.sleep(0.1)

    def send() -> None:
        answers.append(
            httpx.post(
                f"{base}/api/v1/attendance/feeds",
                content=slowly(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
                params={"school_urn": SCHOOL, "academic_year": "2025"},
                timeout=60,
            )
        )

    sender = threading.Thread(target=send)
    sender.start()
    assert first_part_sent.wait(30)
    api.send_signal(signal.SIGTERM)
    sender.join(timeout=60)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, as the exit status.
    assert api.wait(timeout=60) in (0, -signal.SIGTERM)
    [answer] = answers
    assert answer.status_code == 202, answer.text
    assert answer.json()["records_received"] == 300 * len(days)
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(attendance_feeds.c.status, attendance_feeds.c.records_received)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == [("queued", 300 * len(days))]
    with pytest.raises(httpx.TransportError):  # and it takes nothing new
        httpx.get(f"{base}/health/live", timeout=2)


@pytest.mark.postgres
def test_a_stopped_worker_finishes_its_casenote_and_hands_back_the_rest(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    engine = make_engine(postgres_url)
    _truncate(engine)
    store = Store(engine, ManualClock(dt.datetime.now(dt.UTC)), PACK)
    _, scraper = create_client(store, "prometheus", ("metrics",))
    with running_mosaic(username="gw", password="pw") as mosaic:
        four_children_with_casenotes(store, mosaic)
        total = _count(engine, outbox.c.destination == "mosaic")
        mosaic.delay_next(1000, 0.5)  # each SOAP call takes half a second
        port = free_port()
        env = environment(
            postgres_url,
            mosaic_url=mosaic.url,
            mosaic_username="gw",
            mosaic_password="pw",
            worker_poll_seconds="0.1",
            worker_health_port=str(port),
            escalation_every_seconds="3600",
        )
        log = str(tmp_path / "worker.log")
        worker = start(env, "worker", log=log)
        probe = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _answers(f"{probe}/health/live"), 30, "the worker's port")
            live = httpx.get(f"{probe}/health/live", timeout=5)
            assert (live.status_code, live.json()["status"]) == (200, "ok")
            assert httpx.get(f"{probe}/metrics", timeout=5).status_code == 401
            wait_for(lambda: len(mosaic.notes) >= 1, 60, "the first casenote")
            counted = httpx.get(
                f"{probe}/metrics", headers={"Authorization": f"Bearer {scraper}"}, timeout=5
            )
            assert counted.status_code == 200
            assert 'gateway_worker_deliveries_total{destination="mosaic",result="delivered"}' in (
                counted.text
            )
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=60) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
        sent = len(mosaic.notes)
        assert sent >= 1  # the casenote it was sending was finished
        assert sent < total  # stopped part-way, not run to the end
        assert _count(engine, outbox.c.status == "in_flight") == 0  # nothing left claimed
        assert _mosaic(engine, "delivered") == sent
        # The rest handed back (with any escalation notes the worker wrote meanwhile).
        pending = _mosaic(engine, "pending")
        assert pending >= total - sent
        total = sent + pending
        assert "released unsent messages" in pathlib.Path(log).read_text()

        again = start(env, "worker", log=log)
        try:
            wait_for(lambda: len(mosaic.notes) >= total, 120, "every casenote")
        finally:
            again.send_signal(signal.SIGTERM)
            again.wait(timeout=60)
        references = [note.source_reference for note in mosaic.notes]
        assert len(references) == len(set(references)) == total  # each once
    engine.dispose()


def four_children_with_casenotes(store: Store, mosaic: MosaicSimulator) -> None:
    """Casenotes for four children Mosaic knows. A batch holds the head of each child's queue,
    so a worker claims four at once and has three to hand back when stopped after one."""
    for serial in range(1, 5):
        with store.unit_of_work() as uow:
            child = uow.children.add(child_details(serial), uow.now)
        mosaic.add_person(str(700_000 + serial), upn=child.identifiers.upn)
        new = NewCase(child_id=child.id, reason="illness", source="school", summary="s")
        case = service.open_case(store, new, OFFICER, PACK)
        action = Action(kind="check_in", description="d", actor="o")
        service.record_action(store, case.id, action, OFFICER)


def _count(engine: sa.Engine, condition: sa.ColumnElement[bool]) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(outbox).where(condition)
            ).scalar_one()
        )


def _mosaic(engine: sa.Engine, status: str) -> int:
    return _count(engine, sa.and_(outbox.c.destination == "mosaic", outbox.c.status == status))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.TransportError:
        return False


@pytest.mark.postgres
def test_serve_with_its_worker_hands_back_the_batch_on_sigterm(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    """`make run` serves the API and the worker in one process: SIGTERM stops both, and the
    worker's unsent messages are pending again, not held by a dead claim for a lease."""
    engine = make_engine(postgres_url)
    _truncate(engine)
    store = Store(engine, ManualClock(dt.datetime.now(dt.UTC)), PACK)
    with running_mosaic(username="gw", password="pw") as mosaic:
        four_children_with_casenotes(store, mosaic)
        mosaic.delay_next(1000, 0.5)
        env = environment(
            postgres_url,
            mosaic_url=mosaic.url,
            mosaic_username="gw",
            mosaic_password="pw",
            worker_poll_seconds="0.1",
            escalation_every_seconds="3600",
        )
        log = tmp_path / "serve.log"
        port = free_port()
        process = start(env, "serve", "--port", str(port), "--with-worker", log=str(log))
        try:
            wait_for(lambda: len(mosaic.notes) >= 1, 60, "the first casenote")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) in (0, -signal.SIGTERM)
        finally:
            if process.poll() is None:
                process.kill()
        written = log.read_text()
        assert "released unsent messages" in written
        assert "worker stopped" in written
        assert _count(engine, outbox.c.status == "in_flight") == 0
        assert _mosaic(engine, "delivered") == len(mosaic.notes)
        assert _mosaic(engine, "pending") >= 1
    engine.dispose()
