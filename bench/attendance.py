"""How fast an authority's attendance day goes through the gateway, against baselines
measured in the same run on the same machine.

    python -m bench.attendance [--pupils 250000] [--schools 600] [--concurrency 4]
                               [--database-url URL] [--json]

The authority is synthetic: ``--pupils`` pupils spread over ``--schools`` schools (about 420
pupils a school at the defaults), one JSON feed per school and day (msgspec-encoded, the
gateway's JSON feed format), with a realistic mix of register codes. Every rate below is
records (one pupil's AM and PM marks for one date) per second of wall-clock time.

Baselines, each loading the same later day's marks into a table shaped like a per-mark table
(``school_urn, upn, date, am, pm``, primary key ``(school_urn, date, upn)``, logged, so every
commit is durable) that already holds the first day's marks (loaded untimed first), as a
per-mark store would on any later day of term:

- raw decode: the day's JSON bodies decoded by msgspec into Structs, nothing else;
- raw: decode every body, format every row once into one COPY-text buffer, one COPY of that
  buffer, one commit; the least any loader must do with the whole day in hand;
- raw per school: the same, one school at a time, each with its own COPY and commit on one
  held connection: the least any loader must do when 600 schools push separately and each
  push must be durable before it is acknowledged. This is the baseline the targets use;
- pandas: the same rows as one CSV text, ``pandas.read_csv`` + ``DataFrame.to_sql`` (an
  analyst's load; no key, no validation).

On SQLite (the suite's tiny run only) raw and raw per school are executemany, not COPY.

The gateway: every school's feed through the intake as the API takes it (``ingest_feed``:
duplicate check, archive, parse, validate, queue, one commit per feed), then the applier
(``apply_queued``: registers, every pupil's running figures, thresholds, concerns) until the
queue is empty. The clock stops when the last feed is applied.

- gateway first day: the first day of term, every pupil new, one feed at a time;
- gateway later day, one feed at a time: the next day, every pupil with running figures;
- gateway later day: the day after, ``--concurrency`` feeds in flight at once (schools push
  independently and the API serves them on a thread pool). This is the later-day figure the
  targets use, and its wall-clock seconds are the "whole day" figure.

The gateway's days run in a child process of their own (spawned before this process makes
any data, so it inherits none of it) that logs as the service does (JSON, redacted, INFO; to
/dev/null) and makes each day's feed bodies itself just before the day starts. Its peak RSS
(``resource.getrusage`` ``ru_maxrss``) is the gateway's memory figure; it also holds the
synthetic roll and one day's bodies, printed as the RSS it had before its first feed.

Targets, each printed with its figure: later day / raw per school >= 0.5; later day / pandas
>= 3; first day / raw per school >= 0.3; the whole later day end to end <= 3 s at 250,000
pupils; the gateway's peak RSS <= 1 GiB at 2,000,000 pupils. ``--json`` prints every figure
and ratio as one JSON object on stdout (the text goes to stderr).

The database is a scratch one created and dropped by the run (PostgreSQL), or a temporary
SQLite file. Nothing here is a timed test; the suite runs it once, tiny, to keep it working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TextIO

import msgspec
import sqlalchemy as sa

from adapters.mis.readers import mis_readers
from gateway.intake.attendance_feed import FeedUpload, ingest_feed, spool_digest
from gateway.intake.feed_applier import apply_queued
from gateway.logs import configure_logging
from gateway.model.client import ALL_SCOPES, Client
from gateway.model.identifiers import upn_check_letter
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade

DAY_ONE = dt.date(2025, 9, 8)  # a Monday in the autumn term
DAY_TWO = dt.date(2025, 9, 9)
DAY_THREE = dt.date(2025, 9, 10)
# A realistic register: most present, some late, ill, unexplained, on approved activities.
MARKS = [("/", "\\")] * 88 + [("L", "\\")] * 3 + [("I", "I")] * 4 + [("N", "N")] * 2
MARKS += [("O", "O"), ("/", "M"), ("C2", "C2"), ("B", "B")]
GIB = 1 << 30
TARGETS = {
    "later_day_to_raw_per_school": 0.5,  # at least
    "later_day_to_pandas": 3.0,  # at least
    "first_day_to_raw_per_school": 0.3,  # at least
    "later_day_seconds_at_250000_pupils": 3.0,  # at most
    "peak_rss_bytes_at_2000000_pupils": float(GIB),  # at most
}
COPY_RAW = "COPY bench_raw_marks (school_urn, upn, date, am, pm) FROM STDIN"
RAW_TABLE = (
    "CREATE TABLE bench_raw_marks (school_urn varchar(6) NOT NULL, upn varchar(13) NOT NULL, "
    "date date NOT NULL, am varchar(2) NOT NULL, pm varchar(2) NOT NULL, "
    "PRIMARY KEY (school_urn, date, upn))"
)


class _Mark(msgspec.Struct):
    school_urn: str
    upn: str
    date: str
    am: str
    pm: str


_decode_marks = msgspec.json.Decoder(list[_Mark]).decode


class FixedClock:
    def __init__(self, day: dt.date) -> None:
        self.at = dt.datetime.combine(day, dt.time(16, 0), tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


def authority(pupils: int, schools: int, seed: int = 19) -> dict[str, list[str]]:
    """School URN -> its pupils' UPNs (valid check letters, LA 925)."""
    rng = random.Random(seed)
    urns = [f"{120000 + n:06d}" for n in range(schools)]
    roll: dict[str, list[str]] = {urn: [] for urn in urns}
    for n in range(pupils):
        body = f"925{n % 10000:04d}{25 - n % 12:02d}{n // 10000 % 1000:03d}"
        roll[rng.choice(urns)].append(upn_check_letter(body) + body)
    return roll


