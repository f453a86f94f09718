"""The running service, as `make run` starts it: migrate, first-start admin token, a client
made with the CLI creates and reads a case, the in-process worker drains the outbox, and the
logs carry no child identifiers."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import child_json

TOKEN = re.compile(r"^\s+(s19_[A-Za-z0-9_-]+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: pathlib.Path) -> dict[str, str]:
    return {
        **os.environ,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'gateway.db'}",
        "GATEWAY_WORKER_POLL_SECONDS": "0.2",
        "GATEWAY_BOOTSTRAP_ADMIN": "true",
        # As `make run` starts it: no Mosaic, its casenotes written to the log.
        "GATEWAY_LOG_UNCONFIGURED_DESTINATIONS": "true",
    }


def gateway(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.fixture
def server(env: dict[str, str], tmp_path: pathlib.Path) -> Iterator[tuple[str, str, pathlib.Path]]:
    gateway(env, "migrate")
    port = free_port()
    stderr = tmp_path / "server.log"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--with-worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        admin_token = ""
        assert process.stdout is not None
        for line in process.stdout:
            if match := TOKEN.match(line):
                admin_token = match.group(1)
                break
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        try:
            yield base, admin_token, stderr
        finally:
            process.send_signal(signal.SIGTERM)
            # uvicorn shuts down cleanly, then re-raises the signal it caught.
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)
            assert "Application shutdown complete" in stderr.read_text()


def test_fresh_store_serves_a_case_end_to_end(
    server: tuple[str, str, pathlib.Path], env: dict[str, str]
) -> None:
    base, admin_token, log_file = server
    assert admin_token, "first start prints a local admin token"
    ready = httpx.get(
        f"{base}/health/ready", headers={"Authorization": f"Bearer {admin_token}"}
    ).json()
    assert (ready["database"], ready["migrations"]) == ("ok", "current")

    printed = gateway(
        env, "client", "create", "--name", "pru", "--scopes", "cases:read,cases:write"
    )
    [token] = TOKEN.findall(printed)
    auth = {"Authorization": f"Bearer {token}"}
    child = child_json(11)
    child_id = httpx.post(f"{base}/api/v1/children", headers=auth, json=child).json()["id"]
    body = {"child_id": child_id, "reason": "exclusion", "source": "school", "summary": "PEX"}
    created = httpx.post(f"{base}/api/v1/cases", headers=auth, json=body)
    assert created.status_code == 201, created.text
    read = httpx.get(f"{base}/api/v1/cases/{created.json()['id']}", headers=auth)
    assert read.json()["reason"] == "exclusion"
    assert read.json()["timeline"][0]["actor"] == "pru"
    upn = child["identifiers"]["upn"]
    found = httpx.get(f"{base}/api/v1/children", headers=auth, params={"upn": upn})
    assert found.json()["id"] == child_id
    # A name and a UPN typed where an id belongs, and a path no route knows.
    typed = f"Zephyrine-Okonkwo-{upn.lower()}"
    assert httpx.get(f"{base}/api/v1/children/{typed}", headers=auth).status_code == 404
    assert httpx.get(f"{base}/nowhere/{typed}", headers=auth).status_code == 404

    admin = {"Authorization": f"Bearer {admin_token}"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = httpx.get(f"{base}/api/v1/admin/deliveries", headers=admin).json()
        if len(page["items"]) == 4 and all(d["status"] == "logged" for d in page["items"]):
            break
        time.sleep(0.2)
    # The case's opening and its routing decision, as casenotes for Mosaic.
    kinds = sorted({d["kind"] for d in page["items"]})
    assert kinds == ["case.case_opened", "case.clock_changed", "case.decision_recorded"]
    assert {d["status"] for d in page["items"]} == {"logged"}

    # Nothing identifying in the logs, though the UPN travelled in a query string.
    time.sleep(0.3)
    logs = log_file.read_text()
    assert '"path": "/api/v1/children"' in logs and "outbound message" in logs
    assert '"path": "/api/v1/children/{child_id}"' in logs
    for secret in (
        upn,
        upn.lower(),
        "Zephyrine",
        child["identifiers"]["nhs_number"],
        "Rowntree",
        "2014-03-09",
    ):
        assert secret not in logs


def test_the_admin_token_is_printed_on_first_start_only(
    server: tuple[str, str, pathlib.Path], env: dict[str, str]
) -> None:
    listed = gateway(env, "client", "list")
    assert "local-admin" in listed
    assert "s19_" not in listed  # tokens are never shown again


def test_a_broken_policy_stops_the_service_naming_it(env: dict[str, str]) -> None:
    gateway(env, "migrate")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())],
        env={**env, "GATEWAY_POLICY": "atlantis"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "no policy pack 'atlantis'" in done.stderr
    assert "lincolnshire" in done.stderr  # it says which packs there are
