"""How fast an authority's attendance day goes through the gateway, against baselines
measured in the same run on the same machine.

    python -m bench.attendance [--pupils 250000] [--schools 600] [--database-url URL]

Figures printed:
- raw msgspec decode rate: the day's JSON records decoded into Structs, nothing else;
- raw COPY rate: the same rows COPYed into a table shaped like attendance_marks (PostgreSQL;
  executemany on SQLite);
- raw rate: records / (decode time + COPY time), the least any loader must do;
- gateway end-to-end rate: every school's feed through the intake (archive, parse, validate,
  queue) and the applier (registers, each pupil's figures, thresholds, concerns), on a later
  day of term, when every pupil already has running figures (the steady state), with one
  and with several feeds in flight;
- the analyst's baseline: the same rows as CSV, pandas read_csv + to_sql;
- ratios: end-to-end / raw (target >= 0.5) and end-to-end / pandas (target >= 10).

The database is a scratch one created and dropped by the run (PostgreSQL), or a temporary
SQLite file. Nothing here is a timed test; the suite runs it once, tiny, to keep it working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import msgspec
import sqlalchemy as sa

from adapters.mis.readers import mis_readers
from gateway.clock import Clock
from gateway.intake.attendance_feed import FeedUpload, ingest_feed, spool_digest
from gateway.intake.feed_applier import apply_queued
from gateway.model.client import ALL_SCOPES, Client
from gateway.model.identifiers import upn_check_letter
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade

DAY_ONE = dt.date(2025, 9, 8)  # a Monday in the autumn term
DAY_TWO = dt.date(2025, 9, 9)
# A realistic register: most present, some late, ill, unexplained, on approved activities.
MARKS = [("/", "\\")] * 88 + [("L", "\\")] * 3 + [("I", "I")] * 4 + [("N", "N")] * 2
MARKS += [("O", "O"), ("/", "M"), ("C2", "C2"), ("B", "B")]


class _Mark(msgspec.Struct):
    school_urn: str
    upn: str
    date: str
    am: str
    pm: str


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


def day_records(roll: dict[str, list[str]], day: dt.date, seed: int) -> dict[str, list[_Mark]]:
    rng = random.Random(seed)
    iso = day.isoformat()
    return {
        urn: [_Mark(urn, upn, iso, *rng.choice(MARKS)) for upn in upns]
        for urn, upns in roll.items()
    }


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


def raw_decode_seconds(bodies: dict[str, bytes]) -> float:
    decoder = msgspec.json.Decoder(list[_Mark])
    started = time.perf_counter()
    for body in bodies.values():
        decoder.decode(body)
    return time.perf_counter() - started


def raw_copy_seconds(engine: sa.Engine, records: dict[str, list[_Mark]]) -> float:
    ddl = (
        "CREATE TABLE bench_raw_marks (upn varchar(13), date date, school_urn varchar(6), "
        "am varchar(2), pm varchar(2), feed_id varchar(36), PRIMARY KEY (upn, date, school_urn))"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_marks")
        connection.exec_driver_sql(ddl)
    feed = str(uuid.uuid4())
    started = time.perf_counter()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy("COPY bench_raw_marks FROM STDIN") as copy:  # type: ignore[union-attr]
                for marks in records.values():
                    for m in marks:
                        copy.write_row((m.upn, m.date, m.school_urn, m.am, m.pm, feed))
        else:
            connection.exec_driver_sql(
                "INSERT INTO bench_raw_marks VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (m.upn, m.date, m.school_urn, m.am, m.pm, feed)
                    for marks in records.values()
                    for m in marks
                ],
            )
    return time.perf_counter() - started


def raw_copy_per_school_seconds(engine: sa.Engine, records: dict[str, list[_Mark]]) -> float:
    """The same COPY, but one school at a time with a commit each: the shape of the work when
    600 schools push separately and each push must be durable before it is acknowledged."""
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE bench_raw_marks")
    feed = str(uuid.uuid4())
    started = time.perf_counter()
    for marks in records.values():
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy("COPY bench_raw_marks FROM STDIN") as copy:  # type: ignore[union-attr]
                for m in marks:
                    copy.write_row((m.upn, m.date, m.school_urn, m.am, m.pm, feed))
    return time.perf_counter() - started


def gateway_seconds(
    store: Store, bodies: dict[str, bytes], concurrency: int = 1
) -> tuple[float, int]:
    """Every school's feed through the intake; ``concurrency`` feeds in flight at once, as
    schools push independently and the API serves them on a thread pool."""
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
    while apply_queued(store):  # the applier takes the day's feeds in batches
        pass
    return time.perf_counter() - started, accepted


def pandas_seconds(engine: sa.Engine, records: dict[str, list[_Mark]]) -> float:
    import pandas

    csv = io.StringIO()
    csv.write("school_urn,upn,date,am,pm\n")
    for marks in records.values():
        for m in marks:
            csv.write(f"{m.school_urn},{m.upn},{m.date},{m.am},{m.pm}\n")
    csv.seek(0)
    started = time.perf_counter()
    frame = pandas.read_csv(csv, dtype=str, keep_default_na=False)
    frame.to_sql("bench_pandas_marks", engine, if_exists="replace", index=False)
    return time.perf_counter() - started


def run(
    pupils: int,
    schools: int,
    database_url: str | None,
    out: io.TextIOBase | None = None,
    concurrency: int = 4,
) -> dict[str, float]:
    write = (out or sys.stdout).write
    roll = authority(pupils, schools)
    day1 = day_records(roll, DAY_ONE, 1)
    day2 = day_records(roll, DAY_TWO, 2)
    day3 = day_records(roll, DAY_TWO + dt.timedelta(days=1), 3)
    encode = msgspec.json.encode
    bodies1 = {urn: encode(marks) for urn, marks in day1.items()}
    bodies2 = {urn: encode(marks) for urn, marks in day2.items()}
    bodies3 = {urn: encode(marks) for urn, marks in day3.items()}
    with scratch_database(database_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        decode_s = raw_decode_seconds(bodies2)
        copy_s = raw_copy_seconds(engine, day2)
        per_school_s = (
            raw_copy_per_school_seconds(engine, day2)
            if engine.dialect.name == "postgresql"
            else None
        )
        clock: Clock = FixedClock(DAY_ONE)
        first_s, _ = gateway_seconds(Store(engine, clock), bodies1)
        clock = FixedClock(DAY_TWO)
        serial_s, accepted = gateway_seconds(Store(engine, clock), bodies2)
        clock = FixedClock(DAY_TWO + dt.timedelta(days=1))
        engine.dispose()
        engine = make_engine(url, pool_size=concurrency + 1)
        gateway_s, accepted3 = gateway_seconds(Store(engine, clock), bodies3, concurrency)
        pandas_s = pandas_seconds(engine, day2)
        dialect = engine.dialect.name
        engine.dispose()
    figures = {
        "records": float(pupils),
        "raw_decode_rate": pupils / decode_s,
        "raw_copy_rate": pupils / copy_s,
        "raw_rate": pupils / (decode_s + copy_s),
        "gateway_day1_rate": pupils / first_s,
        "gateway_serial_rate": pupils / serial_s,
        "gateway_rate": pupils / gateway_s,
        "gateway_seconds": gateway_s,
        "pandas_rate": pupils / pandas_s,
    }
    figures["ratio_to_raw"] = figures["gateway_rate"] / figures["raw_rate"]
    if per_school_s is not None:
        figures["raw_per_school_rate"] = pupils / (decode_s + per_school_s)
        figures["ratio_to_raw_per_school"] = (
            figures["gateway_rate"] / figures["raw_per_school_rate"]
        )
    figures["ratio_to_pandas"] = figures["gateway_rate"] / figures["pandas_rate"]
    assert accepted == accepted3 == pupils, f"only {accepted} of {pupils} records accepted"
    write(f"attendance day: {pupils:,} pupils, {schools} schools, {dialect}\n")
    write(f"  raw msgspec decode      {figures['raw_decode_rate']:>12,.0f} records/s\n")
    write(f"  raw COPY                {figures['raw_copy_rate']:>12,.0f} records/s\n")
    write(f"  raw (decode + COPY)     {figures['raw_rate']:>12,.0f} records/s\n")
    if per_school_s is not None:
        write(
            f"  raw, a COPY + commit per school {figures['raw_per_school_rate']:>8,.0f} records/s\n"
        )
    write(f"  gateway, first day      {figures['gateway_day1_rate']:>12,.0f} records/s\n")
    write(
        f"  gateway, day 2, 1 feed at a time   {figures['gateway_serial_rate']:>9,.0f} records/s "
        f"({serial_s:.1f} s for the day)\n"
    )
    write(
        f"  gateway, day 3, {concurrency} feeds at a time  "
        f"{figures['gateway_rate']:>9,.0f} records/s "
        f"({gateway_s:.1f} s for the day)\n"
    )
    write(f"  pandas read_csv+to_sql  {figures['pandas_rate']:>12,.0f} records/s\n")
    write(f"  gateway / raw           {figures['ratio_to_raw']:>12.2f}   (target >= 0.50)\n")
    if per_school_s is not None:
        write(f"  gateway / raw per school {figures['ratio_to_raw_per_school']:>11.2f}\n")
    write(f"  gateway / pandas        {figures['ratio_to_pandas']:>12.1f}x  (target >= 10x)\n")
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
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    figures = run(args.pupils, args.schools, args.database_url, concurrency=args.concurrency)
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
