"""GET /metrics: Prometheus text exposition, for a scraper holding a token with the
``metrics`` scope (every endpoint but the health checks needs credentials)."""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.api.auth import scope_guard, scoped
from gateway.observability.metrics import exposition


@get(
    "/metrics",
    operation_id="metrics",
    tags=["operations"],
    guards=[scope_guard],
    media_type="text/plain",
    **scoped("metrics"),
)
async def metrics(state: State) -> Response[bytes]:
    """Requests and latency of this process; outbox depth, deliveries by result, feed records
    accepted and rejected, and clocks breached from the database."""
    body = await anyio.to_thread.run_sync(
        exposition,
        state.store,
        state.settings.metrics_store_seconds,
        state.settings.feed_parse_lease_seconds,
    )
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
