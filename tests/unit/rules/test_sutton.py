"""The Sutton pack (mappings/policies/sutton.toml) against its seed, 004_a92c0651c0743a78.txt,
the SEND joint working protocol. It is not a Section 19 policy: it says the SEN Service in
Cognus coordinates for children with (or being assessed for) an EHC plan, and that health needs
are met by schools first, with exceptional support and medical funding confirmed by the CCG and
the responsible Local Authority officer. Everything else falls to that officer, saying so."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.attendance.thresholds import load_thresholds
from gateway.rules import RoutingFacts, concern_route, load_pack, route

PACK = load_pack("sutton")

# (the seed's own example, facts, lead team, panel, rule id)
ROWS: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    (
        "child with an EHC plan too ill to attend: SEN Service",
        {"reason": "illness", "ehcp": True, "linked_to_send": True},
        "SEN_SERVICE",
        None,
        "sutton.ehcp.sen_service",
    ),
    (
        "child with an EHC plan excluded from a special school: SEN Service",
        {"reason": "exclusion", "exclusion": "permanent", "ehcp": True, "special_school": True},
        "SEN_SERVICE",
        None,
        "sutton.ehcp.sen_service",
    ),
    (
        "looked-after child with an EHC plan: SEN Service",
        {"reason": "otherwise", "ehcp": True, "looked_after": True},
        "SEN_SERVICE",
        None,
        "sutton.ehcp.sen_service",
    ),
    (
        "decision to issue an EHC plan made: SEN Service",
        {"reason": "otherwise", "ehcp_draft": True},
        "SEN_SERVICE",
        None,
        "sutton.ehcp_draft.sen_service",
    ),
    (
        "health needs linked to SEN, no plan: SEN Service and the SEND Panel",
        {"reason": "illness", "linked_to_send": True},
        "SEN_SERVICE",
        "SEND_PANEL",
        "sutton.send_linked.sen_service",
    ),
    (
        "SEN without a plan, not attending: SEN Service and the SEND Panel",
        {"reason": "otherwise", "linked_to_send": True},
        "SEN_SERVICE",
        "SEND_PANEL",
        "sutton.send_linked.sen_service",
    ),
    (
        "medical needs at a mainstream school, no SEN: responsible LA officer",
        {"reason": "illness", "illness_days": 20},
        "LA_OFFICER",
        None,
        "sutton.illness.medical_needs",
    ),
    (
        "medical needs at a special school, no EHC plan: the protocol does not say",
        {"reason": "illness", "special_school": True},
        "LA_OFFICER",
        None,
        "sutton.default",
    ),
    (
        "permanent exclusion, no SEN: the protocol does not say",
        {"reason": "exclusion", "exclusion": "permanent"},
        "LA_OFFICER",
        None,
        "sutton.default",
    ),
    (
        "not on a school roll, no SEN: the protocol does not say",
        {"reason": "otherwise", "return_to_school_pathway": True},
        "LA_OFFICER",
        None,
        "sutton.default",
    ),
]


@pytest.mark.parametrize(
    "facts",
    [
        {"reason": "exclusion", "exclusion": "suspension"},
        {"reason": "otherwise"},
        {"reason": "illness", "special_school": True},
    ],
)
def test_where_the_protocol_is_silent_the_reason_says_so(facts: dict[str, Any]) -> None:
    decision = route(PACK, RoutingFacts(**facts))
    assert decision.rule_id == "sutton.default"
    assert "does not distinguish" in decision.reason


# A phrase from each route's cite, as it stands in the seed.
CITED = {
    "sutton.ehcp.sen_service": "change of educational establishment",
    "sutton.ehcp_draft.sen_service": "give them at least 15 days to provide their views",
    "sutton.send_linked.sen_service": "communicate that decision within 6 weeks",
    "sutton.illness.medical_needs": "In exceptional cases support can be made available",
    "sutton.default": "The responsible Local Authority officer will make the decision",
}


def test_teams_and_the_send_panel() -> None:
    assert set(PACK.teams) == {
        "SEN_SERVICE",
        "LA_OFFICER",
        "CCG",
        "CFCS",
        "COMMUNITY_PAEDIATRICS",
    }
    panel = PACK.panels["SEND_PANEL"]
    assert (panel.meets, panel.members) == ("as_needed", ["SEN_SERVICE"])


@pytest.mark.parametrize("concern", sorted(t.id for t in load_thresholds()))
def test_the_protocol_sets_no_attendance_thresholds(concern: str) -> None:
    assert PACK.thresholds == []
    assert concern_route(PACK, concern) is None


def test_send_panel_outcomes_and_their_statutory_clocks() -> None:
    assert [(o.id, o.status, o.follow_up_days) for o in PACK.outcomes] == [
        ("assessment_agreed", "agreed", 42),
        ("assessment_not_agreed", "not_agreed", 14),
        ("additional_support_contract", "not_agreed_at_this_time", 84),
        ("plan_to_be_issued", "agreed", 15),
        ("plan_not_required", "not_agreed", 14),
        ("plan_issued", "provision_arranged", 365),
    ]
    follow_ups = {o.id: o.follow_up for o in PACK.outcomes}
    assert follow_ups["assessment_not_agreed"] == follow_ups["plan_not_required"]
    assert follow_ups["assessment_not_agreed"] == "next_steps_meeting"
