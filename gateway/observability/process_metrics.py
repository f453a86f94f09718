"""Counters kept by one process (summed across pods by Prometheus). Kept apart from
gateway/observability/metrics.py so the worker does not import the web framework to count."""

from __future__ import annotations

from prometheus_client import Counter, disable_created_metrics

# `_created` series double every counter for a timestamp dashboards do not use.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Bodies refused before they were archived: the client's daily archive budget was spent
# (gateway/store/archive.py), by source (attendance_feed, portal, roll, gias, ...).
ARCHIVE_REFUSALS = Counter(
    "gateway_archive_refusals",
    "Bodies refused unarchived by this process because their client's daily archive budget "
    "was spent, by source",
    ["source"],
)

# Counted by the worker process that made the attempt (gateway/delivery/worker.py).
DELIVERY_RESULTS = Counter(
    "gateway_worker_deliveries",
    "Delivery attempts settled by this worker process, by destination and result "
    "(delivered, transient, dead, permanent, parked, released)",
    ["destination", "result"],
)
