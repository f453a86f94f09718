"""Where each millisecond of a school's attendance feed goes in the gateway, stage by stage.

    python -m bench.attendance_profile [--pupils 420] [--feeds 20] [--day-pupils 250000]
                                       [--day-schools 600] [--database-url URL] [--cprofile]

Explicit ``perf_counter`` spans around every stage of the path, put in by wrapping the
gateway's own functions and repository methods for the run (the engine is not changed). Each
span's time is its own, less the spans inside it; what no span covers is the stage's
"other Python" row, and the cyclic garbage collector's pauses are a row of their own. Two
shapes, each on a fresh scratch database and each for the first day of term (every pupil
new) and a later day (every pupil with running figures):

- one feed alone: ``--feeds`` schools of about ``--pupils`` pupils, each school's feed taken by
  ``ingest_feed`` and then applied on its own (``apply_queued(limit=1)``), one after another;
  the figures are the mean per feed (one more school goes first, untimed, to warm caches).
  This is the cost of a feed that arrives when no other is waiting;
- the whole day batched, as ``bench/attendance.py`` runs it: every school's feed ingested,
  then the applier takes the queue in its batches (up to 1,000 feeds a transaction); the
  figures are the day's totals divided by the number of feeds.

Logging is configured as the service's (JSON, redacted, INFO) to /dev/null. Spans cost about
a microsecond each; the per-pupil thresholds span (one call a pupil) is lighter, and its cost
is printed. ``--cprofile`` also runs a third day of the one-feed-alone shape under cProfile
and prints the functions with the most own time. Nothing here is a test; it prints tables.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import gc
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from adapters.mis.readers import mis_readers
from bench.attendance import (
    DAY_ONE,
    DAY_THREE,
    DAY_TWO,
    FixedClock,
    authority,
    day_bodies,
    scratch_database,
)
from gateway.attendance.statistics import PupilYear
from gateway.intake import attendance_feed, feed_applier, feed_apply
from gateway.intake.attendance_feed import FeedUpload, ingest_feed, spool_digest
from gateway.intake.feed_applier import apply_queued
from gateway.logs import configure_logging
from gateway.model.client import ALL_SCOPES, Client
from gateway.store import Store, UnitOfWork, archive, make_engine
from gateway.store.archive import ArchiveRepository
from gateway.store.attendance import AttendanceRepository
from gateway.store.migrate import upgrade
from gateway.store.outbox import OutboxRepository
from gateway.store.timeline import TimelineRepository

INTAKE, APPLIER = "intake (ingest_feed)", "applier (apply_queued)"


class Spans:
    """Own time per (phase, stage): a span's elapsed time less the spans inside it."""

    def __init__(self) -> None:
        self.own: dict[tuple[str, str], float] = defaultdict(float)
        self.phase = INTAKE
        self._stack: list[list[Any]] = []  # [stage, started, time in inner spans]
        self.collected = 0.0  # seconds in the cyclic garbage collector, all phases
        self.absent: list[str] = []  # stages named below that this engine no longer has

    def on_gc(self, event: str, info: dict[str, int]) -> None:
        """gc.callbacks: the collector's pauses are a stage of their own."""
        if event == "start":
            self.enter("garbage collection (cyclic GC pauses)")
        else:
            started = self._stack[-1][1]
            self.exit()
            self.collected += time.perf_counter() - started

    def reset(self) -> None:
        self.own.clear()

    def enter(self, stage: str) -> None:
        self._stack.append([stage, time.perf_counter(), 0.0])

    def exit(self) -> None:
        stage, started, inner = self._stack.pop()
        elapsed = time.perf_counter() - started
        self.own[(self.phase, stage)] += elapsed - inner
        if self._stack:
            self._stack[-1][2] += elapsed

    @contextmanager
    def span(self, stage: str) -> Iterator[None]:
        self.enter(stage)
        try:
            yield
        finally:
            self.exit()

    def wrap(self, stage: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.enter(stage if isinstance(stage, str) else stage(*args))
            try:
                return fn(*args, **kwargs)
            finally:
                self.exit()

        return timed

    def wrap_light(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """For a function called once a pupil: no stack of its own (it calls no span)."""

        def timed(*args: Any) -> Any:
            collected = self.collected
            started = time.perf_counter()
            result = fn(*args)
            elapsed = time.perf_counter() - started - (self.collected - collected)
            self.own[(self.phase, stage)] += elapsed
            self._stack[-1][2] += elapsed
            return result

        return timed


SPANS = Spans()


class TimedStore(Store):
    """Store.unit_of_work as it is, with the pool checkout and the commit as spans."""

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        with SPANS.span("connection checkout and return"):
            connection = self.engine.connect()
        try:
            if read_only:
                connection = connection.execution_options(read_only=True)
            transaction = connection.begin()
            try:
                yield UnitOfWork(connection, self.clock.now(), self.pack)
            except BaseException:
                transaction.rollback()
                raise
            with SPANS.span("commit (durable: WAL flushed)"):
                transaction.commit()
        finally:
            with SPANS.span("connection checkout and return"):
                connection.close()


def _timed_parse(parse_feed: Callable[..., Any]) -> Callable[..., Any]:
    """The body's reading (JSON decode into RawMarks) apart from the validation loop."""

    def parse(items: Iterable[Any], **kwargs: Any) -> Any:
        with SPANS.span("parse: JSON body decoded into RawMarks"):
            read = list(items)
        with SPANS.span("validate: every record checked, accepted list built"):
            return parse_feed(read, **kwargs)

    return parse


def _encode_stage(value: Any) -> str:
    first = next(iter(value.values()), None) if isinstance(value, dict) else None
    return (
        "encode the school-year blob (msgpack)"
        if isinstance(first, PupilYear)
        else "encode the day's register (msgpack)"
    )


@contextmanager
def instrumented() -> Iterator[None]:
    """The stages of the path wrapped in spans until the block ends (in memory only)."""
    wrap = SPANS.wrap
    repo = AttendanceRepository
    patches: list[tuple[Any, str, str | Callable[..., str]]] = [
        # intake
        (attendance_feed, "_duplicate", "duplicate check (SELECT)"),
        (archive, "_compress", "archive: body compressed (zlib)"),
        (ArchiveRepository, "keep", "archive: budget check, INSERT inbound_archive"),
        (repo, "create_feed", "archive: INSERT attendance_feeds"),
        (attendance_feed, "_archive", "archive: log line"),
        (attendance_feed, "check_school", "validate: school checked (SELECT)"),
        (attendance_feed, "_encode_staged", "queue: staged records encoded (msgpack)"),
        (repo, "add_rejections", "queue: INSERT rejections"),
        (repo, "update_feed", "queue: UPDATE attendance_feeds with staged records"),
        (attendance_feed, "queue_parsed", "queue: report and staged records built"),
        # applier
        (repo, "hold_applier", "applier lock (SELECT pg_try_advisory_xact_lock)"),
        (repo, "claim_queued", "claim: SELECT queued feeds FOR UPDATE"),
        (feed_applier, "decode_staged", "claim: staged records decoded"),
        (repo, "upsert_identities", "identities (CTF only)"),
        (repo, "lock_school_years", "load: school-year blob (SELECT FOR UPDATE; INSERT new)"),
        (repo, "registers_of", "load: the day's register (SELECT)"),
        (feed_apply, "_decode_states", "decode the school-year blob (msgpack)"),
        (feed_apply, "_merge", "merge marks into the day's register"),
        (feed_apply, "_advance", "per-pupil apply (apply_day)"),
        (feed_apply, "_rebuilt", "rebuild corrected pupils"),
        (feed_apply, "_encode", _encode_stage),
        (repo, "write_registers", "write: register (INSERT or UPDATE)"),
        (repo, "add_changes", "write: mark changes (INSERT)"),
        (repo, "add_enrolments", "write: enrolments (INSERT)"),
        (repo, "save_school_years", "write: school-year blob (UPDATE)"),
        (repo, "with_ehcp", "thresholds: EHC plans (SELECT children)"),
        (repo, "open_concerns_of", "concerns: open ones (SELECT)"),
        (repo, "child_ids", "concerns: children (SELECT)"),
        (repo, "add_minimal_children", "concerns: new children (INSERT)"),
        (repo, "add_concerns", "concerns: INSERT attendance_concerns"),
        (repo, "resolve_concerns", "concerns: resolved (UPDATE)"),
        (TimelineRepository, "append_many", "concerns: timeline (INSERT)"),
        (OutboxRepository, "enqueue", "concerns: outbox (INSERT)"),
        (feed_apply, "settle_concerns", "concerns: settled (Python)"),
        (repo, "complete_feeds", "complete: UPDATE attendance_feeds"),
        (feed_applier, "apply_feeds", "apply: other Python (grouping, rows, judgements)"),
    ]
    # A stage the engine no longer has (its functions renamed or gone) is named in the
    # report, not wrapped: the profile follows the engine, it does not pin its internals.
    SPANS.absent = [f"{getattr(o, '__name__', o)}.{n}" for o, n, _ in patches if not hasattr(o, n)]
    patches = [(owner, name, stage) for owner, name, stage in patches if hasattr(owner, name)]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    originals += [(attendance_feed, "parse_feed", attendance_feed.parse_feed)]
    judge = getattr(feed_apply, "_judge", None)
    if judge is not None:
        originals += [(feed_apply, "_judge", judge)]
    for owner, name, stage in patches:
        setattr(owner, name, wrap(stage, getattr(owner, name)))
    attendance_feed.parse_feed = _timed_parse(attendance_feed.parse_feed)
    if judge is not None:
        feed_apply._judge = SPANS.wrap_light("thresholds: evaluated per pupil", judge)
    gc.callbacks.append(SPANS.on_gc)
    try:
        yield
    finally:
        gc.callbacks.remove(SPANS.on_gc)
        for owner, name, original in originals:
            setattr(owner, name, original)


def light_span_cost(calls: int = 100_000) -> float:
    """Seconds one light span adds to a call (the thresholds' per-pupil span)."""
    probe = Spans()
    probe.enter("probe")
    wrapped = probe.wrap_light("x", lambda value: value)
    started = time.perf_counter()
    for n in range(calls):
        wrapped(n)
    with_span = time.perf_counter() - started
    bare = lambda value: value  # noqa: E731
    started = time.perf_counter()
    for n in range(calls):
        bare(n)
    return (with_span - (time.perf_counter() - started)) / calls


def _upload(urn: str, body: bytes) -> tuple[FeedUpload, io.BytesIO]:
    stream = io.BytesIO(body)
    with SPANS.span("receive: body hashed (sha256, by the API)"):
        sha256, size = spool_digest(stream)
    upload = FeedUpload(
        format="json",
        content_type="application/json",
        sha256=sha256,
        size=size,
        school_urn=urn,
        academic_year=2025,
    )
    return upload, stream


class Shape:
    """One day's result: own seconds per (phase, stage), feeds, records, wall seconds."""

    def __init__(self, own: dict[tuple[str, str], float], feeds: int, records: int) -> None:
        self.own = dict(own)
        self.feeds = feeds
        self.records = records
        self.totals = {phase: 0.0 for phase in (INTAKE, APPLIER)}
        for (phase, _), seconds in own.items():
            self.totals[phase] += seconds


def _ingest(store: Store, bodies: dict[str, bytes]) -> int:
    readers = mis_readers()
    caller = Client(id="bench", name="bench", scopes=ALL_SCOPES, created_at=store.clock.now())
    accepted = 0
    SPANS.phase = INTAKE
    for urn, body in bodies.items():
        with SPANS.span("other Python"):
            upload, stream = _upload(urn, body)
            accepted += ingest_feed(store, upload, stream, readers["json"], caller).records_accepted
    return accepted


def _apply(store: Store, limit: int) -> int:
    SPANS.phase = APPLIER
    applied = 0
    while True:
        with SPANS.span("other Python"):
            done = apply_queued(store, limit=limit)
        if not done:
            return applied
        applied += done


def one_feed_alone(
    store_for: Callable[[dt.date], Store], bodies: dict[str, bytes], day: dt.date
) -> Shape:
    store = store_for(day)
    items = list(bodies.items())
    _ingest(store, dict(items[:1]))  # warm-up, untimed
    _apply(store, 1)
    SPANS.reset()
    records = 0
    for urn, body in items[1:]:
        records += _ingest(store, {urn: body})
        SPANS.phase = APPLIER
        with SPANS.span("other Python"):
            applied = apply_queued(store, limit=1)
        assert applied == 1, f"{urn}'s feed was not applied"
    return Shape(SPANS.own, len(items) - 1, records)


def whole_day(
    store_for: Callable[[dt.date], Store], bodies: dict[str, bytes], day: dt.date
) -> Shape:
    store = store_for(day)
    SPANS.reset()
    records = _ingest(store, bodies)
    _apply(store, feed_applier.BATCH)
    return Shape(SPANS.own, len(bodies), records)


@contextmanager
def _stores(url: str) -> Iterator[Callable[[dt.date], Store]]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield lambda day: TimedStore(engine, FixedClock(day))
    finally:
        engine.dispose()


def table(title: str, first: Shape, later: Shape) -> str:
    """Stage -> ms per feed and share of the feed's total, first day and later day; rows
    in order of the two days' ms together."""
    lines = [
        f"{title}",
        f"  first day: {first.feeds} feeds, {first.records / first.feeds:,.0f} pupils a feed; "
        f"later day: {later.feeds} feeds, {later.records / later.feeds:,.0f} pupils a feed",
        "",
        "| stage | first day ms/feed | share | later day ms/feed | share |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    first_total = sum(first.totals.values())
    later_total = sum(later.totals.values())
    for phase in (INTAKE, APPLIER):
        stages = dict.fromkeys(stage for (p, stage) in [*first.own, *later.own] if p == phase)
        rows = []
        for stage in stages:
            a = first.own.get((phase, stage), 0.0)
            b = later.own.get((phase, stage), 0.0)
            if a * 1000 / first.feeds < 0.0005 and b * 1000 / later.feeds < 0.0005:
                continue
            rows.append((a / first.feeds + b / later.feeds, a, b, stage))
        rows.sort(reverse=True)
        for _, a, b, stage in rows:
            lines.append(
                f"| {phase.split(' ')[0]}: {stage} | {a * 1000 / first.feeds:.3f} | "
                f"{a / first_total:.1%} | {b * 1000 / later.feeds:.3f} | {b / later_total:.1%} |"
            )
        lines.append(
            f"| **{phase} total** | **{first.totals[phase] * 1000 / first.feeds:.2f}** | "
            f"**{first.totals[phase] / first_total:.1%}** | "
            f"**{later.totals[phase] * 1000 / later.feeds:.2f}** | "
            f"**{later.totals[phase] / later_total:.1%}** |"
        )
    lines.append(
        f"| **the feed, end to end** | **{first_total * 1000 / first.feeds:.2f}** | 100% | "
        f"**{later_total * 1000 / later.feeds:.2f}** | 100% |"
    )
    lines.append(
        f"  records/s at this cost (records / the spans' total): first day "
        f"{first.records / first_total:,.0f}, later day {later.records / later_total:,.0f}"
    )
    return "\n".join(lines) + "\n"


def database_version(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        version = str(connection.exec_driver_sql("SELECT version()").scalar())
    engine.dispose()
    return version


def profile(
    *,
    pupils: int,
    feeds: int,
    day_pupils: int,
    day_schools: int,
    database_url: str | None,
    cprofile: bool = False,
    out: TextIO | None = None,
) -> dict[str, Shape]:
    """Print the tables; returns the shapes measured, by name."""
    write = (out or sys.stdout).write
    shapes: dict[str, Shape] = {}
    with instrumented(), scratch_database(database_url) as url:
        server = database_version(url) if "postgres" in url else "SQLite"
        write(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {server}\n")
        write(f"light span (thresholds, per pupil): {light_span_cost() * 1e6:.2f} µs a call\n\n")
        roll = authority(pupils * (feeds + 1), feeds + 1)
        with _stores(url) as stores:
            shapes["alone_first"] = one_feed_alone(stores, day_bodies(roll, DAY_ONE, 1), DAY_ONE)
            shapes["alone_later"] = one_feed_alone(stores, day_bodies(roll, DAY_TWO, 2), DAY_TWO)
            title = "One feed alone: ingest_feed, then apply_queued(limit=1)"
            write(table(title, shapes["alone_first"], shapes["alone_later"]))
            if cprofile:
                profiler = cProfile.Profile()
                profiler.enable()
                one_feed_alone(stores, day_bodies(roll, DAY_THREE, 3), DAY_THREE)
                profiler.disable()
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
                write("\ncProfile, a later day, one feed alone (own time):\n" + text.getvalue())
    if not day_schools:
        return shapes
    roll = authority(day_pupils, day_schools)
    with instrumented(), scratch_database(database_url) as url, _stores(url) as stores:
        shapes["day_first"] = whole_day(stores, day_bodies(roll, DAY_ONE, 1), DAY_ONE)
        shapes["day_later"] = whole_day(stores, day_bodies(roll, DAY_TWO, 2), DAY_TWO)
    title = "The whole day: every feed ingested, then the applier's batches"
    write("\n" + table(title, shapes["day_first"], shapes["day_later"]))
    if SPANS.absent:
        write("\nstages this engine no longer has (not timed): " + ", ".join(SPANS.absent) + "\n")
    return shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=420, help="pupils a school, one feed alone")
    parser.add_argument("--feeds", type=int, default=20, help="schools timed, one feed alone")
    parser.add_argument("--day-pupils", type=int, default=250_000)
    parser.add_argument("--day-schools", type=int, default=600, help="0: no whole-day shape")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GATEWAY_BENCH_DATABASE_URL")
        or os.environ.get("GATEWAY_TEST_DATABASE_URL"),
        help="a PostgreSQL server to make scratch databases on (default: SQLite)",
    )
    parser.add_argument("--cprofile", action="store_true", help="also run a day under cProfile")
    args = parser.parse_args()
    configure_logging("INFO", json=True, stream=open(os.devnull, "w"))  # noqa: SIM115
    profile(
        pupils=args.pupils,
        feeds=args.feeds,
        day_pupils=args.day_pupils,
        day_schools=args.day_schools,
        database_url=args.database_url,
        cprofile=args.cprofile,
    )


if __name__ == "__main__":
    main()
