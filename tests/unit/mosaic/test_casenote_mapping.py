"""Timeline entries as Mosaic casenotes (mappings/mosaic.py): every action and decision on the
child's Mosaic record (Lincolnshire 003_f2d02c83e1369368.txt, "Case recording"), saying who
decided, why, under which rule, and what happens next by when, in England's local time.

Payloads are built by the outbox itself (gateway/delivery/routes.py ``messages_for``) from real
Events and CaseSummaries, and read against the real Lincolnshire and Sutton packs."""

from __future__ import annotations

import copy
import datetime as dt
import pathlib
import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.delivery.routes import messages_for
from gateway.model.case import CaseSummary
from gateway.model.events import (
    Action,
    ActionRecorded,
    CaseOpened,
    ClockChanged,
    ConcernRaised,
    ConcernResolved,
    Decision,
    DecisionRecorded,
    Event,
    EventDetail,
    StatusChanged,
)
from gateway.model.routing import RoutingDecision
from gateway.rules.engine import RoutingFacts, route
from gateway.rules.pack import PolicyPack, load_pack
from gateway.sla import calendars
from mappings.mosaic import Casenote, UnmappableMessage, casenote_for
from tests.support import make_nhs_number, make_upn

LINCS = load_pack("lincolnshire")
SUTTON = load_pack("sutton")
AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)  # a Monday, GMT
LINCS_SEED = "003_f2d02c83e1369368.txt"
SUMMARY = "Off school since November with a long-term illness; the school cannot meet her needs."
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def a_case(pack: PolicyPack = LINCS, **overrides: Any) -> CaseSummary:
    routing = route(pack, RoutingFacts(reason="illness"))
    fields: dict[str, Any] = {
        "id": "case-7f3a",
        "child_id": "child-19c2",
        "reason": "illness",
        "source": "school",
        "status": "received",
        "lead_team": routing.lead_team,
        "school_urn": "120456",
        "summary": SUMMARY,
        "panel": routing.panel,
        "routing": routing,
        "received_at": AT,
        "opened_at": AT,
        "updated_at": AT,
    }
    fields.update(overrides)
    return CaseSummary(**fields)


def an_event(
    detail: EventDetail,
    *,
    at: dt.datetime = AT,
    why: str | None = None,
    case_id: str | None = "case-7f3a",
) -> Event:
    return Event(
        id="ev-0001",
        child_id="child-19c2",
        case_id=case_id,
        seq=3,
        at=at,
        actor="Priya Shah (PRT panel clerk)",
        summary="one-line summary the gateway wrote",
        why=why,
        detail=detail,
    )


def outbox_payload(event: Event, case: CaseSummary | None) -> dict[str, Any]:
    """Exactly what the outbox queues for Mosaic, after a trip through the JSON column."""
    (message,) = [m for m in messages_for(event, case) if m.destination == "mosaic"]
    return msgspec.json.decode(msgspec.json.encode(message.payload), type=dict[str, Any])


def note(
    detail: EventDetail,
    *,
    case: CaseSummary | None = None,
    pack: PolicyPack | None = LINCS,
    at: dt.datetime = AT,
    why: str | None = None,
    case_id: str | None = "case-7f3a",
) -> Casenote:
    payload = outbox_payload(an_event(detail, at=at, why=why, case_id=case_id), case)
    return casenote_for(payload, person_id="100234", source_reference="s19:ev-0001", pack=pack)


def lines(casenote: Casenote) -> list[str]:
    return casenote.body.split("\n")


def lincs_decision(outcome_id: str, pack: PolicyPack = LINCS) -> DecisionRecorded:
    """As gateway/cases/service.py ``decide`` records a panel's outcome."""
    outcome = next(o for o in pack.outcomes if o.id == outcome_id)
    return DecisionRecorded(
        decision=Decision(
            outcome=outcome.id,
            decided_by="Section 19 panel, chaired by the PRT manager",
            reason="The setting can meet her needs with a reduced timetable and home tuition",
            rule_id=outcome.id,
            policy_ref=f"{pack.authority.seed} {outcome.cite}",
        )
    )


