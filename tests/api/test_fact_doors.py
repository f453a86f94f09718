"""Every fact a pack's rules read can come through every door, and the same facts are judged
alike whichever door they came through (gateway/rules/facts.py).

For each pack and each of its routes, the facts that route asks for are sent twice: as a
Children's Services Portal notice, and as an officer would key them (the child's record, then
``POST /api/v1/cases`` with its ``circumstances``). Both cases must get the same decision.
Facts the portal cannot carry (an attendance concern, days off roll) go through the case API
alone and must reach their route.
"""

from __future__ import annotations

import itertools
import pathlib
from typing import Any

import pytest

from gateway.model.routing import Circumstances
from gateway.rules.facts import DOORS, facts_read, facts_table
from gateway.rules.pack import Conditions, Route, available_packs, load_pack
from gateway.security.clients import create_client
from mappings.portal import REASON_BY_TYPE
from tests.api.conftest import Api, Open
from tests.support import child_json, make_nhs_number, make_upn

PACKS = available_packs()
# Facts a portal notice cannot carry: an attendance concern (the feeds' door) and being off roll
# (the admission-register returns' door, compared below).
PORTAL_CANNOT_SAY = {"concern", "off_roll"}


def witness(when: Conditions) -> dict[str, Any]:
    """Facts that satisfy ``when`` (the route may still lose to an earlier one: both doors
    must then lose to the same one)."""
    facts: dict[str, Any] = {
        name: getattr(when, name)
        for name in when.__struct_fields__
        if getattr(when, name) is not None
    }
    if "illness_days_at_least" in facts:
        facts["illness_days"] = facts.pop("illness_days_at_least")
    if "school_days_off_roll_at_least" in facts:
        facts["school_days_off_roll"] = facts.pop("school_days_off_roll_at_least")
    facts.pop("source", None)
    if "reason" not in facts:
        if "exclusion" in facts:
            facts["reason"] = "exclusion"
        elif "notification" in facts:
            facts["reason"] = REASON_BY_TYPE[facts["notification"]]
        else:
            facts["reason"] = "otherwise"
    if facts["reason"] == "exclusion":
        facts.setdefault("exclusion", "permanent")
    if facts.get("notification") == "ehcp_unable_to_attend" and not facts.get("ehcp_draft"):
        facts["ehcp"] = True  # the portal's contract: only for a child with a plan
    return facts


def portal_type(facts: dict[str, Any]) -> str:
    if "notification" in facts:
        return str(facts["notification"])
    if facts["reason"] == "illness":
        return "illness"
    if facts["reason"] == "exclusion":
        return "suspension" if facts["exclusion"] == "suspension" else "permanent_exclusion"
    return "irregular_attendance"


def portal_notice(facts: dict[str, Any], serial: int) -> dict[str, Any]:
    kind = portal_type(facts)
    notice: dict[str, Any] = {
        "notification_id": f"CSP-DOORS-{serial}",
        "type": kind,
        "submitted_at": "2026-01-05T08:00:00Z",
        "school": {"urn": "120456", "name": "Doors Academy"},
        "child": {
            "upn": make_upn(serial),
            "nhs_number": make_nhs_number(serial),
            "given_name": "Door",
            "family_name": "Test",
            "date_of_birth": "2014-03-09",
            "home_la": "925",
        },
        "ehcp": {
            "status": "issued" if facts.get("ehcp") else "assessing",
            "linked_to_needs": bool(facts.get("linked_to_send")),
            "decision_to_issue_draft": bool(facts.get("ehcp_draft")),
        },
        "special_school": bool(facts.get("special_school")),
        "looked_after": bool(facts.get("looked_after")),
        "open_to_social_care": bool(facts.get("open_to_social_care")),
        "return_to_school_pathway": bool(facts.get("return_to_school_pathway")),
        "summary": "Facts through the portal door.",
    }
    if kind in ("illness", "ehcp_unable_to_attend") and facts["reason"] == "illness":
        notice["illness"] = {
            "days_absent": facts.get("illness_days", 5),
            "consecutive": facts.get("illness_consecutive", True),
            "medical_evidence": True,
            "individual_health_care_plan": False,
        }
    if kind in ("suspension", "permanent_exclusion"):
        notice["exclusion"] = {"issued_at": "2026-01-02T10:00:00Z", "first_day": "2026-01-05"}
        if kind == "suspension":
            notice["exclusion"]["days"] = 3
    if kind == "section19_request":
        notice["section19_request"] = {
            "requester": "professional",
            "requester_role": "school nurse",
            "summary": "Asks for support.",
            "reason": facts["reason"],
        }
    if kind == "continuous_absence":
        notice["continuous_absence"] = {"days": 10, "last_attended": "2025-12-01"}
    if kind == "part_time_timetable":
        notice["part_time_timetable"] = {"hours_per_week": 10, "started_on": "2025-12-01"}
    return notice


