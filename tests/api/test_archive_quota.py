"""The raw archive keeps every body received, so it must not be filled by refused junk or by one
client: a body refused whole and larger than GATEWAY_ARCHIVE_REFUSED_WHOLE_BYTES is kept only as
its SHA-256, size and first KiB; each client may have GATEWAY_ARCHIVE_BYTES_PER_CLIENT_PER_DAY
archived per UTC day, and a body past it is refused before it is archived. Accepted bodies are
kept whole: nothing received and taken is lost."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from structlog.testing import capture_logs

from gateway.app import create_app
from gateway.model.client import Scope
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import attendance_feeds, inbound_archive
from tests.api.conftest import Api
from tests.api.test_attendance_api import FEEDS
from tests.api.test_metrics import scrape, value
from tests.attendance_support import csv_feed, pattern_rows, school_days
from tests.support import ManualClock, make_upn

Caller = tuple[str, dict[str, str]]
SEPT = school_days(dt.date(2025, 9, 1), 40)
MARKS = [("/", "\\"), ("/", "/"), ("N", "N")]
NEWLINE = b"\n"
MiB = 1 << 20
KiB = 1 << 10


def app(store: Store, database_url: str, **settings: Any) -> Iterator[Api]:
    configured = Settings(database_url=database_url, metrics_store_seconds=0, **settings)
    with TestClient(create_app(configured, store, logging=False)) as client:
        yield Api(client, store)


@pytest.fixture
def api(store: Store, database_url: str) -> Iterator[Api]:
    yield from app(store, database_url)


def archived_for_feed(store: Store, feed_id: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(inbound_archive)
            .join(attendance_feeds, attendance_feeds.c.archive_id == inbound_archive.c.id)
            .where(attendance_feeds.c.id == feed_id)
        ).one()
    return dict(row._mapping)


def stored_bytes(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(inbound_archive.c.body)), 0))
            ).scalar_one()
        )


def first_bad_byte(body: bytes) -> int:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    raise AssertionError("the body is UTF-8")


def test_three_20_mib_random_feeds_are_refused_and_kept_only_as_digest_and_first_kib(
    api: Api,
) -> None:
    mis = {**api.mis(), "content-type": "text/csv"}
    bytes_of = random.Random(19).randbytes
    for _ in range(3):
        body = bytes_of(20 * MiB)
        answer = api.client.post(FEEDS, headers=mis, content=body)
        assert answer.status_code == 400, answer.text
        problem = answer.json()
        at = first_bad_byte(body)
        position = f"line {body.count(NEWLINE, 0, at) + 1}, byte {at}"
        assert (problem["position"], problem["detail"]) == (
            position,
            f"the feed is not UTF-8 at {position}",
        )
        kept = archived_for_feed(api.store, problem["feed_id"])
        assert zlib.decompress(kept["body"]) == body[:KiB]  # the first KiB, no more
        assert len(kept["body"]) <= 2 * KiB
        assert (kept["sha256"], kept["size"]) == (hashlib.sha256(body).hexdigest(), 20 * MiB)
        assert (kept["truncated"], kept["kept_bytes"]) == (True, KiB)
        report = api.client.get(f"{FEEDS}/{problem['feed_id']}", headers=mis).json()
        assert report["status"] == "rejected"
        assert report["error"] == f"the feed is not UTF-8 at {position}"
    assert stored_bytes(api.store) <= 3 * 2 * KiB  # 60 MiB refused; about 3 KiB kept


def feed_body(first_day: int = 0, pupils: int = 60) -> bytes:
    """About 26 KB of a school's marks: ``pupils`` pupils over twelve school days."""
    days = SEPT[first_day : first_day + 12]
    rows = [row for n in range(1, pupils + 1) for row in pattern_rows(make_upn(n), days, MARKS)]
    return csv_feed(rows)


def archived(store: Store, client_id: str) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(inbound_archive)
            .where(inbound_archive.c.client_id == client_id)
            .order_by(inbound_archive.c.received_at, inbound_archive.c.size)
        )
        return [dict(row._mapping) for row in rows]


