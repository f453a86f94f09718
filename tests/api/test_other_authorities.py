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
        "none": ("CCAS", None, "worcs.ccas.review"),
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
    assert case["panel"] is None  # reviewed by the CCAS team first (000 s.5)
    raised = worcs.client.post(
        f"{url}/nominations",
        headers=headers,
        json={"nominated_by": "CCAS officer", "reason": "needs the panel: no provision"},
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["panel"] == "CCAS_PANEL"
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


def test_a_reviewed_notification_reaches_the_agenda_only_when_an_officer_raises_it(
    worcs: Api,
) -> None:
    """000 s.5: "All notifications are reviewed. Any notifications which require CCAS Panel
    consideration will be raised on the agenda at CCAS Panel"; a request for support is a route
    into the panel of its own."""
    headers = worcs.token()
    today = worcs.store.clock.now().date().isoformat()

    def agenda() -> list[str]:
        answer = worcs.client.get(
            "/api/v1/panels/CCAS_PANEL/agenda", headers=headers, params={"date": today}
        )
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["new_referrals"]]

    opened = {}
    for serial, notification in ((5, "irregular_attendance"), (6, "section19_request")):
        child = worcs.client.post(
            "/api/v1/children", headers=headers, json=child_json(serial)
        ).json()
        body = {
            "child_id": child["id"],
            "reason": "otherwise",
            "source": "school",
            "summary": "s",
            "circumstances": {"notification": notification},
        }
        opened[notification] = worcs.client.post("/api/v1/cases", headers=headers, json=body).json()
    notice, request = opened["irregular_attendance"], opened["section19_request"]
    assert (notice["routing"]["rule_id"], notice["panel"]) == ("worcs.ccas.review", None)
    assert (request["routing"]["rule_id"], request["panel"]) == (
        "worcs.request.panel",
        "CCAS_PANEL",
    )
    assert agenda() == [request["id"]]

    url = f"/api/v1/cases/{notice['id']}/nominations"
    body = {"nominated_by": "CCAS officer", "reason": "attendance keeps falling; needs panel"}
    raised = worcs.client.post(url, headers=headers, json=body)
    assert raised.status_code == 200, raised.text
    (entry,) = [e for e in raised.json()["timeline"] if e["summary"].startswith("Nominated")]
    decision = entry["detail"]["decision"]
    assert decision["outcome"] == "nominated to CCAS_PANEL"
    assert decision["policy_ref"].startswith("000_71f8eec88067f363.txt 5. Routes into the panel")
    assert sorted(agenda()) == sorted([notice["id"], request["id"]])
    again = worcs.client.post(url, headers=headers, json=body).json()
    assert [e["summary"] for e in again["timeline"]].count(entry["summary"]) == 1

    wrong = worcs.client.post(url, headers=headers, json={**body, "panel": "NOWHERE"})
    assert wrong.status_code == 422, wrong.text
    assert [e["field"] for e in wrong.json()["errors"]] == ["panel"]


def test_a_panel_that_hears_only_what_its_routes_send_refuses_nominations(api: Api) -> None:
    """Lincolnshire's Section 19 panel hears the requests its routes send it; its policy has
    no officer nominating cases to it."""
    headers = api.token()
    child = api.client.post("/api/v1/children", headers=headers, json=child_json(7)).json()
    case = api.client.post(
        "/api/v1/cases",
        headers=headers,
        json={"child_id": child["id"], "reason": "illness", "source": "school", "summary": "s"},
    ).json()
    answer = api.client.post(
        f"/api/v1/cases/{case['id']}/nominations",
        headers=headers,
        json={"nominated_by": "officer", "reason": "r", "panel": "S19_PANEL"},
    )
    assert answer.status_code == 422, answer.text
    assert "its routes decide which cases it hears" in answer.json()["detail"]
    unchanged = api.client.get(f"/api/v1/cases/{case['id']}", headers=headers).json()
    assert unchanged["timeline"] == case["timeline"]
