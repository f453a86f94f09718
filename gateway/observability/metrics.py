"""Prometheus metrics.

Two kinds, on purpose:

- Per-process figures (HTTP requests and their latency in an API process; delivery results in
  a worker) live in prometheus_client's registry and are summed across pods by Prometheus.
- The state of the work (outbox depth, deliveries by result, feed records accepted and
  rejected, clocks breached) is read from the database at scrape time. The database is the one
  place every replica agrees on, and these figures survive restarts; every replica reports
  the same values, so dashboards take ``max`` of them, not ``sum`` (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.observability import process_metrics  # noqa: F401 - its settings apply here too
from gateway.store.schema import attendance_feeds, clocks, delivery_attempts, outbox
from gateway.store.unit_of_work import Store

PREFIX = "gateway"

# Seconds; a portal notice takes tens of milliseconds, a large feed upload seconds.
LATENCY_BUCKETS: list[str | float] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
]  # fmt: skip


def http_metrics() -> PrometheusConfig:
    """Requests and latency per route template (never the raw path: ids would make a series
    per child)."""
    return PrometheusConfig(
        app_name=PREFIX,
        prefix=PREFIX,
        group_path=True,
        buckets=LATENCY_BUCKETS,
        exclude=[r"^/metrics$"],
    )


class StoreCollector(Collector):
    """Reads the work's state from the database each time Prometheus scrapes."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        now = self._store.clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            connection = uow.connection
            yield _outbox(connection)
            yield _attempts(connection)
            yield from _feeds(connection)
            yield from _clocks(connection, now)


def exposition(store: Store) -> bytes:
    """This process's metrics, then the store's, as one text exposition."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return generate_latest(REGISTRY) + generate_latest(registry)


def _outbox(connection: sa.Connection) -> Metric:
    depth = GaugeMetricFamily(
        f"{PREFIX}_outbox_messages",
        "Outbox messages not yet delivered, by destination and status",
        labels=["destination", "status"],
    )
    rows = connection.execute(
        sa.select(outbox.c.destination, outbox.c.status, sa.func.count())
        .where(outbox.c.status.in_(("pending", "in_flight", "parked", "dead")))
        .group_by(outbox.c.destination, outbox.c.status)
    )
    for destination, status, count in rows:
        depth.add_metric([destination, status], int(count))
    return depth


def _attempts(connection: sa.Connection) -> Metric:
    results = CounterMetricFamily(
        f"{PREFIX}_deliveries",
        "Delivery attempts recorded, by destination and result (delivered, transient, "
        "permanent, parked, released, discarded)",
        labels=["destination", "result"],
    )
    rows = connection.execute(
        sa.select(outbox.c.destination, delivery_attempts.c.outcome, sa.func.count())
        .select_from(delivery_attempts.join(outbox, outbox.c.id == delivery_attempts.c.delivery_id))
        .group_by(outbox.c.destination, delivery_attempts.c.outcome)
    )
    for destination, outcome, count in rows:
        results.add_metric([destination, outcome], int(count))
    return results


def _feeds(connection: sa.Connection) -> Iterator[Metric]:
    records = CounterMetricFamily(
        f"{PREFIX}_feed_records",
        "Attendance feed records received, by result",
        labels=["result"],
    )
    accepted, rejected = connection.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(attendance_feeds.c.records_accepted), 0),
            sa.func.coalesce(sa.func.sum(attendance_feeds.c.records_rejected), 0),
        )
    ).one()
    records.add_metric(["accepted"], int(accepted))
    records.add_metric(["rejected"], int(rejected))
    yield records
    feeds = GaugeMetricFamily(f"{PREFIX}_feeds", "Attendance feeds by status", labels=["status"])
    for status, count in connection.execute(
        sa.select(attendance_feeds.c.status, sa.func.count()).group_by(attendance_feeds.c.status)
    ):
        feeds.add_metric([status], int(count))
    yield feeds


def _clocks(connection: sa.Connection, now: dt.datetime) -> Iterator[Metric]:
    states = GaugeMetricFamily(f"{PREFIX}_clocks", "Statutory clocks by state", labels=["state"])
    for state, count in connection.execute(
        sa.select(clocks.c.state, sa.func.count()).group_by(clocks.c.state)
    ):
        states.add_metric([state], int(count))
    yield states
    breached = GaugeMetricFamily(
        f"{PREFIX}_clocks_breached",
        "Clocks still running or paused after their due moment, by agency",
        labels=["agency"],
    )
    for agency, count in connection.execute(
        sa.select(clocks.c.agency, sa.func.count())
        .where(clocks.c.state.in_(("running", "paused")), clocks.c.due_at < now)
        .group_by(clocks.c.agency)
    ):
        breached.add_metric([agency], int(count))
    yield breached
    late = CounterMetricFamily(
        f"{PREFIX}_clocks_met_late",
        "Clocks met after their due moment, by agency",
        labels=["agency"],
    )
    for agency, count in connection.execute(
        sa.select(clocks.c.agency, sa.func.count())
        .where(clocks.c.state == "met", clocks.c.met_at > clocks.c.due_at)
        .group_by(clocks.c.agency)
    ):
        late.add_metric([agency], int(count))
    yield late