def clock_change(change: str, due_at: dt.datetime, **overrides: Any) -> ClockChanged:
    fields: dict[str, Any] = {
        "clock_id": "clock-1",
        "kind": "lincs.s19.outcome",
        "label": "Section 19 panel outcome within 15 working days of the request",
        "change": change,
        "due_at": due_at,
        "agency": "local_authority",
        "owner_team": "PRT",
        "policy_ref": f"{LINCS_SEED} Timescales ('make and communicate the outcome decision')",
    }
    fields.update(overrides)
    return ClockChanged(**fields)


CONCERN_FIGURES: dict[str, float | int | str | None] = {
    "rule": "medical_threshold",
    "kind": "school_days",
    "figure": "illness_days",
    "comparison": ">=",
    "threshold": 15,
    "value": 16.5,
    "days": 16.5,
}

EVERY_KIND: list[tuple[EventDetail, str]] = [
    (CaseOpened(reason="illness", source="school", lead_team="PRT"), "EDUCATION_REFERRAL"),
    (StatusChanged(from_status="received", to_status="acknowledged"), "STATUS_CHANGE"),
    (
        ActionRecorded(
            action=Action(
                kind="acknowledgement_sent",
                description="Acknowledgement sent to the school",
                actor="PRT panel clerk",
            )
        ),
        "ACTION",
    ),
    (lincs_decision("agreed"), "PANEL_DECISION"),
    (
        ConcernRaised(
            concern_id="con-1",
            kind="medical_threshold",
            rule_id="medical_threshold",
            policy_ref="003_f2d02c83e1369368.txt Attendance and definitions",
            academic_year=2025,
            term="spring",
            figures=CONCERN_FIGURES,
        ),
        "ATTENDANCE_CONCERN",
    ),
    (
        ConcernResolved(concern_id="con-1", kind="medical_threshold", figures=CONCERN_FIGURES),
        "ATTENDANCE_CONCERN",
    ),
    (clock_change("started", calendars.due_at("working_days", AT, 15)), "STATUTORY_TIMESCALE"),
]


# --- each kind of entry ----------------------------------------------------------------------


@pytest.mark.parametrize(("detail", "casenote_type"), EVERY_KIND)
def test_each_kind_of_entry_becomes_its_casenote_type(
    detail: EventDetail, casenote_type: str
) -> None:
    casenote = note(detail, case=a_case())

    assert casenote.casenote_type == casenote_type
    assert casenote.person_id == "100234"
    assert casenote.source_system == "S19-GATEWAY"
    assert casenote.source_reference == "s19:ev-0001"
    assert casenote.event_date == AT
    assert casenote.author_worker == "Priya Shah (PRT panel clerk)"
    assert "When: Monday 5 January 2026, 09:00 GMT" in lines(casenote)
    assert "Case reference: case-7f3a" in lines(casenote)


def test_case_opened_note_names_the_lead_team_the_rule_and_the_referral_summary() -> None:
    casenote = note(CaseOpened(reason="illness", source="school", lead_team="PRT"), case=a_case())

    assert casenote.subject == "Section 19 request opened: illness — lead PRT"
    assert casenote.author_team == "PRT"
    body = lines(casenote)
    assert body[0] == (
        "What happened: Section 19 request received from a school, by reason of illness "
        "(Education Act 1996 s.19)."
    )
    assert "Lead team: PRT (Pupil Reintegration Team)" in body
    assert (
        "Policy: rule lincs.illness.prt — 003_f2d02c83e1369368.txt Process step 3 - lead; "
        "Section 19: reason of illness ('We discharge this duty via') the pupil reintegration "
        "team (PRT)"
    ) in body
    assert "Next step: Considered by the Section 19 panel (S19_PANEL)" in body
    assert "School: URN 120456" in body
    assert (
        "Timescales: Acknowledge a Section 19 request within 5 working days; "
        "Section 19 panel outcome within 15 working days of the request"
    ) in body
    assert body[-2:] == ["Referral summary:", SUMMARY]


def test_case_opened_under_sutton_names_the_sutton_team() -> None:
    case = a_case(SUTTON, lead_team="SEN_SERVICE")
    casenote = note(
        CaseOpened(reason="illness", source="parent", lead_team="SEN_SERVICE"),
        case=case,
        pack=SUTTON,
    )

    assert casenote.subject == "Section 19 request opened: illness — lead SEN_SERVICE"
    assert "Lead team: SEN_SERVICE (SEN Service, Cognus (EHC coordinators))" in lines(casenote)
    assert "from a parent or carer" in casenote.body


