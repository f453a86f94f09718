"""A worker that cannot reach a destination leaves its messages pending, never settled.

Run as a deployment runs it (`gateway worker --once`, its own process): without
GATEWAY_MOSAIC_URL the casenotes wait and the worker says why; only the development setting
writes them to the log, as "logged" (never "delivered"), and those are replayed to Mosaic once
it is configured."""

from __future__ import annotations

import subprocess
import sys

from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from simulators import mosaic as mosaic_service
from simulators.mosaic import running_mosaic
from tests.api.conftest import Api
from tests.api.test_cases_api import open_case
from tests.resilience.processes import environment
from tests.support import child_json


def gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def mosaic_deliveries(api: Api, headers: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    items = api.client.get(
        "/api/v1/admin/deliveries",
        headers=headers,
        params={"destination": "mosaic", "limit": 200},
    ).json()["items"]
    return items  # type: ignore[no-any-return]


def test_a_worker_without_a_destination_leaves_its_messages_pending_and_says_so(
    api: Api, database_url: str
) -> None:
    _, token = create_client(api.store, "ops", ALL_SCOPES)
    admin = {"Authorization": f"Bearer {token}"}
    body = child_json(1)
    child = api.client.post("/api/v1/children", headers=admin, json=body).json()
    case = open_case(api, admin, child["id"])
    written = mosaic_deliveries(api, admin)
    assert len(written) >= 2

    env = environment(database_url, log_json="false")
    env.pop("GATEWAY_MOSAIC_URL", None)
    env.pop("GATEWAY_LOG_UNCONFIGURED_DESTINATIONS", None)
    plain = gateway(env, "worker", "--once")
    assert "delivered or settled 0 message(s)" in plain.stdout
    assert "its messages wait in the outbox, undelivered" in plain.stdout + plain.stderr
    assert "GATEWAY_MOSAIC_URL" in plain.stdout + plain.stderr
    waiting = mosaic_deliveries(api, admin)
    assert {(d["status"], d["attempts"]) for d in waiting} == {("pending", 0)}
    ready = api.client.get("/health/ready", headers=admin).json()
    assert ready["destinations_not_configured"]["mosaic"] == "GATEWAY_MOSAIC_URL"
    assert ready["outbox"]["mosaic"] == {"pending": len(written)}

    # Development: the log stands in, and says in the store that it only logged.
    logged_env = env | {"GATEWAY_LOG_UNCONFIGURED_DESTINATIONS": "true"}
    gateway(logged_env, "worker", "--once")
    logged = mosaic_deliveries(api, admin)
    assert {d["status"] for d in logged} == {"logged"}
    assert all(d["delivered_at"] is None for d in logged)
    found = api.client.get(
        "/api/v1/admin/deliveries", headers=admin, params={"status": "logged"}
    ).json()["items"]
    assert {d["id"] for d in found} >= {d["id"] for d in written}
    detail = api.client.get(f"/api/v1/admin/deliveries/{written[0]['id']}", headers=admin).json()
    assert [h["outcome"] for h in detail["history"]] == ["logged"]

    # Once Mosaic is configured, what was only logged holds the child's later notes back
    # until it is replayed, then everything is sent for real, in the order written.
    with running_mosaic() as mosaic:
        mosaic.add_person("9001", body["identifiers"]["upn"])
        linked = api.client.put(
            f"/api/v1/admin/children/{child['id']}/mosaic-person",
            headers=admin,
            json={"person_id": "9001"},
        )
        assert linked.status_code == 200, linked.text
        configured = env | {
            "GATEWAY_MOSAIC_URL": mosaic.url,
            "GATEWAY_MOSAIC_WSDL": str(mosaic_service.WSDL_PATH),
            "GATEWAY_MOSAIC_USERNAME": mosaic_service.DEFAULT_USERNAME,
            "GATEWAY_MOSAIC_PASSWORD": mosaic_service.DEFAULT_PASSWORD,
        }
        later = api.client.post(
            f"/api/v1/cases/{case['id']}/actions",
            headers=admin,
            json={"kind": "home_visit", "description": "Visited", "actor": "EWO"},
        )
        assert later.status_code == 201, later.text
        held = gateway(configured, "worker", "--once")
        assert "delivered or settled 0 message(s)" in held.stdout
        assert mosaic.notes == []
        replayed = gateway(env, "deliveries", "replay", "--all-logged", "--destination", "mosaic")
        assert f"replayed {len(written)} deliveries" in replayed.stdout
        gateway(configured, "worker", "--once")
        assert len(mosaic.notes) == len(written) + 1
    sent = mosaic_deliveries(api, admin)
    assert {d["status"] for d in sent} == {"delivered"}
    kinds = [d["kind"] for d in sorted(sent, key=lambda d: d["delivered_at"])]
    assert (kinds[0], kinds[-1]) == ("case.case_opened", "case.action_recorded")
