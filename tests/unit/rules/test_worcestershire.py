"""The Worcestershire pack (mappings/policies/worcestershire.toml) against its seed,
000_71f8eec88067f363.txt, the WCF CCAS process: Portal notifications are notifications, not
referrals; a child with an EHCP (or a decision to issue a draft) goes automatically to SEND;
the rest are reviewed and, where needed, go on the weekly CCAS Panel agenda; reviews at most
every 12 weeks."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.rules import RoutingFacts, concern_route, load_pack, route

PACK = load_pack("worcestershire")

# (the seed's own example, facts, lead team, panel, rule id)
ROWS: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    (
        "illness notification for a child with an EHCP: SEND",
        {"reason": "illness", "ehcp": True, "notification": "illness", "source": "portal"},
        "SEND",
        None,
        "worcs.ehcp.send",
    ),
    (
        "irregular attendance notification for a child with an EHCP: SEND",
        {"reason": "otherwise", "ehcp": True, "notification": "irregular_attendance"},
        "SEND",
        None,
        "worcs.ehcp.send",
    ),
    (
        "permanent exclusion of a child with an EHCP: SEND",
        {"reason": "exclusion", "exclusion": "permanent", "ehcp": True},
        "SEND",
        None,
        "worcs.ehcp.send",
    ),
    (
        "decision to issue a draft EHCP made: SEND",
        {"reason": "otherwise", "ehcp_draft": True, "notification": "continuous_absence"},
        "SEND",
        None,
        "worcs.ehcp_draft.send",
    ),
    (
        "Portal notification that a child with an EHCP cannot attend: SEND",
        {"reason": "otherwise", "notification": "ehcp_unable_to_attend"},
        "SEND",
        None,
        "worcs.notification.ehcp_unable_to_attend",
    ),
    (
        "irregular attendance notification from a school: reviewed by CCAS, not yet on the agenda",
        {"reason": "otherwise", "notification": "irregular_attendance", "source": "school"},
        "CCAS",
        None,
        "worcs.ccas.review",
    ),
    (
        "continuous absence notification: reviewed by CCAS",
        {"reason": "otherwise", "notification": "continuous_absence"},
        "CCAS",
        None,
        "worcs.ccas.review",
    ),
    (
        "illness, no EHCP: reviewed by CCAS (the panel replaces the Medical Education Team panel)",
        {"reason": "illness", "notification": "illness", "illness_days": 30},
        "CCAS",
        None,
        "worcs.ccas.review",
    ),
    (
        "permanent exclusion, no EHCP: reviewed by CCAS",
        {"reason": "exclusion", "exclusion": "permanent", "notification": "permanent_exclusion"},
        "CCAS",
        None,
        "worcs.ccas.review",
    ),
    (
        "a Section 19 request for support: on the CCAS Panel agenda",
        {"reason": "illness", "notification": "section19_request", "source": "portal"},
        "CCAS",
        "CCAS_PANEL",
        "worcs.request.panel",
    ),
    (
        "a request for support with an EHCP still goes to SEND",
        {"reason": "otherwise", "notification": "section19_request", "ehcp": True},
        "SEND",
        None,
        "worcs.ehcp.send",
    ),
    (
        "a professional's email to the CCAS inbox, keyed by an officer: reviewed by CCAS",
        {"reason": "otherwise", "source": "health", "linked_to_send": True},
        "CCAS",
        None,
        "worcs.ccas.review",
    ),
]


def test_send_cases_say_updates_go_to_send_not_the_ccas_inbox() -> None:
    for rule in PACK.routes:
        if rule.lead == "SEND":
            assert rule.caution is not None
            assert "contact SEND directly rather than the CCAS email" in rule.caution
    decision = route(PACK, RoutingFacts(reason="illness", ehcp=True))
    assert decision.caution is not None


def test_notifications_are_not_treated_as_referrals() -> None:
    decision = route(PACK, RoutingFacts(reason="otherwise"))
    assert "not a referral" in decision.reason
    assert decision.caution is None


# A phrase from each route's cite, as it stands in the seed.
CITED = {
    "worcs.ehcp.send": "will be automatically sent onto SEND services",
    "worcs.ehcp_draft.send": "or when the decision to issue a draft EHCP has been made",
    "worcs.notification.ehcp_unable_to_attend": "notifications should still be sent in via the",
    "worcs.request.panel": "Requests for support should be accompanied by an",
    "worcs.ccas.review": "Any notifications which require CCAS Panel consideration will be raised",
}


def test_the_ccas_panel_meets_weekly_and_reviews_within_12_weeks() -> None:
    assert set(PACK.teams) == {"CCAS", "SEND"}
    panel = PACK.panels["CCAS_PANEL"]
    assert (panel.meets, panel.weekday, panel.review_every_weeks) == ("weekly", None, 12)
    assert panel.members == ["CCAS"]
    # Officers raise a reviewed notification on the agenda (000 s.5).
    assert panel.nominations is not None
    assert "will be raised on the agenda at CCAS Panel" in panel.nominations


@pytest.mark.parametrize("concern", ["continuous_unexplained_absence", "persistent_absence"])
def test_attendance_concerns_are_reviewed_not_opened_as_referrals(concern: str) -> None:
    rule = concern_route(PACK, concern)
    assert rule is not None
    assert (rule.action, rule.lead, rule.reason_code) == ("notify_lead", "CCAS", None)


@pytest.mark.parametrize(
    "concern", ["medical_threshold", "part_time_timetable", "severe_absence", "intensive_support"]
)
def test_concerns_the_policy_does_not_name_are_only_shown(concern: str) -> None:
    assert concern_route(PACK, concern) is None


def test_outcomes_and_the_12_week_review() -> None:
    assert [(o.id, o.status, o.follow_up_days) for o in PACK.outcomes] == [
        ("agreed", "agreed", 84),
        ("advice_and_guidance", "not_agreed_at_this_time", None),
        ("partners_invited", "multi_agency_meeting", None),
        ("criteria_not_met", "not_agreed", None),
        ("placement_reviewed", "provision_arranged", 84),
    ]
    reviews = {o.follow_up for o in PACK.outcomes if o.follow_up_days}
    assert reviews == {"ccas_panel_review"}
    assert PACK.panels["CCAS_PANEL"].review_every_weeks == 84 // 7