def day_bodies(roll: dict[str, list[str]], day: dt.date, seed: int) -> dict[str, bytes]:
    """Each school's feed for ``day``, as the school's MIS would send it."""
    encode = msgspec.json.encode
    rng = random.Random(seed)
    iso = day.isoformat()
    return {
        urn: encode([_Mark(urn, upn, iso, *rng.choice(MARKS)) for upn in upns])
        for urn, upns in roll.items()
    }


# The three days: (date, the seed of its marks).
DAYS = {"first": (DAY_ONE, 1), "later_serial": (DAY_TWO, 2), "later": (DAY_THREE, 3)}


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"gateway_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def settle(engine: sa.Engine) -> None:
    """Write out what the last phase left dirty, so it is not flushed during the next one."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql("CHECKPOINT")
        except sa.exc.DBAPIError:  # not permitted for this role: carry on unsettled
            connection.rollback()


def server_facts(engine: sa.Engine) -> dict[str, str]:
    if engine.dialect.name != "postgresql":
        return {"database_version": f"SQLite {sqlite3.sqlite_version}"}
    with engine.connect() as connection:
        facts = {"database_version": str(connection.exec_driver_sql("SELECT version()").scalar())}
        for setting in ("synchronous_commit", "fsync", "wal_level"):
            facts[setting] = str(connection.exec_driver_sql(f"SHOW {setting}").scalar())
    return facts


# --- baselines --------------------------------------------------------------------------------


def _copy_text(marks: list[_Mark]) -> str:
    """Rows in COPY text format. Only register codes can hold a backslash (the code for an
    absent PM session is ``\\``), and none holds a tab or newline, so one pass escaping the
    backslashes of the whole buffer is the escaping the format needs."""
    text = "".join([f"{m.school_urn}\t{m.upn}\t{m.date}\t{m.am}\t{m.pm}\n" for m in marks])
    return text.replace("\\", "\\\\")


def _fresh_raw_table(engine: sa.Engine, first_day: dict[str, bytes]) -> None:
    """The per-mark table, holding the first day's marks (untimed)."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_marks")
        connection.exec_driver_sql(RAW_TABLE)
    _raw_load(engine, first_day, per_school=False)
    settle(engine)