def test_the_referral_summary_appears_only_in_the_case_opened_note() -> None:
    case = a_case()
    for detail, kind in EVERY_KIND:
        casenote = note(detail, case=case)
        assert (SUMMARY in casenote.body) == (kind == "EDUCATION_REFERRAL"), kind


def test_a_long_referral_summary_is_shortened_at_a_word() -> None:
    summary = "word " * 3000
    casenote = note(CaseOpened(reason="illness", source="school"), case=a_case(summary=summary))

    kept = lines(casenote)[-1]
    assert kept.endswith("word…")
    assert len(kept) <= 4000


def test_panel_decision_says_who_decided_why_the_rule_and_the_next_step_by_when() -> None:
    casenote = note(lincs_decision("not_agreed_at_this_time"), case=a_case())

    assert casenote.subject == "Panel decision: not agreed at this time"
    assert casenote.casenote_type == "PANEL_DECISION"
    body = lines(casenote)
    assert "Decided by: Section 19 panel, chaired by the PRT manager" in body
    assert "Why: The setting can meet her needs with a reduced timetable and home tuition" in body
    assert (
        "Policy: rule not_agreed_at_this_time — 003_f2d02c83e1369368.txt Process step 6; "
        "Possible outcomes - Request not agreed at this time ('A minimum of a three-month "
        "check-in')"
    ) in body
    # 91 days (the pack's follow_up_days) after Monday 5 January 2026.
    assert (
        "Next step: The child can receive suitable education at their setting; caseworker "
        "check-in in three months, by Monday 6 April 2026"
    ) in body
    assert "Lead team: PRT (Pupil Reintegration Team)" in body


def test_the_follow_up_date_counts_from_the_decisions_date_in_england() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: six weeks on is 12 August.
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    case = a_case(SUTTON, lead_team="SEN_SERVICE")
    casenote = note(lincs_decision("assessment_agreed", SUTTON), case=case, pack=SUTTON, at=late)

    assert casenote.subject == "Panel decision: assessment agreed"
    next_step = next(line for line in lines(casenote) if line.startswith("Next step: "))
    assert next_step.endswith(", by Wednesday 12 August 2026")
    assert "When: Wednesday 1 July 2026, 00:30 BST" in lines(casenote)


def test_an_outcome_without_a_follow_up_has_no_by_date() -> None:
    casenote = note(lincs_decision("agreed"), case=a_case(status="agreed"))

    assert "Next step: Alternative provision to be arranged by the lead team" in lines(casenote)
    assert "Case status: Agreed" in lines(casenote)


def test_the_routing_decision_reads_as_the_choice_of_lead_team() -> None:
    routing = route(LINCS, RoutingFacts(reason="illness"))
    detail = DecisionRecorded(
        decision=Decision(
            outcome=f"lead {routing.lead_team}",
            decided_by=f"{routing.authority} policy",
            reason=routing.reason,
            rule_id=routing.rule_id,
            policy_ref=routing.policy_ref,
        )
    )
    casenote = note(detail, case=a_case())

    assert casenote.subject == "Lead team decided: PRT"
    assert lines(casenote)[0] == (
        "What happened: The authority's routing rules chose the lead team: "
        "PRT (Pupil Reintegration Team)."
    )
    assert "Decided by: lincolnshire policy" in lines(casenote)
    assert not any(line.startswith("Next step:") for line in lines(casenote))


def test_without_a_pack_the_note_keeps_the_decision_and_the_team_code() -> None:
    casenote = note(lincs_decision("not_agreed_at_this_time"), case=a_case(), pack=None)

    assert casenote.subject == "Decision: not agreed at this time"
    assert "Lead team: PRT" in lines(casenote)
    assert "Why: The setting can meet her needs" in casenote.body
    assert "Policy: rule not_agreed_at_this_time — 003_f2d02c83e1369368.txt" in casenote.body


def test_status_change_cites_the_process_step() -> None:
    casenote = note(
        StatusChanged(from_status="awaiting_panel", to_status="agreed"),
        case=a_case(status="agreed"),
        why="Panel agreed provision on 5 January",
    )

    assert casenote.subject == "Status changed: Awaiting panel → Agreed"
    body = lines(casenote)
    assert "What happened: The case moved from Awaiting panel to Agreed." in body
    assert "Changed by: Priya Shah (PRT panel clerk)" in body
    assert "Why: Panel agreed provision on 5 January" in body
    assert (
        "Policy: 003 Process step 5 - agreed: alternative provision to be arranged by the lead team"
    ) in body
    assert "Can move next to: Provision arranged, Awaiting panel, Closed" in body