def token(api: Api, name: str, *scopes: Scope, schools: tuple[str, ...] | None = None) -> Caller:
    """A feed sender is a school MIS's client, bound to the school its feeds are for."""
    if schools is None:
        schools = ("120456",) if "attendance:write" in scopes else ()
    client, secret = create_client(api.store, name, scopes, schools=schools)
    return client.id, {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def small_limit(store: Store, database_url: str) -> Iterator[Api]:
    """Refused bodies over 2 KiB keep only their first KiB (the default is 1 MiB)."""
    yield from app(store, database_url, archive_refused_whole_bytes=2 * KiB)


def test_only_bodies_refused_whole_and_over_the_limit_are_cut_to_their_first_kib(
    small_limit: Api,
) -> None:
    api = small_limit
    mis_id, mis = token(api, "mis", "attendance:write")
    csv = {**mis, "content-type": "text/csv"}
    small_bad = b"urn,pupil\n" + b"1,2\n" * 300  # 1,210 bytes: under the limit
    large_bad = b"urn,pupil\n" + b"1,2\n" * 1500  # 6,010 bytes: over it
    accepted = feed_body()
    assert api.client.post(FEEDS, headers=csv, content=small_bad).status_code == 400
    assert api.client.post(FEEDS, headers=csv, content=large_bad).status_code == 400
    taken = api.client.post(FEEDS, headers=csv, content=accepted)
    assert taken.status_code == 202, taken.text
    kept = archived(api.store, mis_id)
    assert [(row["size"], row["kept_bytes"], row["truncated"]) for row in kept] == [
        (len(small_bad), len(small_bad), False),
        (len(large_bad), KiB, True),
        (len(accepted), len(accepted), False),
    ]
    assert [zlib.decompress(row["body"]) for row in kept] == [
        small_bad,
        large_bad[:KiB],
        accepted,  # taken: kept whole, to be read again whenever it is needed
    ]
    assert kept[1]["sha256"] == hashlib.sha256(large_bad).hexdigest()

    # Refused because its sender may not send for the school: refused whole too.
    other_id, other = token(api, "other-school", "attendance:write", schools=("100001",))
    forbidden = api.client.post(
        FEEDS, headers={**other, "content-type": "text/csv"}, content=accepted
    )
    assert forbidden.status_code == 403
    [kept_forbidden] = archived(api.store, other_id)
    assert (kept_forbidden["kept_bytes"], kept_forbidden["truncated"]) == (KiB, True)
    assert zlib.decompress(kept_forbidden["body"]) == accepted[:KiB]

    # A portal notification refused field by field, over the limit: the same rule.
    portal_id, portal = token(api, "portal", "portal:write")
    notice = json.dumps({"notification_id": "n-1", "notes": "x" * 5000}).encode()
    refused = api.client.post(
        "/api/v1/portal/notifications",
        headers={**portal, "content-type": "application/json"},
        content=notice,
    )
    assert refused.status_code == 422, refused.text
    [kept_notice] = archived(api.store, portal_id)
    assert (kept_notice["size"], kept_notice["kept_bytes"]) == (len(notice), KiB)
    assert zlib.decompress(kept_notice["body"]) == notice[:KiB]


@pytest.fixture
def budget(store: Store, database_url: str) -> Iterator[Api]:
    """Each client may have 64 KiB archived a day (the default is 2 GiB)."""
    yield from app(store, database_url, archive_bytes_per_client_per_day=64 * KiB)


def refusals(api: Api, source: str) -> float:
    return value(scrape(api, api.token("metrics")), "gateway_archive_refusals_total", source=source)


def test_a_client_past_its_daily_archive_budget_is_refused_until_midnight_utc(
    budget: Api, clock: ManualClock
) -> None:
    api = budget
    school_a, a = token(api, "mis-a", "attendance:write")
    _, b = token(api, "mis-b", "attendance:write")
    csv_a, csv_b = {**a, "content-type": "text/csv"}, {**b, "content-type": "text/csv"}
    first, second, third = feed_body(0), feed_body(12), feed_body(24)
    assert len(first) + len(second) < 64 * KiB < len(first) + len(second) + len(third)
    for body in (first, second):
        assert api.client.post(FEEDS, headers=csv_a, content=body).status_code == 202
    counted = refusals(api, "attendance_feed"), refusals(api, "roll")

    with capture_logs() as logs:
        over = api.client.post(FEEDS, headers=csv_a, content=third)
    assert over.status_code == 429, over.text
    assert over.headers["content-type"].startswith("application/problem+json")
    assert over.headers["retry-after"] == str(15 * 3600)  # 09:00 to midnight UTC
    problem = over.json()
    assert problem["type"].endswith("/archive-budget-spent")
    left = 64 * KiB - len(first) - len(second)
    assert problem["detail"] == (
        "this client's archive budget of 65,536 bytes a day "
        f"(GATEWAY_ARCHIVE_BYTES_PER_CLIENT_PER_DAY) has {left:,} bytes left today, and this "
        f"body is {len(third):,} bytes: it is not archived and not read; the budget resets at "
        "2026-01-06T00:00:00Z (midnight UTC)"
    )
    assert [row["size"] for row in archived(api.store, school_a)] == [len(first), len(second)]
    with api.store.engine.connect() as connection:
        feeds = connection.execute(
            sa.select(sa.func.count()).where(attendance_feeds.c.client_id == school_a)
        ).scalar_one()
    assert feeds == 2  # the refused body has no feed either
    [logged] = [entry for entry in logs if entry["event"].startswith("archive budget")]
    assert (logged["client_id"], logged["source"], logged["size"], logged["archived_today"]) == (
        school_a,
        "attendance_feed",
        len(third),
        len(first) + len(second),
    )
    assert make_upn(1) not in str(logs)  # who sent how much, never what

    # Every source a client sends through counts against the same budget.
    roll = api.client.post(
        "/api/v1/roll/deletions",
        headers={**a, "content-type": "application/json"},
        content=b"[" + b" " * 20_000 + b"]",
    )
    assert roll.status_code == 429, roll.text

    # Another client has its own budget; a body larger than a whole budget is 413.
    assert api.client.post(FEEDS, headers=csv_b, content=third).status_code == 202
    whole = api.client.post(FEEDS, headers=csv_b, content=feed_body(0, pupils=200))
    assert whole.status_code == 413
    assert (
        "larger than this client's whole archive budget of 65,536 bytes" in whole.json()["detail"]
    )
    assert (refusals(api, "attendance_feed"), refusals(api, "roll")) == (
        counted[0] + 2,
        counted[1] + 1,
    )

    clock.advance(hours=15)  # midnight UTC: a new day's budget
    again = api.client.post(FEEDS, headers=csv_a, content=third)
    assert again.status_code == 202, again.text
    assert [row["size"] for row in archived(api.store, school_a)][-1] == len(third)
