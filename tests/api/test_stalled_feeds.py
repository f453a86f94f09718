"""A large feed whose reading was cut off (the API process died, or its client went away, in
the middle of the read) does not stay ``parsing`` for ever. Past GATEWAY_FEED_PARSE_LEASE_SECONDS
without progress it reads ``stalled`` (GET the feed, /metrics), and the worker reads it again
from its archive, so nothing received is lost."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from typing import BinaryIO

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from adapters.mis.readers import mis_readers
from gateway.app import create_app
from gateway.intake.attendance_feed import FeedUpload, ingest_feed, spool_digest
from gateway.intake.feed_applier import FeedApplier
from gateway.intake.ports import FeedItem, FeedReader
from gateway.model.client import Client
from gateway.rules.pack import load_pack
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import attendance_feeds, attendance_marks
from tests.api.conftest import Api
from tests.api.test_attendance_api import FEEDS, post_feed
from tests.api.test_metrics import scrape, value
from tests.attendance_support import SCHOOL, csv_feed, pattern_rows, school_days
from tests.support import ManualClock, make_upn

DAYS = school_days(dt.date(2025, 9, 1), 12)
ROWS = [row for n in (1, 2) for row in pattern_rows(make_upn(n), DAYS, [("/", "\\")])]
BODY = csv_feed(ROWS)  # 24 records
LEASE = 600  # GATEWAY_FEED_PARSE_LEASE_SECONDS' default


@pytest.fixture
def api(store: Store, database_url: str) -> Iterator[Api]:
    """Each scrape reads the store afresh (a deployment keeps a reading for 5 s)."""
    settings = Settings(database_url=database_url, metrics_store_seconds=0)
    with TestClient(create_app(settings, store, logging=False)) as client:
        yield Api(client, store)


class ProcessDied(BaseException):
    """The process reading the feed stops here: nothing after this point is written."""


def dying(after: int) -> FeedReader:
    """The CSV reader, in a process that dies after reading ``after`` records."""
    read = mis_readers()["csv"]

    def reader(stream: BinaryIO) -> Iterator[FeedItem]:
        for n, item in enumerate(read(stream), start=1):
            if n > after:
                raise ProcessDied
            yield item

    return reader


def mis_client(api: Api) -> tuple[Client, dict[str, str]]:
    client, token = create_client(api.store, "mis", ["attendance:write"], schools=[SCHOOL])
    return client, {"Authorization": f"Bearer {token}"}


def cut_off(api: Api, client: Client, body: bytes = BODY) -> str:
    """A large feed taken as the API takes one, its reader dying after 7 of its records: the
    archive and the first progress (5 records) are committed, nothing after."""
    stream = io.BytesIO(body)
    sha256, size = spool_digest(stream)
    upload = FeedUpload(
        format="csv",
        content_type="text/csv",
        sha256=sha256,
        size=size,
        school_urn=SCHOOL,
        academic_year=2025,
    )
    with pytest.raises(ProcessDied):
        ingest_feed(api.store, upload, stream, dying(7), client, progress_every=5)
    with api.store.engine.connect() as connection:
        return str(
            connection.execute(
                sa.select(attendance_feeds.c.id).where(attendance_feeds.c.sha256 == sha256)
            ).scalar_one()
        )


class OneTurn(threading.Event):
    """Stops the worker's loop the first time it would wait for more work."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def worker_turn(api: Api, applier: FeedApplier | None = None) -> None:
    """The attendance applier's loop as `gateway worker` runs it, until it has nothing to do."""
    (applier or FeedApplier(api.store, load_pack("lincolnshire"))).run(OneTurn())


def feed(api: Api, headers: dict[str, str], feed_id: str) -> dict[str, object]:
    answer = api.client.get(f"{FEEDS}/{feed_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def feeds_by_status(api: Api) -> dict[str, float]:
    figures = scrape(api, api.token("metrics"))
    return {
        dict(labels)["status"]: count
        for (name, labels), count in figures.items()
        if name == "gateway_feeds" and count
    }


def registers(store: Store) -> int:
    """School days with marks held."""
    with store.engine.connect() as connection:
        days = sa.select(attendance_marks.c.school_urn, attendance_marks.c.date).distinct()
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(days.subquery())).scalar_one()
        )


def test_a_feed_cut_off_mid_read_is_read_again_from_its_archive_after_the_lease(
    api: Api, clock: ManualClock
) -> None:
    client, headers = mis_client(api)
    feed_id = cut_off(api, client)
    seen = feed(api, headers, feed_id)
    assert (seen["status"], seen["records_received"]) == ("parsing", 5)
    assert feeds_by_status(api) == {"parsing": 1}

    clock.advance(seconds=LEASE - 1)  # within its lease: the request may still be reading
    worker_turn(api)
    assert feed(api, headers, feed_id)["status"] == "parsing"

    clock.advance(seconds=2)  # no progress for longer than the lease
    seen = feed(api, headers, feed_id)
    assert seen["status"] == "stalled"
    assert "no progress since 2026-01-05T09:00:00" in str(seen["error"])
    assert "read again from its archive" in str(seen["error"])
    assert feeds_by_status(api) == {"stalled": 1}  # not counted as in progress

    worker_turn(api)
    seen = feed(api, headers, feed_id)
    assert (seen["status"], seen["records_received"], seen["records_accepted"]) == (
        "completed",
        24,
        24,
    )
    assert seen["error"] is None
    assert any("read again from its archive" in note for note in seen["notes"])  # type: ignore[attr-defined]
    assert registers(api.store) == len(DAYS)  # every day of the feed, not only the first five
    assert feeds_by_status(api) == {"completed": 1}
    figures = scrape(api, api.token("metrics"))
    assert value(figures, "gateway_feed_records_total", result="accepted") == 24