def test_an_action_cites_the_timescale_it_meets_and_its_due_date() -> None:
    done = note(
        ActionRecorded(
            action=Action(
                kind="acknowledgement_sent",
                description="Acknowledgement sent to the school",
                actor="PRT panel clerk",
            )
        ),
        case=a_case(),
    )
    assert done.subject == "Action: acknowledgement sent"
    assert "Done by: PRT panel clerk" in lines(done)
    assert (
        "Policy: meets 'Acknowledge a Section 19 request within 5 working days' — "
        "003_f2d02c83e1369368.txt Timescales ('acknowledge receipt of the request within five "
        "working days')"
    ) in lines(done)

    scheduled = note(
        ActionRecorded(
            action=Action(
                kind="three_month_check_in",
                description="Caseworker check-in",
                actor="PRT",
                due_by=dt.date(2026, 4, 6),
            )
        ),
        case=a_case(),
    )
    assert scheduled.subject == "Action: three month check in — due Monday 6 April 2026"
    assert "Due: Monday 6 April 2026" in lines(scheduled)
    assert any(
        line.startswith("Policy: 003_f2d02c83e1369368.txt Process step 6")
        for line in lines(scheduled)
    )


# --- clocks, in England's time ---------------------------------------------------------------


def test_a_breached_clock_names_the_promise_its_due_date_and_the_policy() -> None:
    due = calendars.end_of_day(dt.date(2026, 1, 16))
    casenote = note(clock_change("breached", due), case=a_case())

    assert casenote.subject == (
        "Clock breached: Section 19 panel outcome within 15 working days of the request"
    )
    assert casenote.casenote_type == "STATUTORY_TIMESCALE"
    assert casenote.author_team == "PRT"
    body = lines(casenote)
    assert "Due: Friday 16 January 2026, end of day" in body
    assert "Whose timescale: local authority — PRT (Pupil Reintegration Team)" in body
    assert (
        "Policy: rule lincs.s19.outcome — 003_f2d02c83e1369368.txt Timescales ('make and "
        "communicate the outcome decision')"
    ) in body
    assert "What happened: The timescale has passed its due date without being met." in body


def test_a_day_clock_due_in_summer_time_shows_its_day_in_england() -> None:
    # Started Friday 1 May 2026: 15 working days, skipping the two May bank holidays.
    start = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    due = calendars.due_at("working_days", start, 15)
    assert due == dt.datetime(2026, 5, 26, 22, 59, 59, tzinfo=dt.UTC)

    casenote = note(clock_change("started", due), case=a_case(), at=start)

    assert "Due: Tuesday 26 May 2026, end of day" in lines(casenote)
    assert "When: Friday 1 May 2026, 11:00 BST" in lines(casenote)
    assert (
        "Next step: Section 19 panel outcome within 15 working days of the request, by "
        "Tuesday 26 May 2026, end of day"
    ) in lines(casenote)


def test_an_hours_clock_shows_the_exact_time_across_the_change_to_summer_time() -> None:
    # Issued 13:30 GMT on Saturday 28 March 2026; 24 elapsed hours later it is 14:30 BST.
    issued = dt.datetime(2026, 3, 28, 13, 30, tzinfo=dt.UTC)
    due = calendars.due_at("hours", issued, 24)
    detail = clock_change(
        "started",
        due,
        kind="lincs.exclusion.notice",
        label="School notifies a suspension or permanent exclusion within 24 hours of issuing it",
        agency="school",
        owner_team=None,
        policy_ref=None,
    )
    casenote = note(detail, case=a_case(), at=issued)

    body = lines(casenote)
    assert "Due: Sunday 29 March 2026, 14:30 BST" in body
    assert "Whose timescale: school" in body
    # No policy_ref on the event: the pack's own cite for the clock.
    assert (
        "Policy: rule lincs.exclusion.notice — 003_f2d02c83e1369368.txt Section 19: by reason "
        "of exclusion ('In Lincolnshire, this is within 24 hours of the exclusion being issued')"
    ) in body
    assert casenote.author_team == "PRT"  # the case's lead, as the clock has no owner


