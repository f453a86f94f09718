"""GET /metrics: a scraper needs a token with the ``metrics`` scope; what it reads agrees with
the store (outbox depth per destination, deliveries by result, feed records accepted and
rejected, clocks breached) and counts requests per route template, never per child."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.cases import service
from gateway.delivery.worker import Worker
from gateway.model.case import NewCase
from gateway.observability.metrics import StoreCollector
from gateway.rules.pack import load_pack
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import outbox
from tests.api.conftest import Api
from tests.api.test_attendance_api import post_feed
from tests.api.test_cases_api import open_case, register_child
from tests.attendance_support import SCHOOL, school_days
from tests.support import ManualClock, child_details, make_upn, officer

OFFICER = officer()


@pytest.fixture
def api(store: Store, database_url: str) -> Iterator[Api]:
    """Each scrape reads the store afresh (a deployment keeps a reading for 5 s)."""
    settings = Settings(database_url=database_url, metrics_store_seconds=0)
    with TestClient(create_app(settings, store, logging=False)) as client:
        yield Api(client, store)


Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(api: Api, headers: dict[str, str]) -> Figures:
    answer = api.client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(figures: Figures, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_a_token_with_the_metrics_scope(api: Api) -> None:
    refused = api.client.get("/metrics")
    assert refused.status_code == 401
    assert "bearer token" in refused.json()["detail"]
    forbidden = api.client.get("/metrics", headers=api.token("cases:read", "admin"))
    assert forbidden.status_code == 403
    assert "metrics scope" in forbidden.json()["detail"]


def test_requests_are_counted_per_route_template_not_per_child(api: Api) -> None:
    scraper, writer = api.token("metrics"), api.token("cases:write", "cases:read")
    route = "/api/v1/cases/{case_id}"
    before = scrape(api, scraper)
    case = open_case(api, writer, register_child(api, writer))
    for _ in range(3):
        assert api.client.get(f"/api/v1/cases/{case['id']}", headers=writer).status_code == 200
    after_figures = scrape(api, scraper)
    labels = {"method": "GET", "path": route, "status_code": "200"}
    assert (
        value(after_figures, "gateway_requests_total", **labels)
        - value(before, "gateway_requests_total", **labels)
        == 3
    )
    assert (
        value(after_figures, "gateway_request_duration_seconds_count", **labels)
        - value(before, "gateway_request_duration_seconds_count", **labels)
        == 3
    )
    assert not any(case["id"] in str(key) for key in after_figures)  # no series per case


def test_the_work_in_the_store_is_what_the_scraper_reads(api: Api, clock: ManualClock) -> None:
    scraper, writer = api.token("metrics"), api.token("cases:write")
    open_case(api, writer, register_child(api, writer))
    with api.store.engine.connect() as connection:
        waiting = dict(
            connection.execute(
                sa.select(outbox.c.destination, sa.func.count())
                .where(outbox.c.status == "pending")
                .group_by(outbox.c.destination)
            ).all()
        )
    figures = scrape(api, scraper)
    assert waiting["mosaic"] >= 2
    for destination, count in waiting.items():
        assert (
            value(figures, "gateway_outbox_messages", destination=destination, status="pending")
            == count
        )

    mis = api.mis()
    days = school_days(dt.date(2025, 9, 1), 2)
    rows = [
        {"school_urn": SCHOOL, "upn": make_upn(7), "date": d.isoformat(), "am": "/", "pm": pm}
        for d, pm in zip(days, ("\\", "Q9"), strict=True)
    ]
    post_feed(api, mis, json.dumps(rows).encode(), "application/json")
    figures = scrape(api, scraper)
    assert value(figures, "gateway_feed_records_total", result="accepted") == 1
    assert value(figures, "gateway_feed_records_total", result="rejected") == 1

    # Every casenote only logged (no Mosaic, the development stand-in): counted as logged.
    from gateway.delivery.setup import build_worker
    from gateway.settings import Settings

    development = Settings(database_url="sqlite://", log_unconfigured_destinations=True)
    worker: Worker = build_worker(development, api.store)
    worker.drain()
    figures = scrape(api, scraper)
    assert (
        value(figures, "gateway_deliveries_total", destination="mosaic", result="logged")
        == (waiting["mosaic"])
    )
    assert value(figures, "gateway_outbox_messages", destination="mosaic", status="pending") == 0

    assert value(figures, "gateway_clocks_breached", agency="education") == 0
    running = value(figures, "gateway_clocks", state="running")
    assert running >= 1
    clock.advance(days=120)  # past every clock the case started
    figures = scrape(api, scraper)
    breached = sum(v for (name, _), v in figures.items() if name == "gateway_clocks_breached")
    assert breached == running


def test_refusals_are_counted_with_their_own_status_and_time(api: Api) -> None:
    """A bad token is refused before any route runs (401), as an unreachable database would be
    (503): a dashboard must see those, not a 200 in no time."""
    scraper = api.token("metrics")
    route = "/api/v1/cases/{case_id}"
    before = scrape(api, scraper)
    for _ in range(4):
        refused = api.client.get("/api/v1/cases/x", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401
    after = scrape(api, scraper)
    refusal = {"method": "GET", "path": route, "status_code": "401"}
    assert (
        value(after, "gateway_requests_total", **refusal)
        - value(before, "gateway_requests_total", **refusal)
        == 4
    )
    ok = {"method": "GET", "path": route, "status_code": "200"}
    assert value(after, "gateway_requests_total", **ok) == value(
        before, "gateway_requests_total", **ok
    )
    assert value(after, "gateway_request_duration_seconds_sum", **refusal) > value(
        before, "gateway_request_duration_seconds_sum", **refusal
    )


def test_one_reading_of_the_store_serves_scrapes_for_a_few_seconds(store: Store) -> None:
    """Several replicas scraped by several servers: one set of counts per interval."""
    ticks = [100.0]
    collector = StoreCollector(store, 5.0, now=lambda: ticks[0])

    def pending() -> float:
        [depth] = [m for m in collector.collect() if m.name == "gateway_outbox_messages"]
        return sum(sample.value for sample in depth.samples if sample.labels["status"] == "pending")

    assert pending() == 0
    with store.unit_of_work() as uow:
        child = uow.children.add(child_details(40), uow.now)
    service.open_case(
        store,
        NewCase(child_id=child.id, reason="illness", source="school", summary="s"),
        OFFICER,
        load_pack("lincolnshire"),
    )
    assert pending() == 0  # the reading taken a moment ago
    ticks[0] += 5.0
    assert pending() > 0
