"""The Essex pack (mappings/policies/essex.toml) against its seed, 002_4608ccdc3a5ad509.txt,
Education Access medical needs: 15 school days' illness (consecutive or cumulative, hospital
included), the weekly Case Advice Panel, approved providers only (never a referral direct to a
provider), six-weekly reviews; pupils with an EHCP go the SEND Operations Team route."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.rules import RoutingFacts, concern_route, load_pack, route
from tests.unit.rules import normalise, seed_text

PACK = load_pack("essex")

# (the seed's own example, facts, lead team, panel, rule id)
ROWS: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    (
        "15 school days of medical absence: Education Access, Case Advice Panel",
        {"reason": "illness", "illness_days": 15},
        "EDUCATION_ACCESS",
        "CAP",
        "essex.illness.medical_referral",
    ),
    (
        "hospital admission totalling 20 school days: Education Access, Case Advice Panel",
        {"reason": "illness", "illness_days": 20, "notification": "illness"},
        "EDUCATION_ACCESS",
        "CAP",
        "essex.illness.medical_referral",
    ),
    (
        "14 days of medical absence: below the referral threshold",
        {"reason": "illness", "illness_days": 14.5},
        "EDUCATION_ACCESS",
        None,
        "essex.illness.education_access",
    ),
    (
        "medical absence, days not yet known",
        {"reason": "illness"},
        "EDUCATION_ACCESS",
        None,
        "essex.illness.education_access",
    ),
    (
        "pupil with an EHCP, support requested on medical grounds: SEND Operations",
        {"reason": "illness", "ehcp": True, "illness_days": 30},
        "SEND_OPS",
        None,
        "essex.ehcp.send_ops",
    ),
    (
        "pupil with an EHCP, not on medical grounds: Education Access (002 s.4 is medical)",
        {"reason": "otherwise", "ehcp": True},
        "EDUCATION_ACCESS",
        None,
        "essex.otherwise.education_access",
    ),
    (
        "pupil with SEND, no EHCP, medical grounds: SEND Operations first",
        {"reason": "illness", "linked_to_send": True, "illness_days": 20},
        "SEND_OPS",
        None,
        "essex.illness.send_linked",
    ),
    (
        "the 'otherwise' criteria: Education Access, individual basis",
        {"reason": "otherwise"},
        "EDUCATION_ACCESS",
        None,
        "essex.otherwise.education_access",
    ),
    (
        "permanent exclusion: the policy does not cover it",
        {"reason": "exclusion", "exclusion": "permanent"},
        "EDUCATION_ACCESS",
        None,
        "essex.default",
    ),
]


@pytest.mark.parametrize("illness_days", [None, 3, 15, 40])
def test_a_medical_case_warns_never_to_refer_directly_to_a_provider(
    illness_days: float | None,
) -> None:
    decision = route(PACK, RoutingFacts(reason="illness", illness_days=illness_days))
    assert decision.lead_team == "EDUCATION_ACCESS"
    assert decision.caution is not None
    assert "Never refer directly to a provider" in decision.caution
    assert "Referrals must not be made directly to a provider" in decision.caution


@pytest.mark.seeds
def test_the_medical_caution_quotes_the_seed() -> None:
    assert normalise("Referrals must not be made directly to a provider") in seed_text(
        PACK.authority.seed
    )


def test_where_the_policy_is_silent_the_reason_says_so() -> None:
    decision = route(PACK, RoutingFacts(reason="exclusion", exclusion="suspension"))
    assert "does not distinguish" in decision.reason


# A phrase from each route's cite, as it stands in the seed.
CITED = {
    "essex.ehcp.send_ops": "to determine the most appropriate route to follow",
    "essex.illness.send_linked": "requested on medical grounds for a pupil with SEND",
    "essex.illness.medical_referral": "15 days or more, whether consecutive or cumulative",
    "essex.illness.education_access": "Assess all referrals to the service",
    "essex.otherwise.education_access": "determine on an individual basis",
    "essex.default": "Education Access will consider the case via a referral",
}


def test_teams_and_the_weekly_case_advice_panel() -> None:
    assert set(PACK.teams) == {"EDUCATION_ACCESS", "SEND_OPS"}
    panel = PACK.panels["CAP"]
    assert (panel.meets, panel.members) == ("weekly", ["EDUCATION_ACCESS"])


def test_15_days_of_illness_is_told_to_education_access() -> None:
    assert PACK.thresholds == ["medical_threshold"]
    rule = concern_route(PACK, "medical_threshold")
    assert rule is not None
    assert (rule.action, rule.lead) == ("notify_lead", "EDUCATION_ACCESS")


@pytest.mark.parametrize(
    "concern", ["persistent_absence", "intensive_support", "part_time_timetable"]
)
def test_concerns_the_policy_does_not_name_are_only_shown(concern: str) -> None:
    assert concern_route(PACK, concern) is None


def test_outcomes_and_the_six_weekly_review() -> None:
    assert [(o.id, o.status, o.follow_up_days) for o in PACK.outcomes] == [
        ("agreed", "agreed", None),
        ("not_agreed", "not_agreed", None),
        ("provision_arranged", "provision_arranged", 42),
        ("support_ended", "closed", None),
    ]
    outcomes = {o.id: o for o in PACK.outcomes}
    assert outcomes["provision_arranged"].follow_up == "six_weekly_review"
    assert "approved provider" in outcomes["agreed"].next_step