def test_a_moment_just_after_midnight_in_summer_is_the_next_day_in_england() -> None:
    casenote = note(
        clock_change("due soon", dt.datetime(2026, 6, 19, 23, 30, tzinfo=dt.UTC)), case=a_case()
    )
    assert "Due: Saturday 20 June 2026, 00:30 BST" in lines(casenote)


def test_a_met_clock_leaves_nothing_to_do() -> None:
    casenote = note(clock_change("met", calendars.end_of_day(dt.date(2026, 1, 16))))

    assert casenote.subject.startswith("Clock met: ")
    assert "Next step: None on this timescale" in lines(casenote)


# --- attendance concerns ---------------------------------------------------------------------


def test_a_concern_that_opens_a_case_says_so_with_the_lead_team() -> None:
    rule = next(r for r in LINCS.concern_routes if r.id == "lincs.concern.medical")
    routing = RoutingDecision(
        lead_team="PRT",
        panel="S19_PANEL",
        rule_id=rule.id,
        policy_ref=f"{LINCS_SEED} {rule.cite}",
        reason=rule.reason,
        authority="lincolnshire",
    )
    detail = ConcernRaised(
        concern_id="con-1",
        kind="medical_threshold",
        rule_id="medical_threshold",
        policy_ref=f"{LINCS_SEED} Attendance and definitions (code I)",
        academic_year=2025,
        term="spring",
        figures=CONCERN_FIGURES,
        routing=routing,
        case_id="case-7f3a",
    )
    # A concern is about the child, not a case: the entry has no case of its own.
    casenote = note(detail, case_id=None)

    assert casenote.subject == "Attendance concern: medical threshold — 16.5 days"
    assert casenote.author_team == "PRT"
    body = lines(casenote)
    assert (
        "What happened: Attendance threshold crossed: medical threshold (2025/26, spring term)."
    ) in body
    assert "Threshold: at least 15" in body
    assert f"Why this action: {rule.reason}" in body
    assert (
        "Next step: Section 19 case case-7f3a opened or updated; lead PRT (Pupil Reintegration "
        "Team)"
    ) in body
    assert "Case reference: case-7f3a" in body


def test_a_concern_the_pack_does_not_act_on_is_recorded_only() -> None:
    figures: dict[str, float | int | str | None] = {
        "kind": "attendance_rate",
        "comparison": "<",
        "threshold": 0.9,
        "value": 0.852,
        "rate": 0.852,
        "possible_sessions": 200,
        "attended_sessions": 170,
    }
    detail = ConcernRaised(
        concern_id="con-2",
        kind="persistent_absence",
        rule_id="persistent_absence",
        policy_ref="001_639b4268f91a7abb.txt section 2.1",
        academic_year=2025,
        term=None,
        figures=figures,
    )
    casenote = note(detail, pack=SUTTON)

    assert casenote.subject == "Attendance concern: persistent absence — attendance 85.2%"
    body = lines(casenote)
    assert "Attendance: 85.2% (170 of 200 possible sessions)" in body
    assert "Threshold: below 90.0%" in body
    assert (
        "Next step: Recorded only: the authority's policy sets no action for this concern" in body
    )


# --- what a note must never carry -------------------------------------------------------------


def test_identifiers_in_the_payload_never_reach_the_note() -> None:
    upn, nhs = make_upn(42), make_nhs_number(42)
    for detail, _ in EVERY_KIND:
        payload = outbox_payload(an_event(detail), a_case())
        payload["case"].update(
            upn=upn,
            nhs_number=nhs,
            name={"given": "Amelia", "family": "Rowntree"},
            date_of_birth="2014-03-09",
        )
        payload["event"]["upn"] = upn
        casenote = casenote_for(payload, person_id="100234", source_reference="r", pack=LINCS)
        text = casenote.subject + "\n" + casenote.body
        for value in (upn, nhs, "Amelia", "Rowntree", "2014-03-09", "9 March 2014"):
            assert value not in text


