"""`gateway serve --workers N`: several API processes on one port, one PostgreSQL store.
Notices sent at once over many connections each open their own case, none lost or doubled,
whichever process took them."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from bench.portal_load import notifications
from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from gateway.store.schema import cases, portal_notifications
from tests.resilience.processes import environment, free_port, start, wait_for


@pytest.mark.postgres
def test_several_processes_share_one_port_and_lose_nothing(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    database_url = postgres_url
    engine = make_engine(database_url)
    _, token = create_client(Store(engine), "portal-many", ALL_SCOPES)
    port = free_port()
    process = start(
        # INFO: the supervisor says there when it replaces a process.
        environment(database_url, log_level="INFO"),
        *("serve", "--port", str(port), "--workers", "2"),
        log=str(tmp_path / "server.log"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _live(base), 60, "two API processes to start")
        bodies = notifications(40)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def send(body: bytes) -> tuple[int, str]:
            try:
                with httpx.Client(timeout=30) as client:
                    answer = client.post(
                        f"{base}/api/v1/portal/notifications", content=body, headers=headers
                    )
            except httpx.TransportError as exc:
                log = (tmp_path / "server.log").read_text(errors="replace")
                raise AssertionError(f"{exc!r}; the server said:\n{log[-4000:]}") from exc
            return answer.status_code, answer.json().get("case_id", answer.text)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(send, bodies))
        # Whichever process a scrape reaches, it reports every process's requests.
        route = 'path="/api/v1/portal/notifications",status_code="201"'
        counted = []
        for _ in range(6):
            scrape = httpx.get(
                f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            assert scrape.status_code == 200, scrape.text
            [line] = [
                line
                for line in scrape.text.splitlines()
                if line.startswith("gateway_requests_total{") and route in line
            ]
            counted.append(float(line.rsplit(" ", 1)[1]))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert counted == [40.0] * 6
    assert [status for status, _ in answers] == [201] * 40
    assert len({case_id for _, case_id in answers}) == 40
    opened = {case_id for _, case_id in answers}
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(sa.func.count()).select_from(cases).where(cases.c.id.in_(opened))
        ).scalar()
        noticed = connection.execute(
            sa.select(sa.func.count())
            .select_from(portal_notifications)
            .where(portal_notifications.c.case_id.in_(opened))
        ).scalar()
    engine.dispose()
    assert (stored, noticed) == (40, 40)
    # Stopped gracefully, with the exit status SIGTERM gives.
    assert process.returncode in (0, -signal.SIGTERM), (tmp_path / "server.log").read_text()


def test_several_processes_on_sqlite_are_refused_with_the_reason(tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", str(free_port()), "--workers", "2"],
        env=environment(f"sqlite:///{tmp_path / 'g.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "several API processes need PostgreSQL" in done.stderr


def _live(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/live", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