def api_case(api: Api, facts: dict[str, Any], portal_kind: str | None, serial: int) -> Any:
    """The same facts keyed by an officer: the child's record, then the case."""
    headers = api.token()
    ehcp_status = "issued" if facts.get("ehcp") else "assessing"
    child = api.client.post(
        "/api/v1/children",
        headers=headers,
        json=child_json(
            serial, ehcp_status=ehcp_status, looked_after=bool(facts.get("looked_after"))
        ),
    )
    assert child.status_code == 201, child.text
    illness = facts["reason"] == "illness"
    circumstances = {
        "linked_to_send": bool(facts.get("linked_to_send")),
        "special_school": bool(facts.get("special_school")),
        "return_to_school_pathway": bool(facts.get("return_to_school_pathway")),
        "open_to_social_care": bool(facts.get("open_to_social_care")),
        "ehcp_draft_decision": bool(facts.get("ehcp_draft")),
        "exclusion": facts.get("exclusion"),
        "illness_days": facts.get("illness_days", 5) if illness else None,
        "illness_consecutive": facts.get("illness_consecutive", True) if illness else None,
        "notification": portal_kind,
        "concern": facts.get("concern"),
        "off_roll": bool(facts.get("off_roll")),
        "school_days_off_roll": facts.get("school_days_off_roll"),
    }
    body = {
        "child_id": child.json()["id"],
        "reason": facts["reason"],
        "source": "la_officer",
        "summary": "Facts keyed by an officer.",
        "circumstances": circumstances,
    }
    answer = api.client.post("/api/v1/cases", headers=headers, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["routing"]


def _routes(policy: str) -> list[Route]:
    return load_pack(policy).routes


@pytest.mark.parametrize("policy", PACKS)
def test_each_route_is_decided_alike_through_the_portal_and_the_case_api(
    authority: Open, policy: str
) -> None:
    api: Api = authority(policy)
    portal = api.token("portal:write")
    serials = itertools.count(100)
    checked = 0
    for rule in _routes(policy):
        facts = witness(rule.when)
        if PORTAL_CANNOT_SAY & facts.keys():
            continue
        serial = next(serials)
        notice = portal_notice(facts, serial)
        sent = api.client.post("/api/v1/portal/notifications", headers=portal, json=notice)
        assert sent.status_code == 201, (rule.id, sent.text)
        through_portal = sent.json()["routing"]
        through_api = api_case(api, facts, notice["type"], serial + 400)
        keys = ("rule_id", "lead_team", "panel")
        assert {k: through_api[k] for k in keys} == {k: through_portal[k] for k in keys}, rule.id
        checked += 1
    portal_cannot = [r for r in _routes(policy) if PORTAL_CANNOT_SAY & witness(r.when).keys()]
    assert checked == len(_routes(policy)) - len(portal_cannot)
    assert checked >= 4


@pytest.mark.parametrize("policy", PACKS)
def test_facts_only_the_case_api_can_say_reach_their_routes(authority: Open, policy: str) -> None:
    api: Api = authority(policy)
    serials = itertools.count(100)
    for rule in _routes(policy):
        facts = witness(rule.when)
        if not PORTAL_CANNOT_SAY & facts.keys():
            continue
        routing = api_case(api, facts, facts.get("notification"), next(serials))
        assert routing["rule_id"] == rule.id


def test_a_decision_to_issue_a_draft_plan_can_be_keyed_by_an_officer(authority: Open) -> None:
    """000 s.5: "or when the decision to issue a draft EHCP has been made": before any draft
    exists the child's record says only that an assessment is under way."""
    api: Api = authority("worcestershire")
    routing = api_case(api, {"reason": "otherwise", "ehcp_draft": True}, None, 100)
    assert routing["rule_id"] == "worcs.ehcp_draft.send"
    without = api_case(api, {"reason": "otherwise"}, None, 101)
    assert without["rule_id"] == "worcs.ccas.review"


@pytest.mark.parametrize(
    ("circumstances", "field"),
    [
        ({"concern": "not_a_threshold"}, "circumstances.concern"),
        ({"notification": "ehcp_unable_to_attend"}, "circumstances.notification"),
    ],
)
def test_what_the_portal_refuses_the_case_api_refuses(
    api: Api, circumstances: dict[str, Any], field: str
) -> None:
    headers = api.token()
    child = api.client.post("/api/v1/children", headers=headers, json=child_json(3)).json()
    body = {
        "child_id": child["id"],
        "reason": "otherwise",
        "source": "la_officer",
        "summary": "s",
        "circumstances": circumstances,
    }
    answer = api.client.post("/api/v1/cases", headers=headers, json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_every_fact_the_packs_read_has_a_way_in_through_the_case_api() -> None:
    read = {fact for policy in PACKS for fact in facts_read(load_pack(policy))}
    assert read, "the packs read no facts at all"
    assert read <= DOORS.keys(), f"facts with no door: {sorted(read - DOORS.keys())}"
    circumstances = set(Circumstances.__struct_fields__)
    for fact in read:
        door = DOORS[fact].api
        named = door.split("`")[1::2]
        assert any(
            name.removeprefix("circumstances.") in circumstances
            or name in ("reason", "source")
            or "children" in door
            for name in named
        ), (fact, door)


def test_the_published_list_of_facts_is_the_one_the_packs_read() -> None:
    published = pathlib.Path(__file__).parents[2] / "docs" / "routing-facts.md"
    expected = facts_table([load_pack(policy) for policy in PACKS])
    assert published.read_text("utf-8") == expected, (
        "run: gateway policy facts --out docs/routing-facts.md"
    )


def test_a_fact_read_by_a_route_is_listed_with_the_rule_that_reads_it() -> None:
    read = facts_read(load_pack("essex"))
    assert read["illness_days"] == ["essex.illness.medical_referral"]
    assert read["linked_to_send"] == ["essex.illness.send_linked"]
    assert read["reason"][:2] == ["essex.ehcp.send_ops", "essex.illness.send_linked"]


@pytest.mark.parametrize("policy", PACKS)
def test_a_child_off_roll_is_routed_alike_from_a_deletion_return_and_the_case_api(
    authority: Open, policy: str
) -> None:
    """The admission-register door (a deletion with no destination) and an officer saying
    the child is off roll, on the day of the deletion, reach the same route."""
    api: Api = authority(policy)
    _, token = create_client(api.store, "mis", ["attendance:write"], schools=["120456"])
    deletion = {
        "school_urn": "120456",
        "pupil": {"upn": make_upn(90)},
        "ground": "moved_away",
        "deleted_on": "2026-01-05",
    }
    answer = api.client.post(
        "/api/v1/roll/deletions", headers={"Authorization": f"Bearer {token}"}, json=[deletion]
    )
    assert answer.status_code == 201, answer.text
    case_id = answer.json()["outcomes"][0]["enquiry_case_id"]
    through_roll = api.client.get(f"/api/v1/cases/{case_id}", headers=api.token()).json()
    facts = {"reason": "otherwise", "off_roll": True, "school_days_off_roll": 0}
    through_api = api_case(api, facts, None, 91)
    assert through_api["rule_id"] == through_roll["routing"]["rule_id"]
