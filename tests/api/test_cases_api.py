"""The case API: create, read, list, move, act, timeline; errors as problem+json."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store.schema import audit_log, outbox
from tests.api.conftest import Api
from tests.support import child_json

CASES = "/api/v1/cases"


def clock(entry: dict) -> bool:  # type: ignore[type-arg]
    """Clock entries (gateway/sla) interleave with the ones a test is about."""
    return bool(entry["detail"]["type"] == "clock_changed")


def register_child(api: Api, headers: dict[str, str], serial: int = 1, **extra: object) -> str:
    response = api.client.post(
        "/api/v1/children", headers=headers, json=child_json(serial, **extra)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def open_case(api: Api, headers: dict[str, str], child_id: str, **extra: object) -> dict:  # type: ignore[type-arg]
    body = {"child_id": child_id, "reason": "illness", "source": "school", "summary": "Off sick"}
    response = api.client.post(CASES, headers=headers, json=body | extra)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_token_creates_and_reads_a_case(api: Api) -> None:
    writer, reader = api.token("cases:write"), api.token("cases:read")
    child_id = register_child(api, writer)
    created = open_case(api, writer, child_id)
    assert created["status"] == "received"
    assert created["school_urn"] == "120456"  # taken from the child when not given
    assert [e["detail"]["type"] for e in created["timeline"] if not clock(e)] == [
        "case_opened",
        "decision_recorded",  # the policy pack's routing (Lincolnshire by default)
    ]
    assert created["timeline"][0]["actor"] == "client-1"
    assert (created["lead_team"], created["panel"]) == ("PRT", "S19_PANEL")
    assert created["routing"]["rule_id"] == "lincs.illness.prt"

    read = api.client.get(f"{CASES}/{created['id']}", headers=reader)
    assert read.status_code == 200
    assert read.json() == created


def test_status_moves_follow_the_lifecycle_and_reach_the_outbox(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, register_child(api, headers))
    url = f"{CASES}/{case['id']}/status"

    refused = api.client.post(url, headers=headers, json={"status": "agreed", "reason": "x"})
    assert refused.status_code == 409
    assert refused.json()["errors"] == [
        {
            "field": "status",
            "message": "a case cannot move from received to agreed; "
            "allowed next: acknowledged, awaiting_panel, closed",
        }
    ]

    for status in ("acknowledged", "awaiting_panel", "agreed"):
        moved = api.client.post(url, headers=headers, json={"status": status, "reason": "panel"})
        assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["status"] == "agreed"
    changes = [e["detail"] for e in body["timeline"] if e["detail"]["type"] == "status_changed"]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("received", "acknowledged"),
        ("acknowledged", "awaiting_panel"),
        ("awaiting_panel", "agreed"),
    ]
    with api.store.engine.connect() as connection:
        kinds = connection.execute(
            sa.select(outbox.c.kind).where(
                outbox.c.case_id == case["id"], outbox.c.kind != "case.clock_changed"
            )
        ).scalars()
        assert (
            sorted(kinds)
            == ["case.case_opened", "case.decision_recorded"] + ["case.status_changed"] * 3
        )


def test_actions_append_to_the_timeline(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, register_child(api, headers))
    action = {
        "kind": "acknowledgement_sent",
        "description": "Acknowledgement letter sent to the school",
        "actor": "PRT panel clerk",
        "due_by": "2026-01-12",
    }
    added = api.client.post(f"{CASES}/{case['id']}/actions", headers=headers, json=action)
    assert added.status_code == 201
    timeline = api.client.get(f"{CASES}/{case['id']}/timeline", headers=headers).json()
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    [recorded] = [e for e in timeline if e["detail"]["type"] == "action_recorded"]
    assert recorded["seq"] == added.json()["seq"]
    assert recorded["detail"] == {"type": "action_recorded", "action": action}


def test_list_filters_and_cursor_pagination(api: Api) -> None:
    headers = api.token()
    ids = []
    for serial in range(1, 6):
        child = register_child(api, headers, serial, school_urn=f"12045{serial % 2}")
        reason = "illness" if serial % 2 else "exclusion"
        ids.append(open_case(api, headers, child, reason=reason)["id"])
        api.store.clock.advance(minutes=1)  # type: ignore[attr-defined]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get(CASES, headers=headers, params=params).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(ids))  # newest first, each once

    illness = api.client.get(CASES, headers=headers, params={"reason": "illness"}).json()
    assert {i["reason"] for i in illness["items"]} == {"illness"} and len(illness["items"]) == 3
    school = api.client.get(CASES, headers=headers, params={"school_urn": "120450"}).json()
    assert len(school["items"]) == 2
    window = api.client.get(
        CASES,
        headers=headers,
        params={"opened_from": "2026-01-05T09:01:00Z", "opened_to": "2026-01-05T09:03:00Z"},
    ).json()
    assert [i["id"] for i in window["items"]] == [ids[2], ids[1]]


def test_errors_are_problem_json_naming_the_field(api: Api) -> None:
    headers = api.token()
    bad_upn = api.client.post(
        "/api/v1/children",
        headers=headers,
        json=child_json(1, identifiers={"upn": "A801200005001"}),
    )
    assert bad_upn.status_code == 422
    assert bad_upn.headers["content-type"].startswith("application/problem+json")
    assert bad_upn.json()["errors"] == [
        {
            "field": "identifiers.upn",
            "message": "the UPN check letter does not match",
            "source": "body",
        }
    ]

    child_id = register_child(api, headers)
    bad_reason = api.client.post(
        CASES,
        headers=headers,
        json={"child_id": child_id, "reason": "truancy", "source": "school", "summary": "s"},
    )
    assert bad_reason.status_code == 422
    assert [e["field"] for e in bad_reason.json()["errors"]] == ["reason"]

    unknown_child = api.client.post(
        CASES,
        headers=headers,
        json={"child_id": "nobody", "reason": "illness", "source": "school", "summary": "s"},
    )
    assert unknown_child.status_code == 422
    assert unknown_child.json()["errors"][0]["field"] == "child_id"

    malformed = api.client.post(
        CASES, headers={**headers, "content-type": "application/json"}, content=b"{not json"
    )
    assert malformed.status_code == 400
    assert malformed.json()["type"].endswith("/bad-request")

    missing = api.client.get(f"{CASES}/does-not-exist", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no case does-not-exist"
    bad_cursor = api.client.get(CASES, headers=headers, params={"cursor": "garbage"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"


def test_children_are_found_by_any_identifier_and_duplicates_refused(api: Api) -> None:
    headers = api.token()
    body = child_json(
        7, identifiers={"upn": child_json(7)["identifiers"]["upn"], "mosaic_person_id": "778"}
    )
    created = api.client.post("/api/v1/children", headers=headers, json=body).json()
    for query in ({"upn": body["identifiers"]["upn"]}, {"mosaic_person_id": "778"}):
        found = api.client.get("/api/v1/children", headers=headers, params=query)
        assert found.status_code == 200 and found.json()["id"] == created["id"]
    assert api.client.get(f"/api/v1/children/{created['id']}", headers=headers).json() == created

    again = api.client.post("/api/v1/children", headers=headers, json=body)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "identifiers.upn"

    neither = api.client.get("/api/v1/children", headers=headers)
    both = api.client.get("/api/v1/children", headers=headers, params={"upn": "x", "uln": "y"})
    assert neither.status_code == both.status_code == 422
    nobody = api.client.get("/api/v1/children", headers=headers, params={"uln": "1234567890"})
    assert nobody.status_code == 404 and "1234567890" not in nobody.text


def test_each_read_of_a_child_record_is_audited(api: Api) -> None:
    writer, reader = api.token("cases:write"), api.token("cases:read")
    child_id = register_child(api, writer)
    case = open_case(api, writer, child_id)
    api.client.get(f"/api/v1/children/{child_id}", headers=reader)
    api.client.get(f"{CASES}/{case['id']}", headers=reader)
    api.client.get(f"{CASES}/{case['id']}/timeline", headers=reader)
    api.client.get(CASES, headers=reader)
    with api.store.unit_of_work() as uow:
        rows = uow.audit.for_child(child_id)
    reads = [
        (r["client_name"], r["endpoint"], r["action"])
        for r in rows
        if r["client_name"] == "client-2"
    ]
    assert reads == [
        ("client-2", "GET /api/v1/children/{child_id}", "read"),
        ("client-2", "GET /api/v1/cases/{case_id}", "read"),
        ("client-2", "GET /api/v1/cases/{case_id}/timeline", "read"),
        ("client-2", "GET /api/v1/cases", "list"),
    ]
    with api.store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() == 5
        )
