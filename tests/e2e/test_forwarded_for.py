"""`gateway serve` counts failed logins against the address that connected, unless that address
is a proxy the deployment named in GATEWAY_TRUSTED_PROXIES: then against the address the proxy
forwarded. A guesser cannot reset the throttle by writing X-Forwarded-For itself."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from tests.resilience.processes import environment, serve

LIMIT = 3

Serve = Callable[..., tuple[str, str]]


@pytest.fixture
def gateway(tmp_path: pathlib.Path) -> Iterator[Serve]:
    """Start `gateway serve` with the settings given; returns its base URL and a valid token."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    engine = make_engine(url)
    upgrade(engine)
    _, token = create_client(Store(engine), "reader", ("cases:read",))
    engine.dispose()
    running: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> tuple[str, str]:
        env = environment(url, auth_failures_per_minute=str(LIMIT), **settings)
        env.pop("FORWARDED_ALLOW_IPS", None)  # uvicorn's own variable must not matter either
        process, base = serve(env, str(tmp_path / "server.log"))
        running.append(process)
        return base, token

    yield start
    for process in running:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def guess(base: str, token: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return httpx.get(f"{base}/api/v1/cases", headers=headers, timeout=10)


def assert_refused(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(detail)


def test_forged_forwarded_addresses_do_not_reset_the_throttle(gateway: Serve) -> None:
    base, token = gateway()  # GATEWAY_TRUSTED_PROXIES unset: no proxy is trusted
    for n in range(LIMIT):
        assert_refused(guess(base, f"s19_guess-{n}", f"203.0.113.{n}"), 401, "the token is unknown")
    throttled = guess(base, "s19_guess-x", "198.51.100.1")
    assert_refused(throttled, 429, "too many failed authentications")
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # The right token from the throttled address is served.
    assert guess(base, token, "198.51.100.2").json()["items"] == []


def test_a_trusted_proxys_forwarded_address_is_the_one_counted(gateway: Serve) -> None:
    base, token = gateway(trusted_proxies="127.0.0.1")
    for n in range(LIMIT):
        assert_refused(guess(base, f"s19_guess-{n}", "203.0.113.9"), 401, "the token is unknown")
    throttled = guess(base, "s19_guess-x", "203.0.113.9")
    assert_refused(throttled, 429, "too many failed authentications")
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # Another client behind the same proxy is not held up by that one, and neither is the
    # proxy's own address: each is counted for itself.
    assert_refused(guess(base, "s19_guess-y", "198.51.100.3"), 401, "the token is unknown")
    assert_refused(guess(base, "s19_guess-z"), 401, "the token is unknown")
    # An address the client wrote before the proxy's is not believed: the proxy is the only
    # hop trusted, so the address it saw (the last one) is counted.
    assert_refused(
        guess(base, "s19_guess-w", "198.51.100.4, 203.0.113.9"),
        429,
        "too many failed authentications",
    )
    assert guess(base, token, "203.0.113.9").json()["items"] == []


@pytest.mark.parametrize(
    ("workers", "database_url"),
    [("1", "sqlite:///{tmp}/gateway.db"), ("2", "postgresql+psycopg://nobody@127.0.0.1:9/none")],
)
@pytest.mark.parametrize(
    ("trusted", "proxy_headers", "allowed"),
    [(None, False, []), ("10.0.0.0/8, 192.0.2.1", True, ["10.0.0.0/8", "192.0.2.1"])],
)
def test_serve_gives_uvicorn_the_trusted_proxies_with_one_process_or_several(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    workers: str,
    database_url: str,
    trusted: str | None,
    proxy_headers: bool,
    allowed: list[str],
) -> None:
    """uvicorn is not started (its arguments are what is checked), and neither is a database
    reached; uvicorn's own FORWARDED_ALLOW_IPS would widen its default, and is ignored."""
    import uvicorn
    from click.testing import CliRunner

    from gateway.cli import main

    runs: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: runs.append(kwargs))
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    monkeypatch.setenv("GATEWAY_DATABASE_URL", database_url.format(tmp=tmp_path))
    monkeypatch.setenv("GATEWAY_WEB_CONCURRENCY", workers)
    if trusted is None:
        monkeypatch.delenv("GATEWAY_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", trusted)
    done = CliRunner().invoke(main, ["serve"])
    assert done.exit_code == 0, done.output
    [kwargs] = runs
    assert (kwargs.get("workers", 1), kwargs["proxy_headers"]) == (int(workers), proxy_headers)
    assert kwargs["forwarded_allow_ips"] == allowed


def test_a_proxy_that_is_not_an_address_stops_serve_naming_the_setting(
    tmp_path: pathlib.Path,
) -> None:
    env = environment(f"sqlite:///{tmp_path / 'gateway.db'}", trusted_proxies="10.0.0.1/8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "GATEWAY_TRUSTED_PROXIES: '10.0.0.1/8' is not an IP address or a network" in (
        done.stderr
    )
