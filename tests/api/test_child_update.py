"""PATCH /api/v1/children/{id}: what is learnt about a child after the first sighting. An
identifier is added, never replaced; another child's identifier is a conflict, not a merge;
every change is audited; an NHS number sends the health advice held for want of one."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.test_advice_api import nhs_messages, share, sutton  # noqa: F401 - fixture
from tests.support import child_json, make_nhs_number, make_upn

CHILDREN = "/api/v1/children"


def register(api: Api, headers: dict[str, str], serial: int, **ids: str) -> dict[str, Any]:
    body = child_json(serial, identifiers=ids or {"upn": make_upn(serial)})
    answer = api.client.post(CHILDREN, headers=headers, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_details_learnt_later_are_added_and_audited(api: Api) -> None:
    officer, admin = api.token("cases:write", "cases:read"), api.token("admin")
    child = register(api, officer, 1)
    assert child["identifiers"] == {"upn": make_upn(1)}
    answer = api.client.patch(
        f"{CHILDREN}/{child['id']}",
        headers=officer,
        json={
            "identifiers": {"nhs_number": make_nhs_number(1)},
            "date_of_birth": "2014-05-02",
            "looked_after": True,
        },
    )
    assert answer.status_code == 200, answer.text
    updated = answer.json()
    assert updated["identifiers"] == {"upn": make_upn(1), "nhs_number": make_nhs_number(1)}
    assert (updated["date_of_birth"], updated["looked_after"]) == ("2014-05-02", True)
    assert updated["name"] == child["name"]  # not given: unchanged
    read = api.client.get(f"{CHILDREN}/{child['id']}", headers=officer).json()
    assert read["identifiers"]["nhs_number"] == make_nhs_number(1)
    audit = api.client.get(
        "/api/v1/admin/audit", headers=admin, params={"child_id": child["id"]}
    ).json()
    changes = [e for e in audit["entries"] if e["action"] == "update"]
    assert [(e["purpose"], e["client_name"]) for e in changes] == [("child record", "client-1")]


def test_an_identifier_is_never_replaced_nor_taken_from_another_child(api: Api) -> None:
    officer = api.token("cases:write")
    first = register(api, officer, 2, upn=make_upn(2), nhs_number=make_nhs_number(2))
    second = register(api, officer, 3)
    replaced = api.client.patch(
        f"{CHILDREN}/{first['id']}", headers=officer, json={"identifiers": {"upn": make_upn(4)}}
    )
    assert replaced.status_code == 409
    assert replaced.json()["errors"][0]["field"] == "identifiers.upn"
    assert make_upn(4) not in replaced.text and make_upn(2) not in replaced.text
    taken = api.client.patch(
        f"{CHILDREN}/{second['id']}",
        headers=officer,
        json={"identifiers": {"nhs_number": make_nhs_number(2)}},
    )
    assert taken.status_code == 409
    assert make_nhs_number(2) not in taken.text
    mosaic = api.client.patch(
        f"{CHILDREN}/{second['id']}",
        headers=officer,
        json={"identifiers": {"mosaic_person_id": "700001"}},
    )
    assert mosaic.status_code in (400, 422)
    assert mosaic.json()["errors"][0]["field"] == "identifiers.mosaic_person_id"
    unchanged = api.client.get(f"{CHILDREN}/{second['id']}", headers=api.token("cases:read"))
    assert unchanged.json()["identifiers"] == {"upn": make_upn(3)}
    missing = api.client.patch(f"{CHILDREN}/nope", headers=officer, json={"looked_after": True})
    assert missing.status_code == 404
    readers = api.client.patch(
        f"{CHILDREN}/{second['id']}", headers=api.token("cases:read"), json={}
    )
    assert readers.status_code == 403


def test_an_nhs_number_sends_the_health_advice_held_for_want_of_one(sutton: Api) -> None:  # noqa: F811
    officer = sutton.token("cases:write", "cases:read")
    child = register(sutton, officer, 5)
    share(sutton, officer, child["id"])
    body = {"child_id": child["id"], "reason": "otherwise", "source": "school", "summary": "s"}
    case = sutton.client.post("/api/v1/cases", headers=officer, json=body).json()
    started = sutton.client.post("/api/v1/ehcna", headers=officer, json={"case_id": case["id"]})
    health = next(r for r in started.json()["requests"] if r["adviser"] == "health")
    assert health["status"] == "held"
    assert "NHS number" in health["held_reason"]
    assert "advice.health_requested" not in nhs_messages(sutton)
    sutton.client.patch(
        f"{CHILDREN}/{child['id']}",
        headers=officer,
        json={"identifiers": {"nhs_number": make_nhs_number(5)}},
    )
    requests = sutton.client.get(
        f"/api/v1/cases/{case['id']}/advice-requests", headers=officer
    ).json()
    released = next(r for r in requests if r["adviser"] == "health")
    assert (released["status"], released["held_reason"]) == ("requested", None)
    assert nhs_messages(sutton).count("advice.health_requested") == 1
