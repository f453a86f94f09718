"""Every destination receives only what the family agreed to share with it ("tell us once",
Sutton 004): health, Mosaic (social care) and providers, each checked with sharing refused and
with it agreed; a safeguarding override is explicit, recorded and audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from adapters.mosaic.client import MosaicClient
from adapters.mosaic.destination import MosaicDestination
from gateway.app import create_app
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import outbox
from simulators.mosaic import running_mosaic
from tests.api.conftest import Api
from tests.api.test_providers_api import (
    APPROVED,
    CSV,
    GIAS,
    agreed_case,
    commission,
    provider_named,
)
from tests.support import child_json

REFERRAL = "Off school since the spring half term with chronic fatigue; mother worried."


@pytest.fixture
def sutton(store: Store, database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, policy="sutton"), store, logging=False)
    with TestClient(app) as client:
        yield Api(client, store)


def payloads(api: Api, destination: str) -> list[dict[str, Any]]:
    with api.store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox.c.payload).where(outbox.c.destination == destination)
        ).scalars()
        return [p if isinstance(p, dict) else json.loads(p) for p in rows]


def share(api: Api, headers: dict[str, str], child_id: str, agency: str, **body: Any) -> None:
    answer = api.client.put(
        f"/api/v1/children/{child_id}/sharing/{agency}",
        headers=headers,
        json={"agreed": True, "categories": ["identity"], "source": "form"} | body,
    )
    assert answer.status_code == 200, answer.text


def test_a_provider_learns_who_the_pupil_is_only_with_the_familys_agreement(api: Api) -> None:
    admin = api.token()
    api.client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=GIAS)
    api.client.post("/api/v1/providers/imports/approved", headers=admin | CSV, content=APPROVED)
    tutor = provider_named(api, admin, "Estuary Tuition")
    names = []
    for serial, agreed in ((1, False), (2, True)):
        case = agreed_case(api, admin, serial)
        child = api.client.get(f"/api/v1/children/{case['child_id']}", headers=admin).json()
        names.append(child["name"]["family"])
        if agreed:
            share(api, admin, child["id"], "providers")
        made = commission(api, admin, case["id"], tutor["id"])
        assert made.status_code == 201, made.text
    withheld, shared = sorted(payloads(api, "provider"), key=lambda p: "upn" in p["pupil"])
    assert withheld["pupil"] == {"identity_withheld": True}
    assert names[0] not in json.dumps(withheld)
    assert shared["pupil"]["upn"] == child_json(2)["identifiers"]["upn"]
    assert shared["pupil"]["name"]["family"] == names[1]


def test_mosaic_gets_the_referrers_words_only_with_agreement_to_share_with_social_care(
    api: Api,
) -> None:
    admin = api.token()
    stored = {}
    with running_mosaic(username="gw", password="pw") as mosaic:
        destination = MosaicDestination(
            api.store, MosaicClient(mosaic.url, "gw", "pw", wsdl=mosaic.wsdl_path), None
        )
        work = Worker(
            api.store,
            {"mosaic": destination},
            RetryPolicy(max_attempts=2, base_seconds=1, cap_seconds=1),
            lease=dt.timedelta(minutes=1),
        )
        for serial, agreed in ((3, False), (4, True)):
            child = api.client.post(
                "/api/v1/children", headers=admin, json=child_json(serial)
            ).json()
            mosaic.add_person(f"90{serial}", upn=child["identifiers"]["upn"])
            if agreed:
                share(api, admin, child["id"], "social_care", categories=["education"])
            api.client.post(
                "/api/v1/cases",
                headers=admin,
                json={
                    "child_id": child["id"],
                    "reason": "illness",
                    "source": "school",
                    "summary": REFERRAL,
                },
            )
        work.drain()
        for note in mosaic.notes:
            if note.casenote_type == "EDUCATION_REFERRAL":
                stored[note.person_id] = note.body
    assert REFERRAL not in stored["903"]
    assert "withheld" in stored["903"]
    assert REFERRAL in stored["904"]


def test_a_safeguarding_override_sends_what_was_held_and_is_audited(sutton: Api) -> None:
    admin = sutton.token()
    child = sutton.client.post("/api/v1/children", headers=admin, json=child_json(5)).json()
    refused = sutton.client.put(
        f"/api/v1/children/{child['id']}/sharing/health",
        headers=admin,
        json={"agreed": False, "categories": [], "source": "parent by phone"},
    )
    assert refused.status_code == 200
    case = sutton.client.post(
        "/api/v1/cases",
        headers=admin,
        json={"child_id": child["id"], "reason": "otherwise", "source": "school", "summary": "s"},
    ).json()
    started = sutton.client.post(
        "/api/v1/ehcna", headers=admin, json={"case_id": case["id"], "advisers": ["health"]}
    ).json()
    assert started["requests"][0]["status"] == "held"
    assert payloads(sutton, "nhs") == []

    officer = sutton.token("cases:write")
    url = f"/api/v1/children/{child['id']}/sharing/health/safeguarding-override"
    body = {
        "reason": "Disclosure at school: medical neglect suspected; strategy meeting held",
        "authorised_by": "Head of Safeguarding",
    }
    assert sutton.client.post(url, headers=officer, json=body).status_code == 403
    overridden = sutton.client.post(url, headers=admin, json=body)
    assert overridden.status_code == 201, overridden.text
    decision = overridden.json()
    assert (decision["agreed"], decision["safeguarding_override"]) == (False, True)
    assert "Head of Safeguarding" in decision["source"]
    assert [p["advice_request_id"] for p in payloads(sutton, "nhs")] == [
        started["requests"][0]["id"]
    ]
    audit = sutton.client.get(
        "/api/v1/admin/audit", headers=admin, params={"child_id": child["id"]}
    ).json()
    assert "override" in [e["action"] for e in audit["entries"]]
