"""Requests and their latency, per route template, counted outermost.

Outermost so that refusals count too: a bad token (401), a throttled address (429) or an
unreachable database (503) is raised by the authentication middleware as an exception, not
sent as a response, and only becomes one further out. A counter that read the status from the
response alone would record those as 200 in no time at all, hiding exactly the failures an
alert is for; this one takes the exception's status (500 for anything unexpected).
"""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from gateway.observability import process_metrics  # noqa: F401 - its settings apply here too

# Seconds; a portal notice takes tens of milliseconds, a large feed upload seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "gateway_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "path", "status_code"],
)
LATENCY = Histogram(
    "gateway_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ["method", "path", "status_code"],
    buckets=LATENCY_BUCKETS,
)
IN_PROGRESS = Gauge(
    "gateway_requests_in_progress",
    "HTTP requests being answered, by method and route template",
    ["method", "path"],
    multiprocess_mode="livesum",
)

NOT_COUNTED = frozenset({"/metrics"})  # the scraper's own requests


def http_metrics(app: ASGIApp) -> ASGIApp:
    """Litestar middleware factory. It runs on matched routes only, so ``path_template`` is
    always there and no raw path (which could hold a child's id) becomes a label."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path_template") or "unmatched"
        if scope["type"] != ScopeType.HTTP or path in NOT_COUNTED:
            await app(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        status = 500
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        IN_PROGRESS.labels(method, path).inc()
        try:
            await app(scope, receive, observed)
        except BaseException as exc:
            status = _status_of(exc)
            raise
        finally:
            IN_PROGRESS.labels(method, path).dec()
            labels = (method, path, str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)

    return middleware


def _status_of(exc: BaseException) -> int:
    status: Any = getattr(exc, "status_code", None)
    return status if isinstance(status, int) and 100 <= status <= 599 else 500
