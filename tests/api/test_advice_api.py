"""Advice for an EHC needs assessment over the case API (Sutton pack): asked once per adviser,
health held until the family agrees to share, progress recorded, moves refused that the Task
state machine does not allow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import outbox
from tests.api.conftest import Api
from tests.support import child_json


@pytest.fixture
def sutton(store: Store, database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, policy="sutton"), store, logging=False)
    with TestClient(app) as client:
        yield Api(client, store)


def new_case(api: Api, headers: dict[str, str], serial: int = 1) -> dict[str, Any]:
    child = api.client.post("/api/v1/children", headers=headers, json=child_json(serial)).json()
    body = {"child_id": child["id"], "reason": "otherwise", "source": "school", "summary": "s"}
    case: dict[str, Any] = api.client.post("/api/v1/cases", headers=headers, json=body).json()
    return case


def share(api: Api, headers: dict[str, str], child_id: str, **body: Any) -> Any:
    answer = api.client.put(
        f"/api/v1/children/{child_id}/sharing/health",
        headers=headers,
        json={"agreed": True, "categories": ["identity"], "source": "request form"} | body,
    )
    return answer


def nhs_messages(api: Api) -> list[str]:
    with api.store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(outbox.c.kind).where(outbox.c.destination == "nhs")
            ).scalars()
        )


def test_an_assessment_asks_each_adviser_once_and_holds_health_without_consent(
    sutton: Api,
) -> None:
    headers = sutton.token("cases:write", "cases:read")
    case = new_case(sutton, headers)
    started = sutton.client.post("/api/v1/ehcna", headers=headers, json={"case_id": case["id"]})
    assert started.status_code == 201, started.text
    requests = {r["adviser"]: r for r in started.json()["requests"]}
    assert set(requests) == {"health", "social_care", "education", "educational_psychology"}
    assert requests["health"]["status"] == "held"
    assert requests["health"]["performer"] == "RVR"
    assert requests["social_care"]["performer"] == "CFCS"
    assert requests["social_care"]["due_at"].startswith("2026-02-16")  # six weeks from 5 Jan
    assert nhs_messages(sutton) == []  # nothing about the child went to health

    again = sutton.client.post("/api/v1/ehcna", headers=headers, json={"case_id": case["id"]})
    assert {r["id"] for r in again.json()["requests"]} == {r["id"] for r in requests.values()}

    declined = share(sutton, headers, case["child_id"], agreed=False, categories=[])
    assert declined.status_code == 200
    listed = sutton.client.get(f"/api/v1/cases/{case['id']}/advice-requests", headers=headers)
    health = next(r for r in listed.json() if r["adviser"] == "health")
    assert health["status"] == "held"

    no_identity = share(sutton, headers, case["child_id"], categories=["send"])
    assert no_identity.status_code == 200
    assert nhs_messages(sutton) == []

    agreed = share(sutton, headers, case["child_id"], categories=["identity", "send"])
    assert agreed.json()["categories"] == ["identity", "send"]
    listed = sutton.client.get(f"/api/v1/cases/{case['id']}/advice-requests", headers=headers)
    health = next(r for r in listed.json() if r["adviser"] == "health")
    assert (health["status"], health["held_reason"]) == ("requested", None)
    assert nhs_messages(sutton) == ["advice.health_requested"]
    sharing = sutton.client.get(f"/api/v1/children/{case['child_id']}/sharing", headers=headers)
    assert [(s["agency"], s["agreed"]) for s in sharing.json()] == [("health", True)]


def test_progress_is_recorded_and_illegal_moves_are_refused(sutton: Api) -> None:
    headers = sutton.token("cases:write", "cases:read")
    case = new_case(sutton, headers, 2)
    started = sutton.client.post(
        "/api/v1/ehcna", headers=headers, json={"case_id": case["id"], "advisers": ["education"]}
    ).json()
    [education] = started["requests"]
    url = f"/api/v1/advice-requests/{education['id']}"
    done = sutton.client.patch(url, headers=headers, json={"status": "completed", "note": "sent"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["notes"]) == ("completed", ["sent"])
    back = sutton.client.patch(url, headers=headers, json={"status": "accepted"})
    assert back.status_code == 422
    assert back.json()["errors"][0]["field"] == "status"
    assert "finished" in back.json()["detail"]

    health = sutton.client.post(
        "/api/v1/ehcna", headers=headers, json={"case_id": case["id"], "advisers": ["health"]}
    ).json()["requests"][0]
    refused = sutton.client.patch(
        f"/api/v1/advice-requests/{health['id']}", headers=headers, json={"status": "accepted"}
    )
    assert refused.status_code == 422
    assert "FHIR" in refused.json()["detail"]
    withdrawn = sutton.client.patch(
        f"/api/v1/advice-requests/{health['id']}",
        headers=headers,
        json={"status": "cancelled", "status_reason": "family withdrew the request"},
    )
    assert withdrawn.json()["status"] == "cancelled"


def test_an_authority_without_an_nhs_team_must_name_one(api: Api) -> None:
    headers = api.token("cases:write", "cases:read")
    case = new_case(api, headers, 3)  # the default pack: Lincolnshire names no NHS team
    refused = api.client.post("/api/v1/ehcna", headers=headers, json={"case_id": case["id"]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "health_performer"
    named = api.client.post(
        "/api/v1/ehcna",
        headers=headers,
        json={"case_id": case["id"], "health_performer": "RWD", "advisers": ["health"]},
    )
    assert named.status_code == 201, named.text
    assert named.json()["requests"][0]["performer"] == "RWD"
    asked = api.client.post(
        "/api/v1/ehcna", headers=headers, json={"case_id": case["id"], "advisers": ["education"]}
    )
    assert asked.status_code == 201, asked.text
    reports = api.token("reports:read")
    clocks = api.client.get(
        "/api/v1/sla/clocks",
        headers=reports,
        params={"case_id": case["id"], "kind": "lincs.advice.education"},
    ).json()
    assert [(c["state"], c["due_at"][:10]) for c in clocks] == [("running", "2026-02-16")]
    wrong = api.client.post(
        "/api/v1/ehcna",
        headers=headers,
        json={"case_id": case["id"], "health_performer": "not an ods code"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "health_performer"