def _raw_load(engine: sa.Engine, bodies: dict[str, bytes], *, per_school: bool) -> dict[str, float]:
    """Decode, format and COPY ``bodies``; returns seconds spent in each part and in all."""
    spent = {"decode": 0.0, "format": 0.0, "copy_commit": 0.0}
    raw = engine.raw_connection()
    try:
        postgres = engine.dialect.name == "postgresql"
        started = time.perf_counter()
        groups = [[body] for body in bodies.values()] if per_school else [list(bodies.values())]
        for group in groups:
            t0 = time.perf_counter()
            marks = [mark for body in group for mark in _decode_marks(body)]
            t1 = time.perf_counter()
            if postgres:
                text = _copy_text(marks)
                t2 = time.perf_counter()
                driver = raw.driver_connection
                with driver.cursor() as cursor, cursor.copy(COPY_RAW) as copy:  # type: ignore[union-attr]
                    copy.write(text)
            else:
                rows = [(m.school_urn, m.upn, m.date, m.am, m.pm) for m in marks]
                t2 = time.perf_counter()
                cursor = raw.cursor()
                cursor.executemany("INSERT INTO bench_raw_marks VALUES (?, ?, ?, ?, ?)", rows)
                cursor.close()
            raw.commit()
            t3 = time.perf_counter()
            spent["decode"] += t1 - t0
            spent["format"] += t2 - t1
            spent["copy_commit"] += t3 - t2
        spent["total"] = time.perf_counter() - started
    finally:
        raw.close()
    return spent


def raw_decode_seconds(bodies: dict[str, bytes]) -> float:
    started = time.perf_counter()
    for body in bodies.values():
        _decode_marks(body)
    return time.perf_counter() - started


def pandas_seconds(engine: sa.Engine, bodies: dict[str, bytes]) -> float:
    import pandas

    csv = io.StringIO()
    csv.write("school_urn,upn,date,am,pm\n")
    for body in bodies.values():
        for m in _decode_marks(body):
            csv.write(f"{m.school_urn},{m.upn},{m.date},{m.am},{m.pm}\n")
    csv.seek(0)
    settle(engine)
    started = time.perf_counter()
    frame = pandas.read_csv(csv, dtype=str, keep_default_na=False)
    frame.to_sql("bench_pandas_marks", engine, if_exists="replace", index=False)
    return time.perf_counter() - started


# --- the gateway, in a process of its own -------------------------------------------------------


def _current_rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _peak_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    peak = resource.getrusage(who).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def gateway_day(store: Store, bodies: dict[str, bytes], concurrency: int = 1) -> tuple[float, int]:
    """Every school's feed through the intake, ``concurrency`` in flight at once, then the
    applier until the queue is empty; returns (seconds, records accepted)."""
    readers = mis_readers()
    caller = Client(id="bench", name="bench", scopes=ALL_SCOPES, created_at=store.clock.now())

    def one(item: tuple[str, bytes]) -> int:
        urn, body = item
        stream = io.BytesIO(body)
        sha256, size = spool_digest(stream)
        upload = FeedUpload(
            format="json",
            content_type="application/json",
            sha256=sha256,
            size=size,
            school_urn=urn,
            academic_year=2025,
        )
        return ingest_feed(store, upload, stream, readers["json"], caller).records_accepted

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        accepted = sum(pool.map(one, bodies.items()))
    while apply_queued(store):  # the applier takes the queued feeds in batches
        pass
    return time.perf_counter() - started, accepted


def gateway_days(url: str, pupils: int, schools: int, concurrency: int) -> dict[str, Any]:
    """The three gateway days, one after another, on the migrated database at ``url``; run in
    a spawned process so its peak RSS is the gateway's own. It logs as the service does
    (JSON, redacted, INFO), to nowhere."""
    configure_logging("INFO", json=True, stream=open(os.devnull, "w"))  # noqa: SIM115
    roll = authority(pupils, schools)
    result: dict[str, Any] = {}
    for name, (day, seed) in DAYS.items():
        bodies = day_bodies(roll, day, seed)
        if name == "first":
            result["rss_before_bytes"] = _current_rss_bytes()
        in_flight = concurrency if name == "later" else 1
        engine = make_engine(url, pool_size=in_flight + 1)
        settle(engine)
        seconds, accepted = gateway_day(Store(engine, FixedClock(day)), bodies, in_flight)
        engine.dispose()
        result[f"{name}_seconds"] = seconds
        result[f"{name}_accepted"] = accepted
        del bodies
    result["peak_rss_bytes"] = _peak_rss_bytes()
    return result


# --- the run ------------------------------------------------------------------------------------


def _verdict(value: float, target: float, *, at_least: bool, applies: bool) -> str:
    if not applies:
        return "not judged at this size"
    return "met" if (value >= target if at_least else value <= target) else "NOT MET"


