"""Portal notifications over HTTP: routed into a case, duplicates attached, bad payloads
refused naming the field, late exclusion notices flagged (Lincolnshire pack by default)."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import sqlalchemy as sa

from gateway.store.schema import inbound_archive, portal_notifications
from tests.api.conftest import Api

EXAMPLES = pathlib.Path(__file__).parents[2] / "contracts" / "portal" / "examples"
URL = "/api/v1/portal/notifications"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def test_a_permanent_exclusion_from_a_special_school_opens_a_send_led_case(api: Api) -> None:
    portal, officer = api.token("portal:write"), api.token("cases:read")
    response = api.client.post(URL, headers=portal, json=example("permanent_exclusion"))
    assert response.status_code == 201, response.text
    outcome = response.json()
    assert outcome["duplicate"] is False
    assert outcome["routing"]["rule_id"] == "lincs.exclusion.special_school_ehcp"
    assert outcome["routing"]["lead_team"] == "SEND"
    assert outcome["notice_late"] is True  # issued 17 Nov 16:45, notified 19 Nov 09:10
    case = api.client.get(f"/api/v1/cases/{outcome['case_id']}", headers=officer).json()
    assert (case["reason"], case["source"], case["lead_team"]) == ("exclusion", "portal", "SEND")
    kinds = [
        e["detail"].get("action", {}).get("kind") or e["detail"]["type"]
        for e in case["timeline"]
        if e["detail"]["type"] != "clock_changed"
    ]
    # The pack times the notice, so the clock's "met late" is the record of it.
    assert kinds == ["case_opened", "decision_recorded"]
    reports = api.token("reports:read")
    clocks = {
        c["kind"]: c
        for c in api.client.get(
            "/api/v1/sla/clocks", headers=reports, params={"case_id": outcome["case_id"]}
        ).json()
    }
    notice = clocks["lincs.exclusion.notice"]
    # Issued Monday 17 November 2025 16:45, submitted Wednesday 19th 09:10: 40 hours.
    assert (notice["state"], notice["started_at"], notice["due_at"], notice["met_at"]) == (
        "met",
        "2025-11-17T16:45:00Z",
        "2025-11-18T16:45:00Z",
        "2025-11-19T09:10:00Z",
    )
    sixth = clocks["lincs.exclusion.sixth_day"]
    # First day Tuesday 18th is day one; the sixth school day is Tuesday 25th (GMT).
    assert (sixth["state"], sixth["due_at"], sixth["owner_team"]) == (
        "running",
        "2025-11-25T23:59:59Z",
        "SEND",
    )
    changes = [
        (e["detail"]["kind"], e["detail"]["change"])
        for e in case["timeline"]
        if e["detail"]["type"] == "clock_changed"
    ]
    assert ("lincs.exclusion.notice", "met late") in changes
    child = api.client.get(f"/api/v1/children/{outcome['child_id']}", headers=officer).json()
    assert child["name"]["family"] == "Marsh"


def test_the_same_notice_again_attaches_to_its_case(api: Api) -> None:
    portal = api.token("portal:write")
    first = api.client.post(URL, headers=portal, json=example("illness")).json()
    resent = copy.deepcopy(example("illness"))
    resent["notification_id"] = resent["notification_id"] + "-again"
    again = api.client.post(URL, headers=portal, json=resent)
    assert again.status_code == 200
    assert again.json()["case_id"] == first["case_id"]
    assert again.json()["duplicate"] is True
    with api.store.engine.connect() as connection:
        rows = connection.execute(sa.select(portal_notifications.c.duplicate_of)).scalars().all()
        archived = connection.execute(sa.select(sa.func.count()).select_from(inbound_archive))
        assert archived.scalar_one() == 2  # both bodies kept
    assert len(rows) == 2
    assert rows.count(None) == 1  # the first; the repeat points at it


def test_a_bad_payload_is_refused_naming_each_field_and_still_archived(api: Api) -> None:
    portal = api.token("portal:write")
    body = example("illness")
    body["child"]["upn"] = "A801200005001"
    body["school"]["urn"] = "12345"
    response = api.client.post(URL, headers=portal, json=body)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in problem["errors"]} >= {"child.upn", "school.urn"}
    with api.store.engine.connect() as connection:
        archived = connection.execute(sa.select(sa.func.count()).select_from(inbound_archive))
        assert archived.scalar_one() == 1


def test_the_portal_scope_is_needed(api: Api) -> None:
    response = api.client.post(URL, headers=api.token("cases:write"), json=example("illness"))
    assert response.status_code == 403


def test_junk_is_a_4xx_never_a_500(api: Api) -> None:
    portal = {**api.token("portal:write"), "content-type": "application/json"}
    for body in (b"", b"[]", b"{", b'{"type": 5}', b"\xff\xfe", b'"text"'):
        response = api.client.post(URL, headers=portal, content=body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
