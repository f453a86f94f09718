"""Admin view of the outbox: list, inspect with history, replay a dead delivery."""

from __future__ import annotations

import datetime as dt

from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from tests.api.conftest import Api
from tests.api.test_cases_api import open_case, register_child
from tests.integration.destinations import RecordingDestination, RejectingDestination


def worker(api: Api, destination: RecordingDestination) -> Worker:
    return Worker(
        api.store,
        {"mosaic": destination},
        RetryPolicy(max_attempts=2, base_seconds=1, cap_seconds=1),
        lease=dt.timedelta(minutes=1),
        inline_retries=0,
    )


def test_dead_delivery_is_listed_inspected_and_replayed(api: Api) -> None:
    headers = api.token("admin", "cases:write")
    case = open_case(api, headers, register_child(api, headers))
    worker(api, RejectingDestination()).drain()

    dead = api.client.get(
        "/api/v1/admin/deliveries",
        headers=headers,
        params={"status": "dead", "kind": "case.case_opened"},
    )
    [item] = dead.json()["items"]
    assert (item["case_id"], item["destination"], item["attempts"]) == (case["id"], "mosaic", 1)

    detail = api.client.get(f"/api/v1/admin/deliveries/{item['id']}", headers=headers).json()
    assert [h["outcome"] for h in detail["history"]] == ["permanent"]
    assert detail["payload"]["case"]["id"] == case["id"]

    replayed = api.client.post(f"/api/v1/admin/deliveries/{item['id']}/replay", headers=headers)
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    again = api.client.post(f"/api/v1/admin/deliveries/{item['id']}/replay", headers=headers)
    assert again.status_code == 409

    receiver = RecordingDestination()
    worker(api, receiver).drain()
    assert receiver.received == {item["idempotency_key"]: 1}
    final = api.client.get(f"/api/v1/admin/deliveries/{item['id']}", headers=headers).json()
    assert final["status"] == "delivered"
    assert [h["outcome"] for h in final["history"]] == ["permanent", "delivered"]
    ready = api.client.get("/health/ready").json()
    left = api.client.get(
        "/api/v1/admin/deliveries", headers=headers, params={"status": "dead"}
    ).json()["items"]
    assert len(left) >= 1  # the routing and clock notes, still dead: only one was replayed
    assert ready["outbox"] == {"mosaic": {"dead": len(left)}}
