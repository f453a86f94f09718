"""The same children routed by another authority's pack: Worcestershire's CCAS process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import Store
from tests.api.conftest import Api
from tests.support import ManualClock, child_json


@pytest.fixture
def worcs(store: Store, database_url: str) -> Iterator[Api]:
    app = create_app(
        Settings(database_url=database_url, policy="worcestershire"), store, logging=False
    )
    with TestClient(app) as client:
        yield Api(client, store)


def test_worcestershire_sends_ehcp_children_to_send_and_the_rest_to_ccas(worcs: Api) -> None:
    headers = worcs.token()
    routed = {}
    for serial, ehcp in ((1, "issued"), (2, "draft"), (3, "none")):
        child = worcs.client.post(
            "/api/v1/children", headers=headers, json=child_json(serial, ehcp_status=ehcp)
        ).json()
        case = worcs.client.post(
            "/api/v1/cases",
            headers=headers,
            json={"child_id": child["id"], "reason": "illness", "source": "portal", "summary": "s"},
        ).json()
        routed[ehcp] = (case["lead_team"], case["panel"], case["routing"]["rule_id"])
    assert routed == {
        "issued": ("SEND", None, "worcs.ehcp.send"),
        "draft": ("SEND", None, "worcs.ehcp_draft.send"),
        "none": ("CCAS", "CCAS_PANEL", "worcs.ccas.panel"),
    }


def test_a_ccas_placement_comes_back_to_panel_after_twelve_weeks(worcs: Api) -> None:
    headers = worcs.token()
    child = worcs.client.post("/api/v1/children", headers=headers, json=child_json(4)).json()
    case = worcs.client.post(
        "/api/v1/cases",
        headers=headers,
        json={"child_id": child["id"], "reason": "otherwise", "source": "portal", "summary": "s"},
    ).json()
    url = f"/api/v1/cases/{case['id']}"
    worcs.client.post(
        f"{url}/status", headers=headers, json={"status": "awaiting_panel", "reason": "r"}
    )
    decided = worcs.client.post(
        f"{url}/decisions",
        headers=headers,
        json={"outcome": "agreed", "decided_by": "CCAS panel", "reason": "tuition agreed"},
    )
    assert decided.status_code == 200, decided.text
    clock: ManualClock = worcs.store.clock  # type: ignore[assignment]
    today = clock.now().date()

    def reviews(on: dt.date) -> list[str]:
        agenda = worcs.client.get(
            "/api/v1/panels/CCAS_PANEL/agenda", headers=headers, params={"date": on.isoformat()}
        ).json()
        return [r["case"]["id"] for r in agenda["reviews_due"]]

    assert reviews(today + dt.timedelta(weeks=11)) == []
    assert reviews(today + dt.timedelta(weeks=12)) == [case["id"]]
