"""Counters kept by one process (summed across pods by Prometheus). Kept apart from
gateway/observability/metrics.py so the worker does not import the web framework to count."""

from __future__ import annotations

from prometheus_client import Counter, disable_created_metrics

# `_created` series double every counter for a timestamp dashboards do not use.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Counted by the worker process that made the attempt (gateway/delivery/worker.py).
DELIVERY_RESULTS = Counter(
    "gateway_worker_deliveries",
    "Delivery attempts settled by this worker process, by destination and result "
    "(delivered, transient, dead, permanent, parked, released)",
    ["destination", "result"],
)
