"""Starting the gateway as its own processes, as a deployment runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_LOG_JSON": "true",
        **{f"GATEWAY_{key.upper()}": value for key, value in settings.items()},
    }


def start(env: Mapping[str, str], *args: str, log: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", *args], env=dict(env), stdout=out, stderr=out
        )


def serve(env: Mapping[str, str], log: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = start(env, "serve", "--host", "127.0.0.1", "--port", str(port), log=log)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _live(base), 30, "the API to start")
    return process, base


def _live(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/live", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:g} s for {what}")