def test_identifiers_typed_into_free_text_are_removed() -> None:
    upn, nhs = make_upn(43), make_nhs_number(43)
    spaced = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    case = a_case(summary=f"Pupil {upn.lower()}, NHS no. {spaced}, off school since November.")
    opened = note(CaseOpened(reason="illness", source="school"), case=case)
    changed = note(
        StatusChanged(from_status="received", to_status="acknowledged"),
        case=case,
        why=f"Checked UPN {upn} and NHS number {nhs}",
    )

    for casenote in (opened, changed):
        text = casenote.subject + casenote.body
        assert upn not in text.upper()
        assert nhs not in text.replace(" ", "")
    assert "Pupil [UPN removed], NHS no. [NHS number removed], off school" in opened.body
    assert "Why: Checked UPN [UPN removed] and NHS number [NHS number removed]" in changed.body


# --- payloads no note can be written from -----------------------------------------------------


def _valid_payload() -> dict[str, Any]:
    return outbox_payload(an_event(clock_change("breached", AT)), a_case())


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (lambda p: p["event"]["detail"].update(due_at="next Friday"), "event.detail.due_at"),
        (
            lambda p: p["event"]["detail"].update(due_at="2026-01-16T23:59:59"),
            "event.detail.due_at",
        ),
        (lambda p: p["event"].update(at="2026-01-05T09:00:00"), "event.at"),
        (lambda p: p["event"].update(seq="three"), "event.seq"),
        (lambda p: p["event"]["detail"].pop("label"), "event.detail.label"),
        (lambda p: p["case"].update(status="pending"), "case.status"),
        (lambda p: p.pop("event"), "event"),
    ],
)
def test_a_broken_field_is_named(breakage: Any, field: str) -> None:
    payload = _valid_payload()
    breakage(payload)

    with pytest.raises(UnmappableMessage, match=re.escape(field)) as raised:
        casenote_for(payload, person_id="1", source_reference="r", pack=LINCS)
    assert raised.value.field == field


def test_an_unknown_kind_of_entry_is_named() -> None:
    payload = _valid_payload()
    payload["event"]["detail"] = {"type": "exclusion_logged", "days": 3}

    with pytest.raises(
        UnmappableMessage, match=re.escape("event kind 'exclusion_logged'")
    ) as raised:
        casenote_for(payload, person_id="1", source_reference="r", pack=LINCS)
    assert raised.value.field == "event.detail.type"


def test_a_source_reference_mosaic_would_refuse_is_not_sent() -> None:
    with pytest.raises(UnmappableMessage, match="source_reference"):
        casenote_for(_valid_payload(), person_id="1", source_reference="r" * 201, pack=LINCS)


# --- limits, whatever the input -----------------------------------------------------------------


def _contract_limits() -> dict[str, int]:
    """The lengths Mosaic accepts, as its contract says (contracts/mosaic/casenote.xsd)."""
    from lxml import etree

    xsd = pathlib.Path(__file__).parents[3] / "contracts" / "mosaic" / "casenote.xsd"
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    tree = etree.parse(str(xsd))
    limits = {}
    for name in ("subject", "body"):
        [element] = tree.xpath(
            f"//xs:complexType[@name='Casenote']//xs:element[@name='{name}']", namespaces=ns
        )
        limits[name] = int(element.xpath(".//xs:maxLength/@value", namespaces=ns)[0])
    return limits


CONTRACT_LIMITS = _contract_limits()


def assert_within_limits(casenote: Casenote) -> None:
    assert casenote.subject, "a casenote needs a subject"
    assert casenote.body, "a casenote needs a body"
    assert len(casenote.subject) <= CONTRACT_LIMITS["subject"], len(casenote.subject)
    assert len(casenote.body) <= CONTRACT_LIMITS["body"], len(casenote.body)
    assert "\n" not in casenote.subject
    assert not XML_ILLEGAL.search(casenote.subject + casenote.body)


def test_huge_inputs_are_shortened_to_mosaics_limits_at_a_word() -> None:
    label = "Section nineteen timescale " * 400
    casenote = note(
        clock_change("breached", AT, label=label),
        case=a_case(summary="referral " * 20_000),
        why="reason " * 10_000,
    )
    assert_within_limits(casenote)
    assert casenote.subject.endswith("timescale…") or casenote.subject.endswith("nineteen…")
    assert "Case reference: case-7f3a" in lines(casenote)  # the long lines were shortened

    figures: dict[str, float | int | str | None] = {f"figure_{i}": i for i in range(5_000)}
    many = note(ConcernResolved(concern_id="c", kind="x" * 500, figures=figures))
    assert_within_limits(many)
    assert many.body.endswith("…")


