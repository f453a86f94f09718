"""The demo's script: who the cast are, what happens to them, and on which day.

The story is the same for every policy pack, so running it under each shows how the
authorities' rules treat the same children; only what the pack decides (lead teams, clocks,
what an attendance concern leads to, which outcome a panel can give) differs. Every step is a
call a real actor makes through the gateway's public interfaces (gateway/demo/actors.py).

The timeline:

* **Prologue, December 2025.** On Monday 1 December the administrator loads the GIAS extract
  and the approved AP list. On Thursday 4 December three children's cases are heard and the
  authority decides to assess their education, health and care needs: advice is asked of
  health, social care, education and the educational psychologist, six weeks each (Sutton
  004 "3. EHC Needs Assessment Process"; the SEND Regulations 2014 reg. 8 for the other
  packs). The NHS team accepts its three Tasks that week.
* **The fortnight from Monday 12 January 2026.** The schools' MIS connections go live: on the
  first day each sends its year to date, then each day's marks. Portal notifications arrive
  (illness, an EHC-plan child unable to attend, a permanent exclusion, a suspension told late,
  a parent's Section 19 request). Cases are acknowledged, heard by the panel, provision is
  commissioned from the approved list. The health advice asked in December falls due on
  Thursday 15 January: the NHS team answers one child's Task on time, one late, and never
  answers the third.

Where a step relies on a policy rule, its docstring cites the seed file and section
(../shared/seeds, index in ../shared/seeds/README.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.demo.actors import Administrator, Board, NhsTeam, Officer, Portal, SchoolMis
from gateway.demo.clock import ENGLAND, DemoClock, in_england
from gateway.demo.synthetic import (
    EXCLUDED,
    ILL,
    YEAR_START,
    Authority,
    Marks,
    Pupil,
    SchoolKind,
    nth_school_day,
    school_days,
)
from gateway.rules.pack import Outcome, PolicyPack
from mappings.portal import LABELS
from simulators.mosaic import MosaicSimulator

OPENING: Final = in_england(dt.date(2025, 12, 1), dt.time(8, 30))
FIRST_DAY: Final = dt.date(2026, 1, 12)
ASSESSMENT_PANEL: Final = dt.date(2025, 12, 4)
# The NHS team asked for health advice where the pack names none (only Sutton's does, RVR).
# A made-up ODS code: no NHS organisation has it.
DEMO_ODS: Final = "XFM01"
SEED: Final = 19
FAR: Final = dt.date(2026, 7, 31)  # "until further notice" in a story


@dataclass(frozen=True)
class Role:
    key: str
    label: str  # what the lead-team table calls the child; never a name
    school: SchoolKind
    ehcp_status: str = "none"


ROLES: Final = (
    Role("A", "EHC assessment; health answers on time", "special", "requested"),
    Role("B", "EHC assessment; health answers late", "primary", "requested"),
    Role("C", "EHC assessment; health never answers", "secondary", "requested"),
    Role("D", "15 days off sick, in the registers", "primary"),
    Role("E", "illness notice; new to Mosaic", "secondary"),
    Role("F", "EHC plan, unable to attend", "special", "issued"),
    Role("G", "permanent exclusion", "secondary"),
    Role("H", "suspension, told late", "secondary"),
    Role("I", "parent's request; back-to-school", "primary"),
)
ASSESSED: Final = ("A", "B", "C")
# Mosaic has no record of E until social care opens one on the third day.
UNKNOWN_TO_MOSAIC: Final = frozenset({"E"})


def fortnight(days: int) -> list[dt.date]:
    """The school days the demo plays, from FIRST_DAY."""
    return [nth_school_day(FIRST_DAY, n) for n in range(1, days + 1)]


def day(n: int) -> dt.date:
    return nth_school_day(FIRST_DAY, n)


def choose_cast(authority: Authority) -> dict[str, Pupil]:
    """Pick each role's child (the first unpicked pupil with an ordinary register at a school
    of the role's kind) and tell the authority their registers, so every threshold the story
    needs is crossed on the day it says."""
    taken: set[str] = set()
    cast: dict[str, Pupil] = {}
    for role in ROLES:
        pupil = next(
            (
                p
                for p in authority.pupils
                if p.upn not in taken
                and p.profile == "regular"
                and authority.school(p.school_urn).kind == role.school
            ),
            None,
        )
        if pupil is None:
            raise ValueError(f"too few pupils for the cast: none left for {role.key}")
        taken.add(pupil.upn)
        cast[role.key] = pupil
    stories: dict[str, list[tuple[dt.date, dt.date, Marks]]] = {
        key: [] for key in ("A", "B", "C", "F")
    }
    # D: off sick from 10 December: eight school days before Christmas and four in the first
    # week of term make twelve by Friday 9 January, so the 15th is Wednesday 14 January, the
    # third day (the medical threshold: 003 "Attendance and definitions", 002 para 11).
    stories["D"] = [(dt.date(2025, 12, 10), FAR, ILL)]
    # E: off sick from 3 December: 17 days when the school tells the portal on day one.
    stories["E"] = [(dt.date(2025, 12, 3), FAR, ILL)]
    # F: cannot attend from the start of the spring term, through illness linked to needs.
    stories["F"] = [(dt.date(2026, 1, 5), FAR, ILL)]
    # G: excluded from day two; dual registered at the PRU (code D) from its placement.
    stories["G"] = [(day(2), day(5), EXCLUDED), (day(6), FAR, ("D", "D"))]
    # H: a three-day suspension from the fifth day.
    stories["H"] = [(day(5), day(7), EXCLUDED)]
    # I: has stopped coming since December (no reason given).
    stories["I"] = [(dt.date(2025, 12, 1), FAR, ("O", "O"))]
    for key, story in stories.items():
        authority.cast(cast[key], story)
    return cast


def team_ods(pack: PolicyPack) -> str:
    """The NHS team the authority asks for health advice: the pack's, else the demo's."""
    return next((t.ods for t in pack.teams.values() if t.adviser == "health" and t.ods), DEMO_ODS)


# --- the play -----------------------------------------------------------------------------


@dataclass
class Play:
    """Everything a step needs: the actors, the authority, what has been learned so far."""

    authority: Authority
    cast: Mapping[str, Pupil]
    pack: PolicyPack
    clock: DemoClock
    admin: Administrator
    officer: Officer
    portal: Portal
    nhs: NhsTeam
    board: Board
    schools: Mapping[str, SchoolMis]
    mosaic: MosaicSimulator
    say: Callable[[str], None]
    case_ids: dict[str, str] = field(default_factory=dict)
    task_ids: dict[str, str] = field(default_factory=dict)
    child_ids: dict[str, str] = field(default_factory=dict)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def child_id(self, role: str) -> str | None:
        """The role's child in the gateway, found by UPN (None until the gateway has met
        them: through a register, a notification or the officer)."""
        if role not in self.child_ids:
            child = self.officer.find_child(self.cast[role].upn)
            if child is None:
                return None
            self.child_ids[role] = child["id"]
        return self.child_ids[role]

    def case_id(self, role: str) -> str | None:
        """The role's open case, found by the child's UPN as an officer would find it."""
        if role in self.case_ids:
            return self.case_ids[role]
        child_id = self.child_id(role)
        if child_id is None:
            return None
        found = [c for c in self.officer.cases(child_id=child_id) if c["status"] != "closed"]
        if not found:
            return None
        self.case_ids[role] = found[-1]["id"]
        return self.case_ids[role]

    def decide(self, role: str, intent: str, reason: str) -> None:
        """The panel's decision for the role's case, as the pack words it (see ``outcome``)."""
        case_id = self.case_id(role)
        if case_id is None:
            self.say(f"{role}: no case to decide under {self.pack.authority.name}")
            return
        case = self.officer.case(case_id)
        chosen = outcome(self.pack, intent)
        if case["status"] == chosen.status:
            self.say(f"{role}: already {chosen.status.replace('_', ' ')}")
            return
        if case["status"] in ("received", "acknowledged"):
            self.officer.move(case_id, "awaiting_panel", "Listed for the panel")
        decided_by = _decided_by(self.pack, case)
        self.officer.decide(case_id, chosen.id, decided_by, reason)
        self.say(f"{role}: {decided_by} decides {chosen.id.replace('_', ' ')}")


def outcome(pack: PolicyPack, intent: str) -> Outcome:
    """The pack's outcome for a scripted intent. The intent is a case status; a pack that has
    no outcome leading to it uses the nearest (Essex has no "multi-agency meeting" or "not
    agreed at this time": its Case Advice Panel agrees or does not, 002 para 12)."""
    nearest = {
        "multi_agency_meeting": ("multi_agency_meeting", "agreed"),
        "not_agreed_at_this_time": ("not_agreed_at_this_time", "not_agreed"),
    }
    for status in nearest.get(intent, (intent,)):
        for candidate in pack.outcomes:
            if candidate.status == status:
                return candidate
    raise LookupError(f"{pack.authority.id} has no outcome for {intent}")


def _decided_by(pack: PolicyPack, case: Mapping[str, Any]) -> str:
    panel = case.get("panel")
    if panel and panel in pack.panels:
        return pack.panels[panel].name
    lead = case.get("lead_team")
    team = pack.teams.get(lead) if lead else None
    return team.name if team is not None else "Section 19 officer"


@dataclass(frozen=True)
class Step:
    on: dt.date
    at: dt.time
    what: str
    run: Callable[[Play], None]


def script(days: int) -> list[Step]:
    """Every scripted step up to the ``days``-th school day of the fortnight, in order."""
    played = set(fortnight(days))
    steps = [*_prologue(), *_fortnight()]
    steps = [s for s in steps if s.on < FIRST_DAY or s.on in played]
    for on in sorted(played):
        steps += _routine(on, first=on == FIRST_DAY)
    steps.append(Step(max(played), dt.time(18, 0), "the board's report", _board_reads_report))
    return sorted(steps, key=lambda s: (s.on, s.at))


# --- prologue --------------------------------------------------------------------------------


def _prologue() -> list[Step]:
    return [
        Step(dt.date(2025, 12, 1), dt.time(8, 45), "registers", _load_registers),
        Step(ASSESSMENT_PANEL, dt.time(10, 0), "assessment cases", _assessment_cases),
        Step(ASSESSMENT_PANEL, dt.time(11, 0), "assessment agreed", _assessments_agreed),
        Step(dt.date(2025, 12, 5), dt.time(9, 30), "NHS accepts A", _nhs_accepts("A", "Booked")),
        Step(dt.date(2025, 12, 9), dt.time(9, 30), "NHS accepts B", _nhs_accepts("B", "Booked")),
        Step(
            dt.date(2025, 12, 10),
            dt.time(9, 30),
            "NHS accepts C",
            _nhs_accepts("C", "Clinic appointment offered for February"),
        ),
    ]


def _load_registers(play: Play) -> None:
    """Which URNs are schools, and which providers may be commissioned (Essex 002 §13, §17:
    approved providers only)."""
    gias = play.admin.import_gias(play.authority.gias_csv())
    approved = play.admin.import_approved_list(play.authority.approved_list_csv())
    play.say(
        f"GIAS extract loaded: {gias['added']} establishments; approved AP list: "
        f"{approved['added']} providers"
    )


def _assessment_cases(play: Play) -> None:
    """The three children are registered with the family's agreement to share with health
    ("tell us once", Sutton 004), and their cases opened and acknowledged (Lincolnshire 003
    Process step 1)."""
    for key in ASSESSED:
        pupil = play.cast[key]
        role = _role(key)
        child = play.officer.register_child(
            {
                "identifiers": {"upn": pupil.upn, "nhs_number": pupil.nhs_number},
                "name": {"given": pupil.given, "family": pupil.family},
                "date_of_birth": pupil.date_of_birth.isoformat(),
                "home_la": play.authority.la_code,
                "school_urn": pupil.school_urn,
                "ehcp_status": role.ehcp_status,
            }
        )
        play.officer.share(child["id"], "health", ["identity", "send"])
        case = play.officer.open_case(
            {
                "child_id": child["id"],
                "reason": "illness" if key != "B" else "otherwise",
                "source": "school",
                "summary": "Needs not met at SEN support; the school asks for an EHC needs "
                "assessment",
                "school_urn": pupil.school_urn,
                "circumstances": {"linked_to_send": True},
            }
        )
        play.case_ids[key] = case["id"]
        play.officer.move(case["id"], "acknowledged", "Acknowledgement sent to the school")
        play.say(f"{key}: case opened, lead {case['lead_team']} ({case['routing']['rule_id']})")


def _assessments_agreed(play: Play) -> None:
    """The panel agrees and the authority decides to assess: advice from each adviser within
    six weeks (Sutton 004 "3. EHC Needs Assessment Process"; SEND Regulations 2014 reg. 8)."""
    for key in ASSESSED:
        play.decide(key, "agreed", "Needs cannot be met without an EHC needs assessment")
        started = play.officer.assess(play.case_ids[key], team_ods(play.pack))
        health = next(r for r in started["requests"] if r["adviser"] == "health")
        play.task_ids[key] = health["id"]
    due = dt.date.fromisoformat(health["due_at"][:10])
    play.say(f"EHC needs assessments for A, B, C: advice asked, health's due by {due:%a %-d %b}")


def _nhs_accepts(key: str, booked: str) -> Callable[[Play], None]:
    def accept(play: Play) -> None:
        """The NHS team accepts the Task and says what it has booked."""
        task = play.nhs.task_for_patient(play.cast[key].nhs_number)
        play.nhs.move(task["id"], "accepted", booked)
        play.task_ids[key] = task["id"]
        play.say(f"NHS team accepts {key}'s advice request: {booked}")

    return accept


# --- the fortnight ---------------------------------------------------------------------------


def _fortnight() -> list[Step]:
    return [
        Step(day(1), dt.time(9, 0), "portal: E illness", _notify_illness),
        Step(day(1), dt.time(9, 30), "NHS starts A", _nhs_starts("A")),
        Step(day(2), dt.time(9, 0), "portal: G exclusion", _notify_permanent_exclusion),
        Step(day(2), dt.time(9, 5), "portal: F unable to attend", _notify_ehcp_unable),
        Step(day(2), dt.time(9, 30), "NHS answers A", _nhs_answers("A")),
        Step(day(2), dt.time(12, 0), "other advice recorded", _other_advice_recorded),
        Step(day(3), dt.time(9, 0), "portal: I request", _notify_section19_request),
        Step(day(3), dt.time(9, 30), "NHS starts B", _nhs_starts("B")),
        Step(day(3), dt.time(11, 0), "panel", _panel_one),
        Step(day(3), dt.time(12, 0), "Mosaic knows E", _mosaic_learns_of_e),
        Step(day(3), dt.time(17, 45), "what D's registers did", _what_ds_registers_did),
        Step(day(4), dt.time(12, 0), "placement for G", _place_g),
        Step(day(6), dt.time(9, 0), "portal: H suspension", _notify_suspension_late),
        Step(day(6), dt.time(9, 30), "NHS answers B", _nhs_answers("B")),
        Step(day(7), dt.time(12, 0), "placement for E", _place_e),
        Step(day(8), dt.time(11, 0), "panel", _panel_two),
        Step(day(10), dt.time(10, 0), "D acknowledged", _acknowledge_d_late),
    ]


def _routine(on: dt.date, *, first: bool) -> list[Step]:
    """What happens every school day: the clerk acknowledges yesterday's new cases in the
    morning; the schools send their registers after school."""
    steps = [
        Step(on, dt.time(10, 0), "acknowledgements", _acknowledge_new_cases),
        Step(on, dt.time(16, 30), "MIS feeds", _send_registers(first=first)),
    ]
    if on == day(8):
        steps.append(Step(on, dt.time(11, 30), "panel clears its agenda", _panel_agendas))
    return steps


def _role(key: str) -> Role:
    return next(r for r in ROLES if r.key == key)


def _notification(
    play: Play, key: str, kind: str, *, ehcp: str = "none", linked: bool = False, **extra: Any
) -> dict[str, Any]:
    pupil = play.cast[key]
    school = play.authority.school(pupil.school_urn)
    now = play.now()
    body: dict[str, Any] = {
        "notification_id": f"CSP-{now:%Y%m%d}-{key}{pupil.index:05d}",
        "type": kind,
        "submitted_at": now.isoformat(timespec="seconds"),
        "school": {"urn": school.urn, "name": school.name},
        "child": {
            "upn": pupil.upn,
            "nhs_number": pupil.nhs_number,
            "given_name": pupil.given,
            "family_name": pupil.family,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            "home_la": play.authority.la_code,
        },
        "ehcp": {"status": ehcp, "linked_to_needs": linked, "decision_to_issue_draft": False},
        "special_school": school.kind == "special",
        "looked_after": False,
        "open_to_social_care": False,
        "return_to_school_pathway": False,
        "summary": "",
    }
    body.update(extra)
    return body


def _sent(play: Play, key: str, body: Mapping[str, Any]) -> None:
    answer = play.portal.notify(body)
    play.case_ids[key] = answer["case_id"]
    routing = answer["routing"] or {}
    late = ", notice late" if answer["notice_late"] else ""
    play.say(
        f"{key}: portal notice ({LABELS[body['type']]}) -> lead {routing.get('lead_team')} "
        f"({routing.get('rule_id')}){late}"
    )


def _notify_illness(play: Play) -> None:
    """E's school tells the authority of 17 days' illness: "will miss 15 days consecutively or
    cumulatively because of sickness" (Lincolnshire 003 "Attendance and definitions")."""
    _sent(
        play,
        "E",
        _notification(
            play,
            "E",
            "illness",
            summary="Off sick since 3 December; consultant letter attached.",
            illness={
                "days_absent": 17,
                "consecutive": True,
                "medical_evidence": True,
                "individual_health_care_plan": True,
            },
        ),
    )


def _notify_permanent_exclusion(play: Play) -> None:
    """G was permanently excluded yesterday afternoon; the school tells the authority within
    24 hours, and full-time education is due from the sixth school day (Lincolnshire 003
    "Section 19: by reason of exclusion")."""
    issued = in_england(day(1), dt.time(14, 0))
    _sent(
        play,
        "G",
        _notification(
            play,
            "G",
            "permanent_exclusion",
            summary="Permanently excluded following a serious incident.",
            exclusion={"issued_at": issued.isoformat(timespec="seconds"), "first_day": str(day(2))},
        ),
    )


def _notify_ehcp_unable(play: Play) -> None:
    """F has an EHC plan and cannot attend through illness linked to their needs: SEND leads
    where the plan is in place (Lincolnshire 003 Process step 3; Worcestershire 000 s.2)."""
    _sent(
        play,
        "F",
        _notification(
            play,
            "F",
            "ehcp_unable_to_attend",
            ehcp="issued",
            linked=True,
            summary="Unable to attend since the start of term; needs linked to the plan.",
            illness={
                "days_absent": 5,
                "consecutive": True,
                "medical_evidence": False,
                "individual_health_care_plan": True,
            },
        ),
    )


def _notify_section19_request(play: Play) -> None:
    """I's parent asks for help; I is on a return-to-school pathway, which Lincolnshire's EWE
    team leads (003 Process step 3)."""
    _sent(
        play,
        "I",
        _notification(
            play,
            "I",
            "section19_request",
            summary="Not attending since December; anxiety about school.",
            return_to_school_pathway=True,
            section19_request={
                "requester": "parent",
                "requester_role": "mother",
                "summary": "Please help my child get back into education.",
                "reason": "otherwise",
            },
        ),
    )


def _notify_suspension_late(play: Play) -> None:
    """H was suspended on Thursday at noon; the school tells the authority on Monday morning,
    past the 24 hours Lincolnshire allows (003 "Section 19: by reason of exclusion")."""
    issued = in_england(day(4), dt.time(12, 0))
    _sent(
        play,
        "H",
        _notification(
            play,
            "H",
            "suspension",
            summary="Three-day suspension.",
            exclusion={
                "issued_at": issued.isoformat(timespec="seconds"),
                "first_day": str(day(5)),
                "days": 3,
            },
        ),
    )


def _nhs_starts(key: str) -> Callable[[Play], None]:
    def start(play: Play) -> None:
        """The NHS team starts work on the Task (seen in clinic)."""
        play.nhs.move(play.task_ids[key], "in-progress", "Seen in clinic")
        play.say(f"NHS team starts work on {key}'s advice")

    return start


def _nhs_answers(key: str) -> Callable[[Play], None]:
    def answer(play: Play) -> None:
        """The NHS team posts its advice and completes the Task: that meets the six-week
        clock, on time or late (Sutton 004 "3. EHC Needs Assessment Process")."""
        play.nhs.answer(
            play.task_ids[key],
            "Seen in clinic. Needs: fatigue management, rest breaks, a lift pass, a phased "
            "timetable reviewed by the school nurse each half term.",
        )
        play.say(f"NHS team answers {key}'s advice request")

    return answer


def _other_advice_recorded(play: Play) -> None:
    """Social care, education and the educational psychologist answer by email; the officer
    records each (their clocks are met; README "EHC needs-assessment advice")."""
    for key in ASSESSED:
        for request in play.officer.advice_requests(play.case_ids[key]):
            if request["adviser"] != "health" and request["status"] != "completed":
                play.officer.record_advice(request["id"], "Advice received by secure email")
    play.say("social care, education and EP advice for A, B, C recorded")


def _what_ds_registers_did(play: Play) -> None:
    """The officer looks at what the day's registers did for D: fifteen days off sick cross
    the medical threshold; Lincolnshire opens a case (concern route ``lincs.concern.medical``,
    003 "Attendance and definitions"), other packs tell a lead or only record it."""
    child_id = play.child_id("D")
    concerns = play.officer.concerns(child_id) if child_id is not None else []
    if not any(c["kind"] == "medical_threshold" for c in concerns):
        play.say(f"D: no medical-threshold concern under {play.pack.authority.name}")
        return
    case_id = play.case_id("D")
    if case_id is None:
        play.say("D: 15 days off sick in the registers: concern recorded, no case opened")
        return
    case = play.officer.case(case_id)
    rule = (case.get("routing") or {}).get("rule_id")
    play.say(
        f"D: 15 days off sick in the registers: case opened, lead {case['lead_team']} ({rule})"
    )


def _panel_one(play: Play) -> None:
    """The panel agrees provision for E and G and asks for a multi-agency meeting about F
    (Lincolnshire 003 Process steps 2-5, "Possible outcomes")."""
    play.decide("E", "agreed", "Medical evidence supports education at home")
    play.decide("F", "multi_agency_meeting", "Health and SEND to agree a plan together")
    play.decide("G", "agreed", "Full-time education from the sixth school day")


def _panel_two(play: Play) -> None:
    """After the multi-agency meeting F is agreed; I's request is not agreed at this time,
    with a three-month check-in (Lincolnshire 003 "Possible outcomes")."""
    play.decide("F", "agreed", "Agreed at the multi-agency meeting")
    play.decide("I", "not_agreed_at_this_time", "The school's reintegration plan comes first")


def _mosaic_learns_of_e(play: Play) -> None:
    """Social care opens a Mosaic record for E; the administrator links E to it, and the
    casenotes parked for want of it go, in order (README "Mosaic casenotes")."""
    person = mosaic_record_of_e(play.cast["E"])
    play.mosaic.add_person(person)  # a new record, not yet carrying E's UPN
    child = play.officer.find_child(play.cast["E"].upn)
    if child is None:
        play.say("E: not known to the gateway")
        return
    play.admin.link_mosaic_person(child["id"], person)
    play.say("E linked to the new Mosaic record; parked casenotes released")


def mosaic_record_of_e(pupil: Pupil) -> str:
    """The Mosaic person id social care gives E (a range the pupils' own ids never reach)."""
    return str(9_000_000 + pupil.index)


def _place(play: Play, key: str, service: str, placement: dict[str, Any]) -> None:
    case_id = play.case_id(key)
    case = play.officer.case(case_id) if case_id is not None else None
    if case is None or case["status"] != "agreed":
        status = case["status"] if case else "no case"
        play.say(f"{key}: no placement ({status} under {play.pack.authority.name})")
        return
    provider = play.officer.provider(service)
    play.officer.commission(case_id or "", {**placement, "provider_id": provider["id"]})
    play.say(f"{key}: placement commissioned from {provider['name']}")


def _place_g(play: Play) -> None:
    """Full-time education for G at the PRU, dual registered (D), from Monday: in time for the
    sixth school day (Lincolnshire 003 "Section 19: by reason of exclusion")."""
    _place(
        play,
        "G",
        "reintegration",
        {"start_date": str(day(6)), "hours_per_week": 25, "venue": "provider_site"},
    )


def _place_e(play: Play) -> None:
    """Teaching at home for E from the medical needs service, with the provider's risk
    assessment (Essex 002 §13)."""
    _place(
        play,
        "E",
        "medical_needs",
        {
            "start_date": str(day(8)),
            "hours_per_week": 10,
            "venue": "home",
            "risk_assessment_ref": "RA-2026-0117",
        },
    )


def _acknowledge_new_cases(play: Play) -> None:
    """The clerk acknowledges each case received before today, within Lincolnshire's five
    working days (003 "Timescales"); D's is overlooked until the last day (see
    ``_acknowledge_d_late``)."""
    today = play.now().date()
    overlooked = play.child_id("D") if today < day(10) else None
    done = 0
    for case in play.officer.cases(status="received"):
        if case["child_id"] == overlooked or _opened_on(case) >= today:
            continue
        play.officer.move(case["id"], "acknowledged", "Acknowledgement sent to the requester")
        done += 1
    if done:
        play.say(f"{done} new case{'s' if done != 1 else ''} acknowledged")


def _opened_on(case: Mapping[str, Any]) -> dt.date:
    """The date in England a case was opened on (the API gives UTC)."""
    return dt.datetime.fromisoformat(case["opened_at"]).astimezone(ENGLAND).date()


def _acknowledge_d_late(play: Play) -> None:
    """D's case, opened by the attendance concern on the third day, is acknowledged on the
    tenth: after the five working days (Lincolnshire 003 "Timescales"), so met late."""
    case_id = play.case_id("D")
    if case_id is None:
        play.say(f"D: no case opened under {play.pack.authority.name}")
        return
    if play.officer.case(case_id)["status"] == "received":
        play.officer.move(case_id, "acknowledged", "Acknowledgement sent (late)")
        play.say("D: case acknowledged, late")


def _panel_agendas(play: Play) -> None:
    """The panel goes through its agenda's other new referrals (the children the registers
    brought: the pack's concern routes) and agrees provision for each."""
    cast = {play.child_id(key) for key in play.cast} - {None}
    decided = 0
    for panel, details in play.pack.panels.items():
        agenda = play.officer.agenda(panel, play.now().date().isoformat())
        for case in agenda["new_referrals"]:
            if case["child_id"] in cast:
                continue
            if case["status"] in ("received", "acknowledged"):
                play.officer.move(case["id"], "awaiting_panel", "Listed for the panel")
            chosen = outcome(play.pack, "agreed")
            play.officer.decide(case["id"], chosen.id, details.name, "Provision agreed")
            decided += 1
    if decided:
        play.say(f"panel agrees provision for {decided} other referral(s)")


def _board_reads_report(play: Play) -> None:
    """The partnership board reads the SLA report for every clock started since December:
    per agency, promises kept on time, late, and overdue (README "Statutory clocks and board
    reports")."""
    sla = play.board.sla(str(OPENING.date()), str(play.now().date()))
    for agency in sla["agencies"]:
        total = agency["total"]
        play.say(
            f"board report, {agency['agency'].replace('_', ' ')}: {total['opened']} clocks, "
            f"{total['met_on_time']} met on time, {total['met_late']} late, "
            f"{total['open_overdue']} overdue"
        )


def _send_registers(*, first: bool) -> Callable[[Play], None]:
    def send(play: Play) -> None:
        """Each school's MIS sends its registers: the year to date as CSV when it first
        connects, then the day's marks as JSON."""
        today = play.now().date()
        records = 0
        for school in play.authority.registered_schools():
            mis = play.schools[school.urn]
            if first:
                days = school_days(YEAR_START, today)
                report = mis.send(play.authority.csv_feed(school.urn, days), "text/csv")
            else:
                report = mis.send(play.authority.json_feed(school.urn, [today]), "application/json")
            records += int(report["records_accepted"])
        what = "year-to-date registers" if first else "the day's registers"
        play.say(f"{len(play.schools)} schools send {what}: {records:,} records")

    return send


__all__ = [
    "ASSESSED",
    "DEMO_ODS",
    "FIRST_DAY",
    "OPENING",
    "ROLES",
    "SEED",
    "UNKNOWN_TO_MOSAIC",
    "Play",
    "Role",
    "Step",
    "choose_cast",
    "fortnight",
    "mosaic_record_of_e",
    "outcome",
    "script",
    "team_ods",
]
