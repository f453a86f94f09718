"""The worker's own small HTTP port: a liveness probe and its Prometheus counters.

The worker takes no requests, but Kubernetes needs to know it is still making progress, and
its delivery counters exist only in its own process. Liveness is open like the API's health
checks; /metrics needs a token with the ``metrics`` scope, checked against the same store.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from gateway.security.clients import authenticate
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.worker.http")


class WorkerProbe:
    """Alive while every background thread runs and the delivery loop has moved within
    ``stale_after`` seconds (a loop stuck longer than a lease has lost its claims anyway)."""

    def __init__(
        self,
        threads: Sequence[threading.Thread],
        heartbeat: Callable[[], float],
        stale_after: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threads = list(threads)
        self._heartbeat = heartbeat
        self._stale_after = stale_after
        self._now = now

    def problems(self) -> list[str]:
        found = [f"thread {t.name} has stopped" for t in self._threads if not t.is_alive()]
        idle = self._now() - self._heartbeat()
        if idle > self._stale_after:
            found.append(f"the delivery loop has not moved for {idle:.0f} s")
        return found


def serve_worker_http(
    host: str, port: int, probe: WorkerProbe, store: Store
) -> ThreadingHTTPServer:
    """Started on a daemon thread; the caller shuts it down when the worker stops."""

    class Handler(BaseHTTPRequestHandler):
        # An idle or trickling connection is dropped, not kept on a thread for ever.
        timeout = 10

        def do_GET(self) -> None:
            if self.path == "/health/live":
                problems = probe.problems()
                status = HTTPStatus.SERVICE_UNAVAILABLE if problems else HTTPStatus.OK
                body = {"status": "unavailable" if problems else "ok", "problems": problems}
                self._answer(status, json.dumps(body).encode(), "application/json")
            elif self.path == "/metrics":
                self._metrics()
            else:
                self._answer(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

        def _metrics(self) -> None:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            try:
                client = authenticate(store, token.strip()) if scheme.lower() == "bearer" else None
            except SQLAlchemyError:
                self._answer(
                    HTTPStatus.SERVICE_UNAVAILABLE, b"the database is unreachable\n", "text/plain"
                )
                return
            if client is None:
                self._answer(HTTPStatus.UNAUTHORIZED, b"send a bearer token\n", "text/plain")
            elif "metrics" not in client.scopes:
                self._answer(HTTPStatus.FORBIDDEN, b"needs the metrics scope\n", "text/plain")
            else:
                self._answer(HTTPStatus.OK, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)

        def _answer(self, status: HTTPStatus, body: bytes, media: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes every few seconds are not worth a log line each."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    log.info("worker health and metrics listening", host=host, port=server.server_address[1])
    return server
