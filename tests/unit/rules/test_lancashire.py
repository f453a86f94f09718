"""The Lancashire pack (mappings/policies/lancashire.toml) against its seed,
001_639b4268f91a7abb.txt: the CME, PME and exclusion pathways, their thresholds (below 90 %,
below 75 % in a term or 80 % with an EHCP, the second suspension) and escalations (3 working
days, 6 weeks, 12 weeks)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.attendance.thresholds import load_thresholds
from gateway.rules import RoutingFacts, concern_route, load_pack, route

PACK = load_pack("lancashire")

# (the seed's own example, facts, lead team, panel, rule id)
ROWS: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    (
        "permanent exclusion: request for support through CSSH/MASH to CFW",
        {"reason": "exclusion", "exclusion": "permanent"},
        "CFW",
        None,
        "lancs.exclusion.permanent",
    ),
    (
        "permanent exclusion with an EHCP: the policy does not distinguish",
        {"reason": "exclusion", "exclusion": "permanent", "ehcp": True, "special_school": True},
        "CFW",
        None,
        "lancs.exclusion.permanent",
    ),
    (
        "a suspension: school's policy, CFW advice",
        {"reason": "exclusion", "exclusion": "suspension"},
        "CFW",
        None,
        "lancs.exclusion.suspension",
    ),
    (
        "repeat suspensions: Early Help Assessment, then CFW",
        {"reason": "exclusion", "exclusion": "suspension", "concern": "repeat_suspension"},
        "CFW",
        None,
        "lancs.exclusion.suspension",
    ),
    (
        "not on a school roll (CME): the CME officer, not yet the panel",
        {"reason": "otherwise", "off_roll": True, "school_days_off_roll": 0},
        "CME",
        None,
        "lancs.cme",
    ),
    (
        "off roll 59 school days: still the CME officer's",
        {"reason": "otherwise", "off_roll": True, "school_days_off_roll": 59},
        "CME",
        None,
        "lancs.cme",
    ),
    (
        "off roll 60 school days: a persistent CME, nominated to the half-termly CME panel",
        {"reason": "otherwise", "off_roll": True, "school_days_off_roll": 60},
        "CME",
        "CME_PANEL",
        "lancs.cme.persistent",
    ),
    (
        "off roll 61 school days, open to social care: still the panel",
        {
            "reason": "otherwise",
            "off_roll": True,
            "school_days_off_roll": 61,
            "open_to_social_care": True,
        },
        "CME",
        "CME_PANEL",
        "lancs.cme.persistent",
    ),
    (
        "CME with an EHCP: the policy does not distinguish",
        {"reason": "otherwise", "off_roll": True, "ehcp": True},
        "CME",
        None,
        "lancs.cme",
    ),
    (
        "CME already open to Children's Social Care: the allocated worker",
        {"reason": "otherwise", "off_roll": True, "open_to_social_care": True},
        "CME",
        None,
        "lancs.cme.open_to_social_care",
    ),
    (
        "on roll on a return-to-school pathway: PME, not CME",
        {"reason": "otherwise", "return_to_school_pathway": True},
        "CSSH_MASH",
        None,
        "lancs.pme",
    ),
    (
        "PME below 75 % in a term: intensive support through CSSH/MASH to CFW",
        {"reason": "otherwise", "concern": "intensive_support"},
        "CFW",
        None,
        "lancs.pme.intensive_support",
    ),
    (
        "PME with an EHCP below 80 % in a term: intensive support",
        {"reason": "otherwise", "concern": "intensive_support", "ehcp": True},
        "CFW",
        None,
        "lancs.pme.intensive_support",
    ),
    (
        "PME persistently absent: school procedures, then MASH Education Officers",
        {"reason": "otherwise", "concern": "persistent_absence"},
        "CSSH_MASH",
        None,
        "lancs.pme",
    ),
    (
        "illness: the policy does not cover it",
        {"reason": "illness", "illness_days": 20},
        "CSSH_MASH",
        None,
        "lancs.default",
    ),
    (
        "exclusion of an unknown kind: the policy does not distinguish",
        {"reason": "exclusion"},
        "CSSH_MASH",
        None,
        "lancs.default",
    ),
]


def test_cautions_carry_the_policys_preconditions() -> None:
    permanent = route(PACK, RoutingFacts(reason="exclusion", exclusion="permanent"))
    assert permanent.caution is not None
    assert "Early Help Assessment must be completed before" in permanent.caution
    intensive = route(PACK, RoutingFacts(reason="otherwise", concern="intensive_support"))
    assert intensive.caution is not None
    assert "consent of the family" in intensive.caution


def test_where_the_policy_is_silent_the_reason_says_so() -> None:
    decision = route(PACK, RoutingFacts(reason="illness"))
    assert "does not distinguish" in decision.reason


# A phrase from each route's cite, as it stands in the seed.
CITED = {
    "lancs.exclusion.permanent": "When a child is excluded on a permanent basis",
    "lancs.exclusion.suspension": "repeat being after the second exclusion has occurred",
    "lancs.cme.open_to_social_care": "discussed with their allocated worker within 3 working days",
    "lancs.cme": "must be made without delay",
    "lancs.cme.persistent": "off roll for the equivalent of 60 school days",
    "lancs.pme.intensive_support": "This threshold should be 80% if a child has an EHCP",
    "lancs.pme": "advice should be sought through the school advice line/MASH Education Officers",
    "lancs.default": "the Children's Services Support hub",
}


def test_teams_and_the_half_termly_cme_panel() -> None:
    assert set(PACK.teams) == {"CME", "CFW", "CSSH_MASH", "CSC"}
    panel = PACK.panels["CME_PANEL"]
    assert (panel.meets, panel.members, panel.review_every_weeks) == ("half_termly", ["CME"], None)


def test_the_thresholds_are_the_policys_figures() -> None:
    assert PACK.thresholds == ["persistent_absence", "intensive_support", "repeat_suspension"]
    figures = {t.id: t for t in load_thresholds()}
    assert figures["persistent_absence"].value == 0.90
    assert (figures["intensive_support"].value, figures["intensive_support"].value_with_ehcp) == (
        0.75,
        0.80,
    )
    assert figures["repeat_suspension"].value == 2


def test_intensive_support_is_told_to_cfw() -> None:
    rule = concern_route(PACK, "intensive_support")
    assert rule is not None
    assert (rule.action, rule.lead) == ("notify_lead", "CFW")


@pytest.mark.parametrize("concern", ["persistent_absence", "repeat_suspension"])
def test_the_schools_own_first_steps_are_recorded(concern: str) -> None:
    rule = concern_route(PACK, concern)
    assert rule is not None
    assert (rule.action, rule.lead) == ("record_only", None)


@pytest.mark.parametrize("concern", ["medical_threshold", "severe_absence", "part_time_timetable"])
def test_concerns_the_policy_does_not_name_are_only_shown(concern: str) -> None:
    assert concern_route(PACK, concern) is None


def test_cme_panel_outcomes_and_the_6_week_follow_up() -> None:
    assert [(o.id, o.status, o.follow_up_days) for o in PACK.outcomes] == [
        ("plan_agreed", "agreed", 42),
        ("open_to_cfw_or_csc", "multi_agency_meeting", 5),
        ("strategy_discussion", "multi_agency_meeting", None),
        ("no_intervention", "not_agreed", None),
    ]
    outcomes = {o.id: o for o in PACK.outcomes}
    assert outcomes["open_to_cfw_or_csc"].follow_up == "allocated_worker_within_3_working_days"
