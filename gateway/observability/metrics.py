"""Prometheus metrics.

Two kinds, on purpose:

- Per-process figures (HTTP requests and their latency in an API process; delivery results in
  a worker) live in prometheus_client's registry and are summed across pods by Prometheus.
- The state of the work (outbox depth, deliveries by result, feed records accepted and
  rejected, clocks breached) is read from the database at scrape time. The database is the one
  place every replica agrees on, and these figures survive restarts; every replica reports
  the same values, so dashboards take ``max`` of them, not ``sum`` (docs/operations.md).
  Each query is a grouped count over an indexed column, and the answer is kept for a few
  seconds, so several replicas scraped by several Prometheus servers cost the database little.

Under ``gateway serve --workers N`` the processes share one port, and a scrape reaches any one
of them: they then keep their counters in ``PROMETHEUS_MULTIPROC_DIR`` (the command sets it)
and every scrape reads all of them.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.observability import process_metrics  # noqa: F401 - its settings apply here too
from gateway.store.attendance import READING
from gateway.store.schema import attendance_feeds, clocks, outbox
from gateway.store.types import UTCDateTime
from gateway.store.unit_of_work import Store

PREFIX = "gateway"

# Messages in these states are waiting or need a person; the others are settled for good.
OPEN_STATES = ("pending", "in_flight", "parked", "dead")
SETTLED_STATES = ("delivered", "logged", "discarded")


class StoreCollector(Collector):
    """Reads the work's state from the database when Prometheus scrapes, at most once per
    ``fresh_for`` seconds for one store (GATEWAY_METRICS_STORE_SECONDS)."""

    _readings: dict[int, tuple[float, list[Metric]]] = {}
    _lock = threading.Lock()

    def __init__(
        self,
        store: Store,
        fresh_for: float,
        now: Callable[[], float] = time.monotonic,
        *,
        feed_parse_lease: float = 600.0,
    ) -> None:
        self._store = store
        self._fresh_for = fresh_for
        self._now = now
        self._feed_parse_lease = dt.timedelta(seconds=feed_parse_lease)

    def collect(self) -> Iterator[Metric]:
        key = id(self._store)
        with self._lock:
            taken = self._readings.get(key)
            if taken is None or self._now() - taken[0] >= self._fresh_for:
                taken = (self._now(), self._read())
                self._readings[key] = taken
        yield from taken[1]

    def _read(self) -> list[Metric]:
        moment = self._store.clock.now()
        with self._store.unit_of_work(read_only=True) as uow:
            connection = uow.connection
            return [
                *_outbox(connection),
                *_feeds(connection, moment - self._feed_parse_lease),
                *_clocks(connection, moment),
            ]


def exposition(store: Store, fresh_for: float = 5.0, feed_parse_lease: float = 600.0) -> bytes:
    """This process's metrics (every process's, under several), then the store's."""
    processes = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, fresh_for, feed_parse_lease=feed_parse_lease))
    return generate_latest(processes) + generate_latest(registry)


def _outbox(connection: sa.Connection) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        f"{PREFIX}_outbox_messages",
        "Outbox messages waiting or needing a person, by destination and status "
        "(pending, in_flight, parked, dead)",
        labels=["destination", "status"],
    )
    settled = CounterMetricFamily(
        f"{PREFIX}_deliveries",
        "Outbox messages settled for good, by destination and result (delivered, discarded)",
        labels=["destination", "result"],
    )
    rows = connection.execute(
        sa.select(outbox.c.destination, outbox.c.status, sa.func.count()).group_by(
            outbox.c.destination, outbox.c.status
        )
    )
    for destination, status, count in rows:
        if status in OPEN_STATES:
            depth.add_metric([destination, status], int(count))
        elif status in SETTLED_STATES:
            settled.add_metric([destination, status], int(count))
    yield depth
    yield settled


def _feeds(connection: sa.Connection, stalled_before: dt.datetime) -> Iterator[Metric]:
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
    feeds = GaugeMetricFamily(
        f"{PREFIX}_feeds",
        "Attendance feeds by status; stalled: being read with no progress for longer than the "
        "parse lease (cut off), waiting for the worker to read it again",
        labels=["status"],
    )
    # A feed whose reading stalled is not in progress: it is counted as stalled.
    status = sa.case(
        (
            attendance_feeds.c.status.in_(READING)
            & (attendance_feeds.c.updated_at < sa.literal(stalled_before, UTCDateTime)),
            "stalled",
        ),
        else_=attendance_feeds.c.status,
    ).label("status")
    for state, count in connection.execute(sa.select(status, sa.func.count()).group_by(status)):
        feeds.add_metric([state], int(count))
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