def test_a_cut_off_feed_sent_again_meanwhile_is_applied_once(api: Api, clock: ManualClock) -> None:
    client, headers = mis_client(api)
    feed_id = cut_off(api, client)
    again = post_feed(api, headers, BODY, school_urn=SCHOOL, academic_year="2025")
    assert again.status_code == 202, again.text
    resent_id = again.json()["id"]
    assert feed(api, headers, resent_id)["status"] == "completed"

    clock.advance(seconds=LEASE + 1)
    worker_turn(api)
    seen = feed(api, headers, feed_id)
    assert (seen["status"], seen["records_accepted"]) == ("superseded", 0)
    assert f"the same feed, sent again meanwhile, was taken as feed {resent_id}" in str(
        seen["error"]
    )
    assert feeds_by_status(api) == {"completed": 1, "superseded": 1}
    figures = scrape(api, api.token("metrics"))
    assert value(figures, "gateway_feed_records_total", result="accepted") == 24  # once


def test_a_later_feed_applied_meanwhile_is_not_overwritten_by_an_older_one(
    api: Api, clock: ManualClock
) -> None:
    client, headers = mis_client(api)
    feed_id = cut_off(api, client)
    clock.advance(seconds=30)
    corrected = csv_feed(
        row for n in (1, 2) for row in pattern_rows(make_upn(n), DAYS, [("/", "I")])
    )
    later = post_feed(api, headers, corrected, school_urn=SCHOOL, academic_year="2025")
    assert later.status_code == 202, later.text

    clock.advance(seconds=LEASE + 1)
    worker_turn(api)
    seen = feed(api, headers, feed_id)
    assert seen["status"] == "failed"
    error = str(seen["error"])
    assert f"a later feed from school {SCHOOL} has been applied since" in error
    assert "send it again" in error
    with api.store.engine.connect() as connection:
        marks = connection.execute(sa.select(attendance_marks.c.feed_id).distinct()).scalars()
        assert list(marks) == [later.json()["id"]]  # the later feed's marks stand
    assert feeds_by_status(api) == {"completed": 1, "failed": 1}


def test_a_feed_whose_reading_stops_every_time_is_failed_saying_how_to_send_it(
    api: Api, clock: ManualClock
) -> None:
    client, headers = mis_client(api)
    feed_id = cut_off(api, client)
    for _ in range(2):  # the worker reading it dies too, twice
        clock.advance(seconds=LEASE + 1)
        readers = {**mis_readers(), "csv": dying(7)}
        with pytest.raises(ProcessDied):
            worker_turn(api, FeedApplier(api.store, readers=readers))
        seen = feed(api, headers, feed_id)  # taken back, being read again
        assert (seen["status"], seen["records_received"]) == ("parsing", 0)

    clock.advance(seconds=LEASE + 1)
    worker_turn(api)
    seen = feed(api, headers, feed_id)
    assert seen["status"] == "failed"
    assert "its reading stopped 3 times" in str(seen["error"])
    assert "send it again" in str(seen["error"])
    assert registers(api.store) == 0
    assert feeds_by_status(api) == {"failed": 1}


def test_the_same_large_feed_sent_twice_at_once_is_applied_once(api: Api) -> None:
    """The second copy is taken while the first is still being read: the first, finishing,
    finds it and answers with its report instead of queueing the same marks again."""
    client, headers = mis_client(api)
    stream = io.BytesIO(BODY)
    sha256, size = spool_digest(stream)
    upload = FeedUpload(
        format="csv", content_type="text/csv", sha256=sha256, size=size, school_urn=SCHOOL
    )
    read = mis_readers()["csv"]
    second: list[str] = []

    def meanwhile(records: int) -> None:
        if not second:
            second.append(ingest_feed(api.store, upload, io.BytesIO(BODY), read, client).id)

    first = ingest_feed(
        api.store, upload, stream, read, client, on_progress=meanwhile, progress_every=5
    )
    assert (first.id, first.duplicate_of) == (second[0], second[0])  # as any resent feed
    worker_turn(api)
    with api.store.engine.connect() as connection:
        [other] = connection.execute(
            sa.select(attendance_feeds.c.id).where(attendance_feeds.c.id != second[0])
        ).scalars()
    assert feed(api, headers, other)["status"] == "superseded"
    assert feed(api, headers, second[0])["records_accepted"] == 24
    assert feeds_by_status(api) == {"completed": 1, "superseded": 1}
