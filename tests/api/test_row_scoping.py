"""Row-level scoping: a client bound to schools, NHS organisations or providers sees and
changes only the children in its reach; anything else answers exactly as a row that does not
exist (404), so no bound client learns what another school's children are known here."""

from __future__ import annotations

from typing import Any

from gateway.intake.feed_applier import apply_queued
from gateway.rules.pack import load_pack
from tests.api.conftest import Api, Open
from tests.api.test_advice_api import share
from tests.api.test_providers_api import agreed_case, commission, load_registers, provider_named
from tests.support import ManualClock, child_json

OURS, THEIRS = "120456", "120501"
CASE_WRITER = ("cases:read", "cases:write")
ACTION = {"kind": "home_visit", "description": "Called home", "actor": "Attendance officer"}


def child(api: Api, headers: dict[str, str], serial: int, school: str) -> dict[str, Any]:
    made = api.client.post(
        "/api/v1/children", headers=headers, json=child_json(serial, school_urn=school)
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def case_for(api: Api, headers: dict[str, str], child_id: str) -> dict[str, Any]:
    body = {"child_id": child_id, "reason": "illness", "source": "school", "summary": "Off sick"}
    made = api.client.post("/api/v1/cases", headers=headers, json=body)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def test_a_school_bound_client_reaches_its_own_children_only(api: Api) -> None:
    officer = api.token(*CASE_WRITER)  # the authority's own: unbound
    theirs = child(api, officer, 1, THEIRS)
    their_case = case_for(api, officer, theirs["id"])
    school = api.bound(*CASE_WRITER, schools=(OURS,))
    ours = child(api, school, 2, OURS)
    our_case = case_for(api, school, ours["id"])

    # Its own: as before.
    assert api.client.get(f"/api/v1/children/{ours['id']}", headers=school).json() == ours
    acted = api.client.post(
        f"/api/v1/cases/{our_case['id']}/actions",
        headers=school,
        json=ACTION,
    )
    assert acted.status_code == 201, acted.text

    # Another school's child and case: the same answer as for ids that were never issued.
    for path, missing in (
        (f"/api/v1/children/{theirs['id']}", "/api/v1/children/no-such-child"),
        (f"/api/v1/children/{theirs['id']}/timeline", "/api/v1/children/none/timeline"),
        (f"/api/v1/children/{theirs['id']}/attendance", "/api/v1/children/none/attendance"),
        (f"/api/v1/children/{theirs['id']}/sharing", "/api/v1/children/none/sharing"),
        (f"/api/v1/cases/{their_case['id']}", "/api/v1/cases/no-such-case"),
        (f"/api/v1/cases/{their_case['id']}/timeline", "/api/v1/cases/none/timeline"),
        (f"/api/v1/cases/{their_case['id']}/advice-requests", "/api/v1/cases/none/advice-requests"),
    ):
        hidden, absent = (api.client.get(p, headers=school) for p in (path, missing))
        assert (hidden.status_code, absent.status_code) == (404, 404), path
        assert hidden.json()["title"] == absent.json()["title"] == "Not found"
        assert "name" not in hidden.text and theirs["identifiers"]["upn"] not in hidden.text
    upn = theirs["identifiers"]["upn"]
    found = api.client.get("/api/v1/children", headers=school, params={"upn": upn})
    assert found.status_code == 404
    assert found.json()["detail"] == "no child with that upn"
    listed = api.client.get("/api/v1/cases", headers=school, params={"school_urn": THEIRS})
    assert listed.json()["items"] == []
    everything = api.client.get("/api/v1/cases", headers=school).json()["items"]
    assert [c["id"] for c in everything] == [our_case["id"]]
    assert {c["id"] for c in api.client.get("/api/v1/cases", headers=officer).json()["items"]} == {
        our_case["id"],
        their_case["id"],
    }

    # ...and nothing of theirs can be changed.
    patched = api.client.patch(
        f"/api/v1/children/{theirs['id']}", headers=school, json={"looked_after": True}
    )
    assert patched.status_code == 404
    acted = api.client.post(
        f"/api/v1/cases/{their_case['id']}/actions",
        headers=school,
        json=ACTION,
    )
    assert acted.status_code == 404
    moved = api.client.post(
        f"/api/v1/cases/{their_case['id']}/status",
        headers=school,
        json={"status": "closed", "reason": "x"},
    )
    assert moved.status_code == 404
    opened = api.client.post(
        "/api/v1/cases",
        headers=school,
        json={"child_id": theirs["id"], "reason": "illness", "source": "school", "summary": "s"},
    )
    assert opened.status_code == 422
    assert opened.json()["errors"][0]["field"] == "child_id"
    elsewhere = api.client.post(
        "/api/v1/children", headers=school, json=child_json(3, school_urn=THEIRS)
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["errors"][0]["field"] == "school_urn"
    away = api.client.patch(
        f"/api/v1/children/{ours['id']}", headers=school, json={"school_urn": THEIRS}
    )
    assert away.status_code == 403
    unchanged = api.client.get(f"/api/v1/children/{their_case['child_id']}", headers=officer)
    assert unchanged.json()["looked_after"] is not True

    # A child who moves on stays in reach of the school that raised a case for them.
    api.client.patch(f"/api/v1/children/{ours['id']}", headers=officer, json={"school_urn": THEIRS})
    assert api.client.get(f"/api/v1/children/{ours['id']}", headers=school).status_code == 200


def test_an_nhs_team_outside_the_facade_reaches_the_children_it_was_asked_about(
    authority: Open,
) -> None:
    sutton = authority("sutton")
    officer = sutton.token(*CASE_WRITER)
    asked = case_for(sutton, officer, child(sutton, officer, 1, OURS)["id"])
    other = case_for(sutton, officer, child(sutton, officer, 2, OURS)["id"])
    assert share(sutton, officer, asked["child_id"]).status_code == 200
    started = sutton.client.post("/api/v1/ehcna", headers=officer, json={"case_id": asked["id"]})
    assert started.status_code == 201, started.text
    # The other child's health request is held (no agreement to share): never sent to RVR.
    sutton.client.post("/api/v1/ehcna", headers=officer, json={"case_id": other["id"]})

    team = sutton.bound("cases:read", organisations=("RVR",))
    assert sutton.client.get(f"/api/v1/cases/{asked['id']}", headers=team).status_code == 200
    hidden = sutton.client.get(f"/api/v1/cases/{other['id']}", headers=team)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"no case {other['id']}"
    listed = sutton.client.get("/api/v1/cases", headers=team).json()["items"]
    assert [c["id"] for c in listed] == [asked["id"]]
    elsewhere = sutton.bound("cases:read", organisations=("RJ1",))
    assert sutton.client.get("/api/v1/cases", headers=elsewhere).json()["items"] == []


def test_a_provider_posts_returns_for_its_own_placements_only(api: Api) -> None:
    admin = api.token()
    load_registers(api, admin)
    case = agreed_case(api, admin, 3)
    tutor = provider_named(api, admin, "Estuary Tuition")  # UKPRN 10089991, no URN
    made = commission(api, admin, case["id"], tutor["id"])
    assert made.status_code == 201, made.text
    placement = made.json()
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(days=7)  # Monday 12 January, the placement's first day
    url = f"/api/v1/placements/{placement['id']}/attendance"
    day = {"date": "2026-01-12", "am": "present", "pm": "present"}

    provider = api.bound("attendance:write", providers=(tutor["ukprn"],))
    returned = api.client.post(url, headers=provider, json=day)
    assert returned.status_code == 202, returned.text
    [report] = returned.json()
    assert (report["school_urn"], report["records_accepted"]) == (placement["school_urn"], 1)
    apply_queued(api.store, load_pack("lincolnshire"))
    year = api.client.get(f"/api/v1/children/{case['child_id']}/attendance", headers=admin)
    assert year.json()["years"][0]["sessions_by_category"]["approved_education"] == 2

    another = api.bound("attendance:write", providers=("10089992",))
    refused = api.client.post(url, headers=another, json=day)
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"no placement {placement['id']}"
    school = api.mis(placement["school_urn"])
    not_theirs = api.client.post(url, headers=school, json=day)
    assert not_theirs.status_code == 403
    assert "provider's client" in not_theirs.json()["detail"]
    unbound = api.token("attendance:write")
    assert api.client.post(url, headers=unbound, json=day).status_code == 403
    assert api.client.post(url, headers=api.mis("999999"), json=day).status_code == 404


def test_an_unbound_client_cannot_write_a_school_register(api: Api) -> None:
    unbound = api.token("attendance:write")
    body = f'[{{"school_urn": "{OURS}", "upn": "{child_json(4)["identifiers"]["upn"]}", '
    body += '"date": "2026-01-05", "am": "/", "pm": "\\\\"}]'
    refused = api.client.post(
        "/api/v1/attendance/feeds",
        headers=unbound | {"Content-Type": "application/json"},
        params={"school_urn": OURS},
        content=body,
    )
    assert refused.status_code == 403
    assert "bound to no school" in refused.json()["detail"]
    deletion = {
        "school_urn": OURS,
        "pupil": {"upn": child_json(4)["identifiers"]["upn"]},
        "ground": "moved_away",
        "deleted_on": "2026-01-05",
    }
    roll = api.client.post("/api/v1/roll/deletions", headers=unbound, json=[deletion])
    assert roll.status_code == 403
    assert "bound to no school" in roll.json()["detail"]
    accepted = api.client.post(
        "/api/v1/attendance/feeds",
        headers=api.mis(OURS) | {"Content-Type": "application/json"},
        content=body,
    )
    assert accepted.status_code == 202, accepted.text


def test_an_admin_client_cannot_be_bound(api: Api) -> None:
    import pytest

    from gateway.errors import InvalidInput
    from gateway.security.clients import create_client

    for wide in ("admin", "portal:write"):
        with pytest.raises(InvalidInput, match=f"a client with {wide} cannot be bound"):
            create_client(api.store, f"school-{wide}", (wide,), schools=(OURS,))
    with pytest.raises(InvalidInput, match="neither a provider URN"):
        create_client(api.store, "bad-provider", ("attendance:write",), providers=("12",))


def test_a_client_bound_before_the_rule_with_an_authority_wide_scope_is_not_let_in(
    api: Api,
) -> None:
    from gateway.security.tokens import new_token, token_hash

    token = new_token()
    with api.store.unit_of_work() as uow:  # as an older version could have stored it
        uow.clients.add("old-school-admin", ("admin",), token_hash(token), uow.now, schools=[OURS])
    refused = api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json()["title"] == "Unauthenticated"


def test_a_school_a_child_joins_sees_the_child_not_the_cases_other_schools_raised(
    api: Api,
) -> None:
    officer = api.token(*CASE_WRITER)
    theirs = child(api, officer, 5, THEIRS)
    their_case = case_for(api, officer, theirs["id"])
    school = api.bound(*CASE_WRITER, schools=(OURS,))
    api.client.patch(f"/api/v1/children/{theirs['id']}", headers=officer, json={"school_urn": OURS})
    assert api.client.get(f"/api/v1/children/{theirs['id']}", headers=school).status_code == 200
    hidden = api.client.get(f"/api/v1/cases/{their_case['id']}", headers=school)
    assert hidden.status_code == 404
    assert api.client.get("/api/v1/cases", headers=school).json()["items"] == []
    # A row never issued and a row out of reach answer alike, whatever the body.
    for placement in ("no-such-placement",):
        ended = api.client.post(f"/api/v1/placements/{placement}/end", headers=school, json={})
        assert ended.status_code == 404
        assert ended.json()["detail"] == f"no placement {placement}"
