"""The API killed with SIGKILL while it takes a large attendance feed: nothing of the feed is
shown as complete, and the same feed sent again (to a restarted API, applied by a worker) is
applied once: each pupil's sessions counted once, not twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
import signal
import threading

import httpx
import pytest
import sqlalchemy as sa

from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.store import Store, make_engine
from gateway.store.schema import attendance_feeds
from tests.attendance_support import SCHOOL, csv_feed, pattern_rows, school_days
from tests.conftest import _truncate
from tests.resilience.processes import environment, serve, start, wait_for
from tests.support import child_json, make_upn

PUPILS = 2_000
DAYS = school_days(dt.date(2025, 9, 1), 60)  # 120,000 records, about 4.3 MB: a "large" feed


@pytest.mark.postgres
def test_a_feed_cut_off_by_a_killed_api_is_applied_once_when_sent_again(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    engine = make_engine(postgres_url)
    _truncate(engine)
    _, token = create_client(Store(engine), "mis", ALL_SCOPES)
    rows = [row for n in range(PUPILS) for row in pattern_rows(pupil(n), DAYS, [("/", "\\")])]
    body = csv_feed(rows)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    url_params = {"school_urn": SCHOOL, "academic_year": "2025"}
    env = environment(postgres_url, worker_poll_seconds="0.2", max_feed_bytes=str(50 * 1_048_576))
    log = str(tmp_path / "api.log")

    api, base = serve(env, log)
    watched = httpx.post(
        f"{base}/api/v1/children",
        headers={"Authorization": f"Bearer {token}"},
        json=child_json(1, identifiers={"upn": pupil(PUPILS // 2)}),
        timeout=30,
    )
    assert watched.status_code == 201, watched.text
    sent = threading.Thread(
        target=lambda: _post(f"{base}/api/v1/attendance/feeds", body, headers, url_params)
    )
    sent.start()
    wait_for(lambda: "parsing" in _feed_statuses(engine), 60, "the feed to be read")
    api.send_signal(signal.SIGKILL)
    api.wait(timeout=10)
    sent.join(timeout=30)
    assert _feed_statuses(engine) == ["parsing"]  # cut off mid-read: nothing shown as complete

    api, base = serve(env, log)
    worker = start(env, "worker", log=log)
    try:
        again = httpx.post(
            f"{base}/api/v1/attendance/feeds",
            content=body,
            headers=headers,
            params=url_params,
            timeout=120,
        )
        assert again.status_code == 202, again.text
        feed_id = again.json()["duplicate_of"] or again.json()["id"]
        wait_for(lambda: _status(engine, feed_id) == "completed", 180, "the feed to be applied")
        answer = httpx.get(
            f"{base}/api/v1/children",
            headers=headers,
            params={"upn": pupil(PUPILS // 2)},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        attendance = httpx.get(
            f"{base}/api/v1/children/{found['id']}/attendance", headers=headers, timeout=30
        ).json()
        [year] = attendance["years"]
        assert year["possible_sessions"] == len(DAYS) * 2  # once, not twice
        assert sorted(_feed_statuses(engine)) == ["completed", "parsing"]
    finally:
        for process in (worker, api):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        engine.dispose()


def pupil(n: int) -> str:
    """A UPN per pupil: the serial spreads over the year group digits (3 digits each)."""
    return make_upn(n % 1000, year=f"{20 + n // 1000:02d}")


def _post(url: str, body: bytes, headers: dict[str, str], params: dict[str, str]) -> None:
    with contextlib.suppress(httpx.TransportError):  # the API was killed under it: the point
        httpx.post(url, content=body, headers=headers, params=params, timeout=120)


def _feed_statuses(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(attendance_feeds.c.status)).scalars())


def _status(engine: sa.Engine, feed_id: str) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(attendance_feeds.c.status).where(attendance_feeds.c.id == feed_id)
        ).scalar()