text = st.text(max_size=3_000) | st.text(max_size=5).map(lambda s: s * 10_000)
short = st.text(min_size=1, max_size=200)
reason = st.text(min_size=1, max_size=2_000)
moment = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.UTC, calendars.ENGLAND, dt.timezone(dt.timedelta(hours=5))]),
)
figures = st.dictionaries(
    st.text(max_size=30),
    st.none() | st.integers() | st.floats() | st.text(max_size=100),
    max_size=50,
)
details = st.one_of(
    st.builds(CaseOpened, reason=text, source=text, lead_team=st.none() | text),
    st.builds(StatusChanged, from_status=text, to_status=text),
    st.builds(
        ActionRecorded,
        action=st.builds(
            Action,
            kind=st.from_regex(r"\A[a-z][a-z0-9_]{0,63}\Z"),
            description=reason,
            actor=short,
            due_by=st.none() | st.dates(),
        ),
    ),
    st.builds(
        DecisionRecorded,
        decision=st.builds(
            Decision,
            outcome=short | st.sampled_from([o.id for o in LINCS.outcomes]),
            decided_by=short,
            reason=reason,
            rule_id=st.none() | short,
            policy_ref=st.none() | reason,
        ),
    ),
    st.builds(
        ConcernRaised,
        concern_id=text,
        kind=text,
        rule_id=text,
        policy_ref=text,
        academic_year=st.integers(),
        term=st.none() | text,
        figures=figures,
        case_id=st.none() | text,
    ),
    st.builds(ConcernResolved, concern_id=text, kind=text, figures=figures),
    st.builds(
        ClockChanged,
        clock_id=text,
        kind=text,
        label=text,
        change=text | st.sampled_from(["started", "breached", "met", "paused"]),
        due_at=moment,
        reason=st.none() | text,
        agency=st.none() | text,
        owner_team=st.none() | text | st.sampled_from(list(LINCS.teams)),
        policy_ref=st.none() | text,
    ),
)
events = st.builds(
    Event,
    id=text,
    child_id=text,
    case_id=st.none() | text,
    seq=st.none() | st.integers(min_value=0, max_value=2**62),
    at=moment,
    actor=text,
    summary=text,
    why=st.none() | text,
    detail=details,
)
cases = st.none() | st.builds(
    a_case,
    summary=text,
    lead_team=st.none() | text | st.sampled_from(list(LINCS.teams)),
    id=text,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
packs = st.sampled_from([LINCS, SUTTON, None])
LIMITS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LIMITS
@given(event=events, case=cases, pack=packs)
def test_any_valid_entry_makes_a_note_within_the_limits(
    event: Event, case: CaseSummary | None, pack: PolicyPack | None
) -> None:
    payload = {
        "event": msgspec.to_builtins(event),
        "case": None if case is None else msgspec.to_builtins(case),
    }
    casenote = casenote_for(payload, person_id="1", source_reference="r", pack=pack)
    assert_within_limits(casenote)
    # In UTC: Python never calls two zones' readings of an hour that repeats in autumn equal.
    assert casenote.event_date.astimezone(dt.UTC) == event.at.astimezone(dt.UTC)


@LIMITS
@given(payload=st.dictionaries(st.text(max_size=10), json_values), pack=packs)
def test_any_object_either_maps_or_is_unmappable(
    payload: dict[str, Any], pack: PolicyPack | None
) -> None:
    _maps_or_is_unmappable(payload, pack)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    return found


@LIMITS
@given(data=st.data(), pack=packs)
def test_a_valid_payload_with_any_field_replaced_maps_or_is_unmappable(
    data: st.DataObject, pack: PolicyPack | None
) -> None:
    detail, _ = data.draw(st.sampled_from(EVERY_KIND))
    payload = outbox_payload(an_event(detail), a_case())
    path = data.draw(st.sampled_from(_paths(payload)[1:]))
    broken = copy.deepcopy(payload)
    target = broken
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()):
        target[path[-1]] = data.draw(json_values)
    else:
        del target[path[-1]]
    _maps_or_is_unmappable(broken, pack)


def _maps_or_is_unmappable(payload: dict[str, Any], pack: PolicyPack | None) -> None:
    try:
        casenote = casenote_for(payload, person_id="1", source_reference="r", pack=pack)
    except UnmappableMessage as exc:
        field = exc.field
    else:
        assert_within_limits(casenote)
        return
    assert field  # names what to fix
