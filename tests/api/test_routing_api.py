"""Routing in transit and panel decisions over HTTP, with the default (Lincolnshire) pack."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gateway.app import create_app
from gateway.rules.pack import PackError
from gateway.settings import Settings
from gateway.store.schema import outbox
from tests.api.conftest import Api
from tests.support import child_json

CASES = "/api/v1/cases"


def child(api: Api, headers: dict[str, str], serial: int, **extra: object) -> str:
    response = api.client.post(
        "/api/v1/children", headers=headers, json=child_json(serial, **extra)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def open_case(api: Api, headers: dict[str, str], body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    base = {"source": "school", "summary": "Not attending"}
    response = api.client.post(CASES, headers=headers, json=base | body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_ehcp_child_whose_illness_is_linked_to_send_is_led_by_send(api: Api) -> None:
    headers = api.token()
    child_id = child(api, headers, 1, ehcp_status="issued")
    case = open_case(
        api,
        headers,
        {"child_id": child_id, "reason": "illness", "circumstances": {"linked_to_send": True}},
    )
    assert (case["lead_team"], case["panel"]) == ("SEND", "S19_PANEL")
    routing = case["routing"]
    assert routing["rule_id"] == "lincs.illness.send_linked"
    assert routing["policy_ref"].startswith("003_f2d02c83e1369368.txt Process step 3")
    [routed] = [e for e in case["timeline"] if e["detail"]["type"] == "decision_recorded"]
    decision = routed["detail"]["decision"]
    assert (decision["rule_id"], decision["decided_by"]) == (
        "lincs.illness.send_linked",
        "lincolnshire policy",
    )


def test_a_named_lead_is_kept_without_routing(api: Api) -> None:
    headers = api.token()
    case = open_case(
        api, headers, {"child_id": child(api, headers, 2), "reason": "illness", "lead_team": "EWE"}
    )
    assert (case["lead_team"], case["routing"]) == ("EWE", None)
    kinds = [
        e["detail"]["type"] for e in case["timeline"] if e["detail"]["type"] != "clock_changed"
    ]
    assert kinds == ["case_opened"]


def test_not_agreed_at_this_time_schedules_the_three_month_check_in(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, {"child_id": child(api, headers, 3), "reason": "otherwise"})
    url = f"{CASES}/{case['id']}"
    api.client.post(
        f"{url}/status", headers=headers, json={"status": "awaiting_panel", "reason": "panel"}
    )
    decided = api.client.post(
        f"{url}/decisions",
        headers=headers,
        json={
            "outcome": "not_agreed_at_this_time",
            "decided_by": "Section 19 panel",
            "reason": "Suitable education at the current setting with adjustments",
        },
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "not_agreed_at_this_time"
    *_, decision, follow_up = [
        e for e in body["timeline"] if e["detail"]["type"] != "clock_changed"
    ]
    assert decision["detail"]["decision"]["outcome"] == "not_agreed_at_this_time"
    assert "Process step 6" in decision["detail"]["decision"]["policy_ref"]
    action = follow_up["detail"]["action"]
    due = dt.date.fromisoformat(action["due_by"])
    assert action["kind"] == "three_month_check_in"
    assert due == (api.store.clock.now() + dt.timedelta(days=91)).date()
    with api.store.engine.connect() as connection:
        destinations = set(
            connection.execute(
                sa.select(outbox.c.destination).where(outbox.c.case_id == case["id"])
            ).scalars()
        )
    assert destinations == {"mosaic"}


def test_unknown_outcomes_and_illegal_moves_are_refused(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, {"child_id": child(api, headers, 4), "reason": "illness"})
    url = f"{CASES}/{case['id']}/decisions"
    unknown = api.client.post(
        url, headers=headers, json={"outcome": "maybe", "decided_by": "panel", "reason": "x"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "outcome"
    too_early = api.client.post(
        url, headers=headers, json={"outcome": "agreed", "decided_by": "panel", "reason": "x"}
    )
    assert too_early.status_code == 409  # received -> agreed skips the panel
    assert "received" in too_early.json()["detail"]


def test_an_unknown_policy_stops_the_service(api: Api) -> None:
    with pytest.raises(PackError, match="no policy pack 'atlantis'"):
        create_app(Settings(policy="atlantis"), api.store, logging=False)


def test_the_panel_agenda_lists_new_referrals_and_actions_due(api: Api) -> None:
    headers = api.token()
    waiting = open_case(api, headers, {"child_id": child(api, headers, 5), "reason": "illness"})
    checked = open_case(api, headers, {"child_id": child(api, headers, 6), "reason": "otherwise"})
    url = f"{CASES}/{checked['id']}"
    to_panel = {"status": "awaiting_panel", "reason": "for the panel"}
    api.client.post(f"{url}/status", headers=headers, json=to_panel)
    decision = {"outcome": "not_agreed_at_this_time", "decided_by": "panel", "reason": "at school"}
    assert api.client.post(f"{url}/decisions", headers=headers, json=decision).status_code == 200

    today = api.store.clock.now().date()
    agenda = api.client.get(
        "/api/v1/panels/S19_PANEL/agenda", headers=headers, params={"date": today.isoformat()}
    ).json()
    assert agenda["standing_order"][1] == "Actions from the last meeting"
    assert [c["id"] for c in agenda["new_referrals"]] == [waiting["id"]]
    assert agenda["actions_due"] == []
    later = (today + dt.timedelta(days=91)).isoformat()
    agenda = api.client.get(
        "/api/v1/panels/S19_PANEL/agenda", headers=headers, params={"date": later}
    ).json()
    [due] = agenda["actions_due"]
    assert (due["case_id"], due["action"]["kind"]) == (checked["id"], "three_month_check_in")
    missing = api.client.get("/api/v1/panels/NOPE/agenda", headers=headers)
    assert missing.status_code == 404
    assert "S19_PANEL" in missing.json()["detail"]