def run(
    pupils: int,
    schools: int,
    database_url: str | None,
    out: TextIO | None = None,
    concurrency: int = 4,
) -> dict[str, Any]:
    write = (out or sys.stdout).write
    load = os.getloadavg()[0]  # other work on the machine shows here
    # The gateway's process is started first, while this one holds nothing: a child's
    # ru_maxrss counts its parent's RSS at the fork before its exec.
    child = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    child.submit(os.getpid).result()
    roll = authority(pupils, schools)
    bodies1 = day_bodies(roll, *DAYS["first"])
    bodies2 = day_bodies(roll, *DAYS["later_serial"])
    del roll
    with scratch_database(database_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        facts = server_facts(engine)
        dialect = engine.dialect.name
        decode_s = raw_decode_seconds(bodies2)
        _fresh_raw_table(engine, bodies1)
        raw = _raw_load(engine, bodies2, per_school=False)
        _fresh_raw_table(engine, bodies1)
        per_school = _raw_load(engine, bodies2, per_school=True)
        pandas_s = pandas_seconds(engine, bodies2)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE bench_raw_marks")
            connection.exec_driver_sql("DROP TABLE bench_pandas_marks")
        engine.dispose()
        del bodies1, bodies2
        with child:
            gateway = child.submit(gateway_days, url, pupils, schools, concurrency).result()
    for name in DAYS:
        accepted = gateway[f"{name}_accepted"]
        assert accepted == pupils, f"{name} day: only {accepted} of {pupils} records accepted"

    figures: dict[str, Any] = {
        "pupils": pupils,
        "schools": schools,
        "database": dialect,
        **facts,
        "cores": os.cpu_count(),
        "load_average_1min_at_start": load,
        "concurrency": concurrency,
        "raw_decode_records_per_second": pupils / decode_s,
        "raw_records_per_second": pupils / raw["total"],
        "raw_decode_seconds": raw["decode"],
        "raw_format_seconds": raw["format"],
        "raw_copy_commit_seconds": raw["copy_commit"],
        "raw_seconds": raw["total"],
        "raw_per_school_records_per_second": pupils / per_school["total"],
        "raw_per_school_decode_seconds": per_school["decode"],
        "raw_per_school_format_seconds": per_school["format"],
        "raw_per_school_copy_commit_seconds": per_school["copy_commit"],
        "raw_per_school_seconds": per_school["total"],
        "pandas_records_per_second": pupils / pandas_s,
        "pandas_seconds": pandas_s,
        "gateway_first_day_records_per_second": pupils / gateway["first_seconds"],
        "gateway_first_day_seconds": gateway["first_seconds"],
        "gateway_later_day_one_feed_at_a_time_records_per_second": (
            pupils / gateway["later_serial_seconds"]
        ),
        "gateway_later_day_one_feed_at_a_time_seconds": gateway["later_serial_seconds"],
        "gateway_later_day_records_per_second": pupils / gateway["later_seconds"],
        "gateway_later_day_seconds": gateway["later_seconds"],
        "gateway_peak_rss_bytes": gateway["peak_rss_bytes"],
        "gateway_rss_before_first_feed_bytes": gateway["rss_before_bytes"],
        "baselines_peak_rss_bytes": _peak_rss_bytes(),
        "load_average_1min_at_end": os.getloadavg()[0],
    }
    later = figures["gateway_later_day_records_per_second"]
    first = figures["gateway_first_day_records_per_second"]
    figures["ratio_later_day_to_raw_per_school"] = (
        later / figures["raw_per_school_records_per_second"]
    )
    figures["ratio_later_day_to_pandas"] = later / figures["pandas_records_per_second"]
    figures["ratio_first_day_to_raw_per_school"] = (
        first / figures["raw_per_school_records_per_second"]
    )
    figures["ratio_later_day_to_raw"] = later / figures["raw_records_per_second"]
    figures["targets"] = TARGETS

    mib = 1 << 20
    rss_before = figures["gateway_rss_before_first_feed_bytes"]
    write(
        f"attendance day: {pupils:,} pupils in {schools} schools, {figures['cores']} cores, "
        f"load average {load:.2f} at the start\n"
        f"  {facts['database_version']}\n"
    )
    if dialect == "postgresql":
        write(
            f"  synchronous_commit={facts['synchronous_commit']} fsync={facts['fsync']} "
            f"wal_level={facts['wal_level']}\n"
        )
    write("baselines: a later day's marks into a per-mark table holding the first day's\n")
    decode_rate = figures["raw_decode_records_per_second"]
    write(f"  raw msgspec decode only         {decode_rate:>10,.0f} r/s\n")
    write(
        f"  raw, decode + 1 COPY + 1 commit {figures['raw_records_per_second']:>10,.0f} r/s"
        f"  ({raw['total']:.2f} s: decode {raw['decode']:.2f}, format {raw['format']:.2f},"
        f" COPY + commit {raw['copy_commit']:.2f})\n"
    )
    write(
        f"  raw per school, COPY + commit   {figures['raw_per_school_records_per_second']:>10,.0f}"
        f" r/s  ({per_school['total']:.2f} s: decode {per_school['decode']:.2f}, format "
        f"{per_school['format']:.2f}, COPY + commit {per_school['copy_commit']:.2f})\n"
    )
    write(
        f"  pandas read_csv + to_sql        {figures['pandas_records_per_second']:>10,.0f} r/s"
        f"  ({pandas_s:.2f} s)\n"
    )
    write("gateway: ingest_feed per school, then the applier until the queue is empty\n")
    write(
        f"  first day, 1 feed at a time     {first:>10,.0f} r/s  "
        f"({gateway['first_seconds']:.2f} s)\n"
    )
    write(
        f"  later day, 1 feed at a time     "
        f"{figures['gateway_later_day_one_feed_at_a_time_records_per_second']:>10,.0f} r/s  "
        f"({gateway['later_serial_seconds']:.2f} s)\n"
    )
    write(
        f"  later day, {concurrency} feeds at a time    {later:>10,.0f} r/s  "
        f"({gateway['later_seconds']:.2f} s)\n"
    )
    write(
        f"  peak RSS of the gateway's process {figures['gateway_peak_rss_bytes'] / mib:>8,.0f} MiB"
        + (f"  ({rss_before / mib:,.0f} MiB before its first feed)" if rss_before else "")
        + "\n"
    )
    write(
        f"  peak RSS of the baselines' process {figures['baselines_peak_rss_bytes'] / mib:>7,.0f}"
        " MiB\n"
    )
    write(f"  load average {figures['load_average_1min_at_end']:.2f} at the end\n")
    write("ratios and targets\n")
    for label, key, target in (
        (
            "later day / raw per school",
            "ratio_later_day_to_raw_per_school",
            "later_day_to_raw_per_school",
        ),
        ("later day / pandas", "ratio_later_day_to_pandas", "later_day_to_pandas"),
        (
            "first day / raw per school",
            "ratio_first_day_to_raw_per_school",
            "first_day_to_raw_per_school",
        ),
    ):
        verdict = _verdict(figures[key], TARGETS[target], at_least=True, applies=True)
        write(f"  {label:<34}{figures[key]:>7.2f}   target >= {TARGETS[target]:<5} {verdict}\n")
    label = "later day / raw (one COPY)"
    write(f"  {label:<34}{figures['ratio_later_day_to_raw']:>7.2f}   (no target)\n")
    seconds_target = TARGETS["later_day_seconds_at_250000_pupils"]
    verdict = _verdict(
        gateway["later_seconds"], seconds_target, at_least=False, applies=pupils == 250_000
    )
    write(
        f"  {'later day, whole day end to end':<34}{gateway['later_seconds']:>7.2f} s "
        f"target <= {seconds_target:.0f} s at 250,000 pupils: {verdict}\n"
    )
    verdict = _verdict(
        figures["gateway_peak_rss_bytes"],
        TARGETS["peak_rss_bytes_at_2000000_pupils"],
        at_least=False,
        applies=pupils == 2_000_000,
    )
    write(
        f"  {'gateway peak RSS':<34}{figures['gateway_peak_rss_bytes'] / GIB:>7.2f} GiB "
        f"target <= 1 GiB at 2,000,000 pupils: {verdict}\n"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=250_000)
    parser.add_argument("--schools", type=int, default=600)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GATEWAY_BENCH_DATABASE_URL")
        or os.environ.get("GATEWAY_TEST_DATABASE_URL"),
        help="a PostgreSQL server to make a scratch database on (default: SQLite)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="feeds in flight at once")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print every figure and ratio as one JSON object on stdout (the text on stderr)",
    )
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout
    figures = run(
        args.pupils, args.schools, args.database_url, out=out, concurrency=args.concurrency
    )
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
