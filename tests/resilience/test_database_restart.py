"""PostgreSQL restarted under the running service: while it is down requests fail cleanly (503
with Retry-After, readiness says not ready), and once it is back they succeed again without the
gateway being restarted."""

from __future__ import annotations

import pathlib
import shutil
import signal
import subprocess

import httpx
import pytest

from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from tests.resilience.processes import environment, serve, wait_for

CLUSTER = ("15", "main")


def _cluster(action: str) -> None:
    mode = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", *CLUSTER, action, *mode], check=True, timeout=60)


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs Debian's pg_ctlcluster")
def test_requests_fail_cleanly_while_the_database_restarts_and_recover_after(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    engine = make_engine(postgres_url)
    _, token = create_client(Store(engine), "restart-check", ALL_SCOPES)
    engine.dispose()
    process, base = serve(environment(postgres_url), str(tmp_path / "api.log"))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        assert httpx.get(f"{base}/api/v1/cases", headers=headers, timeout=10).status_code == 200
        _cluster("stop")
        try:
            down = httpx.get(f"{base}/api/v1/cases", headers=headers, timeout=30)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert down.json()["title"] == "Service unavailable"
            assert httpx.get(f"{base}/health/ready", timeout=30).status_code == 503
            assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200
        finally:
            _cluster("start")
        wait_for(
            lambda: (
                httpx.get(f"{base}/api/v1/cases", headers=headers, timeout=10).status_code == 200
            ),
            60,
            "the API to answer again",
        )
        assert httpx.get(f"{base}/health/ready", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
