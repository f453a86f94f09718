"""Admin view of the outbox: list, inspect with history, replay a dead delivery."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.store.schema import audit_log
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
    everything = api.client.get("/api/v1/admin/deliveries", headers=headers).json()["items"]
    # Only the first died; the case's later notes wait behind it, untried, in order.
    assert sorted(d["status"] for d in everything).count("dead") == 1
    assert {d["attempts"] for d in everything if d["status"] == "pending"} == {0}

    detail = api.client.get(f"/api/v1/admin/deliveries/{item['id']}", headers=headers).json()
    assert [h["outcome"] for h in detail["history"]] == ["permanent"]
    assert detail["payload"]["case"]["id"] == case["id"]

    replayed = api.client.post(f"/api/v1/admin/deliveries/{item['id']}/replay", headers=headers)
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    again = api.client.post(f"/api/v1/admin/deliveries/{item['id']}/replay", headers=headers)
    assert again.status_code == 409

    receiver = RecordingDestination()
    worker(api, receiver).drain()
    # The replayed note first, then the case's later notes that waited behind it.
    assert receiver.received[item["idempotency_key"]] == 1
    assert len(receiver.received) >= 2
    final = api.client.get(f"/api/v1/admin/deliveries/{item['id']}", headers=headers).json()
    assert final["status"] == "delivered"
    assert [h["outcome"] for h in final["history"]] == ["permanent", "delivered"]
    ready = api.client.get("/health/ready", headers=headers).json()
    assert ready["outbox"] == {}
    discard = api.client.post(
        f"/api/v1/admin/deliveries/{item['id']}/discard",
        headers=headers,
        json={"reason": "not needed"},
    )
    assert discard.status_code == 409  # delivered: nothing to give up on
    assert "dead, parked or logged" in discard.json()["detail"]


def test_a_parked_casenote_is_listed_and_released_by_linking_the_child(api: Api) -> None:
    from adapters.mosaic.client import MosaicClient
    from adapters.mosaic.destination import MosaicDestination
    from simulators.mosaic import running_mosaic

    admin = api.token("admin", "cases:write")
    child_id = register_child(api, admin)
    open_case(api, admin, child_id)
    with running_mosaic(username="gw", password="pw") as mosaic:
        client = MosaicClient(mosaic.url, "gw", "pw", wsdl=mosaic.wsdl_path)
        destination = MosaicDestination(api.store, client, None)
        work = Worker(
            api.store,
            {"mosaic": destination},
            RetryPolicy(max_attempts=2, base_seconds=1, cap_seconds=1),
            lease=dt.timedelta(minutes=1),
            inline_retries=0,
        )
        work.drain()
        listed = api.client.get(
            "/api/v1/admin/deliveries",
            headers=admin,
            params={"status": "parked", "child_id": child_id},
        ).json()["items"]
        assert [(d["child_id"], d["destination"]) for d in listed] == [(child_id, "mosaic")]
        assert "link the child to a Mosaic person" in listed[0]["last_error"]
        assert mosaic.notes == []

        url = f"/api/v1/admin/children/{child_id}/mosaic-person"
        for wrong in ("P-1", "7\n", ""):
            refused = api.client.put(url, headers=admin, json={"person_id": wrong})
            assert refused.status_code == 422, wrong
            assert refused.json()["errors"][0]["field"] == "person_id"
        officer = api.token("cases:write")
        assert api.client.put(url, headers=officer, json={"person_id": "7"}).status_code == 403

        mosaic.add_person("7")
        linked = api.client.put(url, headers=admin, json={"person_id": "7"})
        assert linked.status_code == 200, linked.text
        assert linked.json() == {"child_id": child_id, "person_id": "7", "released": 1}
        with api.store.engine.connect() as connection:
            audited = connection.execute(
                sa.select(audit_log.c.action).where(audit_log.c.child_id == child_id)
            ).scalars()
            assert "link" in list(audited)
        work.drain()
        assert {n.person_id for n in mosaic.notes} == {"7"}
        assert len(mosaic.notes) >= 3

        other = register_child(api, admin, 2)
        taken = api.client.put(
            f"/api/v1/admin/children/{other}/mosaic-person", headers=admin, json={"person_id": "7"}
        )
        assert taken.status_code == 409
        assert "already linked" in taken.json()["detail"]
