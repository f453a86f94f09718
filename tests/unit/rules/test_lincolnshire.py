"""The Lincolnshire pack (mappings/policies/lincolnshire.toml) against its seed,
003_f2d02c83e1369368.txt: "Process step 3 - lead", "Section 19: by reason of exclusion",
"Possible outcomes" and "Attendance and definitions"."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.rules import concern_route, load_pack

PACK = load_pack("lincolnshire")

# (the seed's own example, facts, lead team, panel, rule id)
ROWS: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    (
        "long-term illness linked to SEND, with an EHC plan: SEND",
        {"reason": "illness", "ehcp": True, "linked_to_send": True},
        "SEND",
        "S19_PANEL",
        "lincs.illness.send_linked",
    ),
    (
        "illness with an EHC plan but not linked to SEND: PRT",
        {"reason": "illness", "ehcp": True},
        "PRT",
        "S19_PANEL",
        "lincs.illness.prt",
    ),
    (
        "illness without an EHC plan: PRT",
        {"reason": "illness", "illness_days": 20},
        "PRT",
        "S19_PANEL",
        "lincs.illness.prt",
    ),
    (
        "permanent exclusion from a special school, with an EHC plan: SEND",
        {"reason": "exclusion", "exclusion": "permanent", "ehcp": True, "special_school": True},
        "SEND",
        "S19_PANEL",
        "lincs.exclusion.special_school_ehcp",
    ),
    (
        "permanent exclusion from a mainstream school, with an EHC plan: PRT",
        {"reason": "exclusion", "exclusion": "permanent", "ehcp": True},
        "PRT",
        "S19_PANEL",
        "lincs.exclusion.prt",
    ),
    (
        "permanent exclusion from a mainstream school: PRT",
        {"reason": "exclusion", "exclusion": "permanent"},
        "PRT",
        "S19_PANEL",
        "lincs.exclusion.prt",
    ),
    (
        "suspension: the school's responsibility, PRT told",
        {"reason": "exclusion", "exclusion": "suspension"},
        "PRT",
        None,
        "lincs.exclusion.suspension",
    ),
    (
        "deleted from a school's roll with no destination (CME): EWE",
        {"reason": "otherwise", "off_roll": True, "ehcp": True},
        "EWE",
        None,
        "lincs.cme.ewe",
    ),
    (
        "otherwise, return-to-school pathway: EWE",
        {"reason": "otherwise", "return_to_school_pathway": True},
        "EWE",
        "S19_PANEL",
        "lincs.otherwise.ewe",
    ),
    (
        "otherwise, with an EHC plan: SEND",
        {"reason": "otherwise", "ehcp": True},
        "SEND",
        "S19_PANEL",
        "lincs.otherwise.send",
    ),
    (
        "otherwise: PRT",
        {"reason": "otherwise"},
        "PRT",
        "S19_PANEL",
        "lincs.otherwise.prt",
    ),
]


# A phrase from each route's cite, as it stands in the seed.
CITED = {
    "lincs.illness.send_linked": "linked to the child's SEND",
    "lincs.illness.prt": "Section 19: reason of illness",
    "lincs.exclusion.special_school_ehcp": "permanently excluded from a special school",
    "lincs.exclusion.suspension": "known as suspensions",
    "lincs.exclusion.prt": "exclusion - PRT",
    "lincs.cme.ewe": "We discharge this duty through our EWE team",
    "lincs.otherwise.ewe": "EWE team if return to school pathway",
    "lincs.otherwise.send": "otherwise - PRT, or SEND team if EHC plan",
    "lincs.otherwise.prt": "otherwise - PRT",
}


def test_the_panel_and_teams() -> None:
    assert set(PACK.teams) == {"PRT", "SEND", "EWE", "QE"}
    panel = PACK.panels["S19_PANEL"]
    assert (panel.meets, panel.members) == ("as_needed", ["PRT", "QE", "EWE", "SEND"])


def test_a_sickness_return_opens_an_illness_case_with_the_prt() -> None:
    rule = concern_route(PACK, "medical_threshold")
    assert rule is not None
    assert (rule.action, rule.reason_code, rule.lead, rule.panel) == (
        "open_case",
        "illness",
        "PRT",
        "S19_PANEL",
    )


def test_a_part_time_timetable_is_told_to_the_prt() -> None:
    rule = concern_route(PACK, "part_time_timetable")
    assert rule is not None
    assert (rule.action, rule.lead) == ("notify_lead", "PRT")


@pytest.mark.parametrize("concern", ["persistent_absence", "severe_absence", "repeat_suspension"])
def test_concerns_without_a_lincolnshire_action_are_only_shown(concern: str) -> None:
    assert concern_route(PACK, concern) is None


def test_outcomes_follow_process_steps_4_to_6() -> None:
    assert [(o.id, o.status, o.follow_up_days) for o in PACK.outcomes] == [
        ("agreed", "agreed", None),
        ("not_agreed_at_this_time", "not_agreed_at_this_time", 91),
        ("multi_agency_meeting", "multi_agency_meeting", None),
        ("not_agreed", "not_agreed", None),
    ]
