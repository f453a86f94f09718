"""Load: portal notifications at a steady rate from a second process, against the gateway
served as a deployment serves it, with latency percentiles and errors.

The baseline is measured in the same run: the same rate of `GET /health/live` (no database, no
body), so the printed ratio says what a notification costs above the server's own floor on
this machine, whatever the machine is. Figures are printed and written to a JSON file; nothing
here is a timed test.

    python -m bench.portal_load --rate 200 --seconds 60 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any, TextIO

import httpx
import sqlalchemy as sa

from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from tests.resilience.processes import free_port, wait_for
from tests.support import make_upn

EXAMPLE = pathlib.Path(__file__).parents[1] / "contracts" / "portal" / "examples" / "illness.json"


def notifications(count: int) -> list[bytes]:
    """Distinct notices: each its own pupil, so each opens a case (the heavier path)."""
    base = json.loads(EXAMPLE.read_text())
    base["child"].pop("nhs_number", None)
    bodies = []
    for n in range(count):
        body = copy.deepcopy(base)
        body["notification_id"] = f"LOAD-{n:06d}"
        body["child"]["upn"] = make_upn(n % 1000, year=f"{(n // 1000) % 100:02d}")
        bodies.append(json.dumps(body).encode())
    return bodies


async def _drive(
    url: str, headers: dict[str, str], bodies: list[bytes] | None, rate: float, seconds: float
) -> dict[str, Any]:
    """Open loop: requests leave on schedule whether or not earlier ones have answered, so a
    slow server shows as latency, not as a politely reduced rate."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(index: int) -> None:
            started = time.perf_counter()
            try:
                if bodies is None:
                    answer = await client.get(url, headers=headers)
                else:
                    answer = await client.post(url, headers=headers, content=bodies[index])
                status = answer.status_code
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors[str(status)] = errors.get(str(status), 0) + 1

        begin = time.perf_counter()
        tasks = []
        for index in range(total):
            delay = begin + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return {
        "requests": total,
        "answered": len(latencies),
        "errors": errors,
        "achieved_rate": round(total / elapsed, 1),
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "p99_ms": _percentile(latencies, 99),
    }


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 1)


def run(
    rate: float,
    seconds: float,
    database_url: str | None,
    workers: int = 1,
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """``database_url`` names a PostgreSQL server; a database of the run's own is made on it
    and dropped afterwards. Without it the run uses a SQLite file."""
    with tempfile.TemporaryDirectory() as scratch, _database(database_url, scratch) as url:
        engine = make_engine(url)
        upgrade(engine)
        _, token = create_client(Store(engine), f"load-{os.getpid()}-{time.time_ns()}", ALL_SCOPES)
        engine.dispose()
        port = free_port()
        env = {**os.environ, "GATEWAY_DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "WARNING"}
        with open(f"{scratch}/server.log", "wb") as log:
            server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [
                    *(sys.executable, "-m", "gateway", "serve", "--port", str(port)),
                    *("--workers", str(workers)),
                ],
                env=env,
                stdout=log,
                stderr=log,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _up(base), 30, "the gateway to start")
            auth = {"Authorization": f"Bearer {token}"}
            floor = asyncio.run(_drive(f"{base}/health/live", {}, None, rate, seconds))
            bodies = notifications(int(rate * seconds))
            load = asyncio.run(
                _drive(
                    f"{base}/api/v1/portal/notifications",
                    auth | {"Content-Type": "application/json"},
                    bodies,
                    rate,
                    seconds,
                )
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    ratio = (
        round(load["p99_ms"] / floor["p99_ms"], 1)
        if load["p99_ms"] is not None and floor["p99_ms"]
        else None
    )
    figures = {
        "rate": rate,
        "seconds": seconds,
        "store": "postgresql" if database_url else "sqlite",
        "api_processes": workers,
        "cores": os.cpu_count(),
        "baseline_health_live": floor,
        "portal_notifications": load,
        "p99_ratio_to_baseline": ratio,
    }
    print(
        f"portal notifications at {rate:g}/s for {seconds:g} s ({figures['store']}, "
        f"{workers} API process(es), {os.cpu_count()} cores)",
        file=out,
    )
    for name, row in (("baseline GET /health/live", floor), ("POST notifications", load)):
        print(
            f"  {name}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, p99 {row['p99_ms']} ms, "
            f"achieved {row['achieved_rate']}/s, errors {row['errors'] or 'none'}",
            file=out,
        )
    print(f"  notification p99 / baseline p99 = {ratio}", file=out)
    return figures


@contextlib.contextmanager
def _database(server: str | None, scratch: str) -> Iterator[str]:
    if server is None:
        yield f"sqlite:///{scratch}/bench.db"
        return
    name = f"bench_{os.getpid()}_{time.time_ns() % 10**9}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/live", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1, help="API processes (PostgreSQL)")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write the figures here")
    args = parser.parse_args()
    figures = run(args.rate, args.seconds, args.database_url, args.workers)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
