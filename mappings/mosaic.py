"""Timeline entries -> casenotes on the child's Mosaic record. Pure: reads only packaged data.

Lincolnshire's Section 19 policy asks for the "Recording of all actions and decision points to
be on the child's Mosaic record in casenotes" (003_f2d02c83e1369368.txt, "Case recording").
The social worker reading the record sees these notes, not the gateway, so each note says in
labelled lines what happened, who decided, why, under which policy rule, and what happens next
and by when. Dates are given in England's local time, the clock the statutory timescales run on
(gateway/sla/calendars.py), with the weekday and month in words so no reader mistakes 03/04.

Mosaic already knows who the note is about (``person_id``), so no note names the child or
repeats a date of birth, UPN or NHS number. The event and case payloads carry none of these;
free text a person typed can, so anything shaped like a valid UPN or NHS number is removed from
every subject and body as a backstop (names and dates in free text cannot be told apart from
any other words and are left as written).
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import msgspec

from gateway.cases.lifecycle import lifecycle
from gateway.model.case import CaseSummary
from gateway.model.child import Child
from gateway.model.events import (
    ActionRecorded,
    CaseOpened,
    ClockChanged,
    ConcernRaised,
    ConcernResolved,
    DecisionRecorded,
    Event,
    EventDetail,
    StatusChanged,
)
from gateway.model.identifiers import nhs_number_problem, upn_problem
from gateway.rules.pack import Conditions, Outcome, PolicyPack
from gateway.sla.calendars import END_OF_DAY, ENGLAND

SOURCE_SYSTEM = "S19-GATEWAY"
SUBJECT_LIMIT = 200
BODY_LIMIT = 20_000
REFERENCE_LIMIT = 200
# A gateway choice: room for a full referral (the API takes 2,000 characters) with margin,
# while leaving most of the note for the labelled lines.
SUMMARY_LIMIT = 4_000
# One labelled line: a reason longer than this is shortened so the lines after it (the case
# reference, the lead team) still fit in the note.
LINE_LIMIT = 2_000

CasenoteType = Literal[
    "EDUCATION_REFERRAL",
    "STATUS_CHANGE",
    "ACTION",
    "PANEL_DECISION",
    "ATTENDANCE_CONCERN",
    "STATUTORY_TIMESCALE",
]


class Attachment(msgspec.Struct, kw_only=True, frozen=True):
    reference: str  # a URI
    title: str
    media_type: str | None = None


class Casenote(msgspec.Struct, kw_only=True, frozen=True):
    person_id: str
    casenote_type: CasenoteType
    event_date: dt.datetime  # aware, the event's own time
    author_worker: str | None
    author_team: str | None
    subject: str  # <= 200 characters
    body: str  # <= 20000 characters, plain text, lines separated by "\n"
    source_system: str  # "S19-GATEWAY"
    source_reference: str  # <= 200 characters
    attachments: list[Attachment] = []


class UnmappableMessage(ValueError):
    """A payload no casenote can be written from. ``field`` names where it went wrong (e.g.
    ``event.detail.due_at``) so a dead-lettered message says what to fix, not just that it
    failed; retrying it would fail the same way."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class Draft(msgspec.Struct, kw_only=True, frozen=True):
    """What one kind of entry says; ``casenote_for`` adds whom it is about and the limits."""

    casenote_type: CasenoteType
    subject: str
    lines: list[str]
    author_team: str | None


def casenote_for(
    payload: Mapping[str, Any],
    *,
    person_id: str,
    source_reference: str,
    pack: PolicyPack | None,
    withheld: Sequence[str] = (),
    referral_shared: bool = True,
) -> Casenote:
    """The casenote for one outbox message (gateway/delivery/routes.py builds the payload).

    The payload is checked against the gateway's own Structs here, at the boundary, so a
    malformed message fails once with the field named instead of producing a misleading note.
    ``withheld`` are the child's own identifying strings (names, date of birth as people write
    it, UPN, NHS number; see ``identifying_strings``): free text a referrer typed may hold them,
    and they are taken out wherever they appear. ``referral_shared`` is whether the family
    agreed to share education information (the referrer's own words) with social care; without
    it the referral note says the summary is withheld.
    """
    if not 1 <= len(source_reference) <= REFERENCE_LIMIT:
        raise UnmappableMessage("source_reference", f"must be 1 to {REFERENCE_LIMIT} characters")
    event, case = decode(payload)
    if case is not None and not referral_shared:
        case = msgspec.structs.replace(case, summary=REFERRAL_WITHHELD)
    detail = event.detail
    match detail:
        case CaseOpened():
            draft = case_opened(event, detail, case, pack)
        case StatusChanged():
            draft = status_changed(event, detail, case, pack)
        case ActionRecorded():
            draft = action_recorded(event, detail, case, pack)
        case DecisionRecorded():
            draft = decision_recorded(event, detail, case, pack)
        case ConcernRaised():
            draft = concern_raised(event, detail, case, pack)
        case ConcernResolved():
            draft = concern_resolved(event, detail, case, pack)
        case ClockChanged():
            draft = clock_changed(event, detail, case, pack)
        case _:
            typing.assert_never(detail)
    return Casenote(
        person_id=person_id,
        casenote_type=draft.casenote_type,
        event_date=event.at,
        author_worker=_clip(_withhold(_one_line(event.actor), withheld), SUBJECT_LIMIT) or None,
        author_team=draft.author_team,
        subject=_clip(_withhold(_redact(_one_line(draft.subject)), withheld), SUBJECT_LIMIT),
        body=_clip(_withhold(_redact(_plain("\n".join(draft.lines))), withheld), BODY_LIMIT),
        source_system=SOURCE_SYSTEM,
        source_reference=source_reference,
    )


REFERRAL_WITHHELD = (
    "(withheld: the family has not agreed to share the referral's own words with social care)"
)


# --- decoding ---------------------------------------------------------------------------------

_KINDS = frozenset(kind.__struct_config__.tag for kind in typing.get_args(EventDetail))
_T = TypeVar("_T")


def decode(payload: Mapping[str, Any]) -> tuple[Event, CaseSummary | None]:
    """Checked before any note is written, so a message that can never map is recognised as
    such (dead-lettered with the field named) rather than retried against Mosaic."""
    if not isinstance(payload, Mapping):
        raise UnmappableMessage("payload", "expected an object with `event` and `case`")
    raw = payload.get("event")
    if raw is None:
        raise UnmappableMessage("event", "missing")
    detail = raw.get("detail") if isinstance(raw, Mapping) else None
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    if isinstance(kind, str) and kind not in _KINDS:
        raise UnmappableMessage("event.detail.type", f"no casenote for event kind {kind!r}")
    event = _convert(raw, Event, "event")
    case_raw = payload.get("case")
    case = None if case_raw is None else _convert(case_raw, CaseSummary, "case")
    _check_moment(event.at, "event.at")
    if isinstance(event.detail, ClockChanged):
        _check_moment(event.detail.due_at, "event.detail.due_at")
    return event, case


def _convert(raw: object, kind: type[_T], root: str) -> _T:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = re.search(r"`\$([^`]*)`", message)
        missing = re.search(r"missing required field `([^`]+)`", message)
        field = root + (path.group(1) if path else "") + (f".{missing[1]}" if missing else "")
        raise UnmappableMessage(field, message.split(" - at ")[0]) from exc


def _check_moment(moment: dt.datetime, field: str) -> None:
    """A time without a zone could be an hour out in summer: refuse it rather than guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UnmappableMessage(field, "a time needs its UTC offset")
    try:
        moment.astimezone(ENGLAND)
    except OverflowError as exc:
        raise UnmappableMessage(field, "out of range") from exc


# --- one function per kind of entry ----------------------------------------------------------


def case_opened(
    event: Event, detail: CaseOpened, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """The referral as Mosaic first hears of it. Only this note carries the case summary: it
    is the referrer's own account, which the worker needs to understand the request; every
    later note refers to the case by its reference instead of repeating it."""
    lead = detail.lead_team or (case.lead_team if case else None)
    routing = case.routing if case else None
    panel = routing.panel if routing else (case.panel if case else None)
    summary = case.summary if case else event.why
    enquiry = case is not None and case.kind == "cme_enquiry"
    what = (
        f"Enquiry opened into a possible child missing education, notified by "
        f"{_source(detail.source)} (Education Act 1996 s.436A)."
        if enquiry
        else f"Section 19 request received from {_source(detail.source)}, by reason of "
        f"{_REASONS.get(detail.reason, detail.reason)} (Education Act 1996 s.19)."
    )
    lines = [
        _line("What happened", what),
        _line("When", _moment(event.at)),
        _line("Recorded by", event.actor),
        _line("Why this lead", routing.reason if routing else None),
        _line("Caution", routing.caution if routing else None),
        _line("Policy", _policy(routing.rule_id, routing.policy_ref) if routing else None),
        _line("Next step", f"Considered by the {_panel(panel, pack)}" if panel else None),
        _line("Timescales", "; ".join(_opening_clocks(detail.reason, pack, enquiry)) or None),
        _line("School", f"URN {case.school_urn}" if case and case.school_urn else None),
        *_case_lines(event, case, pack, lead),
        *_block("Referral summary", summary, SUMMARY_LIMIT),
    ]
    return Draft(
        casenote_type="EDUCATION_REFERRAL",
        subject=(
            f"Children missing education enquiry opened — lead {lead or 'not yet decided'}"
            if enquiry
            else f"Section 19 request opened: {detail.reason} — lead {lead or 'not yet decided'}"
        ),
        lines=_present(lines),
        author_team=lead,
    )


def status_changed(
    event: Event, detail: StatusChanged, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """Where the case stands, with the process step that status belongs to, so a worker can
    see the move was one the policy allows."""
    after = lifecycle().statuses.get(typing.cast(Any, detail.to_status))
    following = ", ".join(_status(s) for s in after.next) if after else None
    lines = [
        _line(
            "What happened",
            f"The case moved from {_status(detail.from_status)} to {_status(detail.to_status)}.",
        ),
        _line("When", _moment(event.at)),
        _line("Changed by", event.actor),
        _line("Why", event.why),
        _line("Policy", after.cite if after else None),
        _line("Can move next to", (following or "nothing: the case is closed") if after else None),
        *_case_lines(event, case, pack),
    ]
    return Draft(
        casenote_type="STATUS_CHANGE",
        subject=f"Status changed: {_status(detail.from_status)} → {_status(detail.to_status)}",
        lines=_present(lines),
        author_team=case.lead_team if case else None,
    )


def action_recorded(
    event: Event, detail: ActionRecorded, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """An action done or scheduled. Where the pack says the action keeps a promise (it stops a
    clock) or follows from a panel outcome, the note cites that rule."""
    action = detail.action
    due = f" — due {_day(action.due_by)}" if action.due_by else ""
    lines = [
        _line("What happened", action.description),
        _line("When", _moment(event.at)),
        _line("Done by", action.actor),
        _line("Recorded by", event.actor if event.actor != action.actor else None),
        _line("Why", event.why if event.why != action.description else None),
        _line("Due", _day(action.due_by) if action.due_by else None),
        *(_line("Policy", cite) for cite in _action_cites(action.kind, pack)),
        *_case_lines(event, case, pack),
    ]
    return Draft(
        casenote_type="ACTION",
        subject=f"Action: {_words(action.kind)}{due}",
        lines=_present(lines),
        author_team=case.lead_team if case else None,
    )


def decision_recorded(
    event: Event, detail: DecisionRecorded, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """A panel outcome, or the policy's choice of lead team. A panel outcome carries the pack's
    next step and, where the outcome sets a follow-up (Lincolnshire's three-month check-in,
    003 Process step 6), the date it falls due, counted from the decision's date in England."""
    decision = detail.decision
    outcome = _outcome(decision.outcome, pack)
    lead = _routed_lead(decision.outcome, decision.rule_id, pack)
    if outcome is not None:
        subject = f"Panel decision: {_words(outcome.id)}"
        what = f"The panel decided: {_words(outcome.id)}."
    elif lead is not None:
        subject = f"Lead team decided: {lead}"
        what = f"The authority's routing rules chose the lead team: {_team(lead, pack)}."
    else:
        subject = f"Decision: {_words(decision.outcome)}"
        what = f"Decision recorded: {decision.outcome}."
    lines = [
        _line("What happened", what),
        _line("When", _moment(event.at)),
        _line("Decided by", decision.decided_by),
        _line("Why", decision.reason),
        _line("Policy", _policy(decision.rule_id, decision.policy_ref)),
        _line("Next step", _next_step(outcome, event.at) if outcome else None),
        _line("Recorded by", event.actor),
        *_case_lines(event, case, pack),
    ]
    return Draft(
        casenote_type="PANEL_DECISION",
        subject=subject,
        lines=_present(lines),
        author_team=case.lead_team if case else lead,
    )


def concern_raised(
    event: Event, detail: ConcernRaised, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """An attendance threshold crossed, the figures behind it, and what this authority's pack
    does about it (open a case, tell a lead, or only record it)."""
    routing = detail.routing
    lead = (routing.lead_team or None) if routing else None
    if detail.case_id:
        step = f"Section 19 case {detail.case_id} opened or updated; lead {_team(lead, pack)}"
    elif lead:
        step = f"The lead team is told: {_team(lead, pack)}"
    else:
        step = "Recorded only: the authority's policy sets no action for this concern"
    term = f", {detail.term} term" if detail.term else ""
    lines = [
        _line(
            "What happened",
            f"Attendance threshold crossed: {_words(detail.kind)} "
            f"({_academic_year(detail.academic_year)}{term}).",
        ),
        _line("When", _moment(event.at)),
        *_figure_lines(detail.figures),
        _line("Threshold rule", _policy(detail.rule_id, detail.policy_ref)),
        _line("Why this action", routing.reason if routing else None),
        _line("Policy", _policy(routing.rule_id, routing.policy_ref) if routing else None),
        _line("Next step", step),
        _line("Recorded by", event.actor),
        *_case_lines(event, case, pack, lead, detail.case_id),
    ]
    headline = _headline(detail.figures)
    return Draft(
        casenote_type="ATTENDANCE_CONCERN",
        subject=f"Attendance concern: {_words(detail.kind)}{headline}",
        lines=_present(lines),
        author_team=lead,
    )


def concern_resolved(
    event: Event, detail: ConcernResolved, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """The figures no longer cross the threshold: the worker sees the concern closed with the
    latest figures, so an earlier concern note is not read as still current."""
    lines = [
        _line(
            "What happened",
            f"Attendance concern cleared: {_words(detail.kind)}. The latest figures no longer "
            "cross the threshold.",
        ),
        _line("When", _moment(event.at)),
        *_figure_lines(detail.figures),
        _line("Recorded by", event.actor),
        *_case_lines(event, case, pack),
    ]
    return Draft(
        casenote_type="ATTENDANCE_CONCERN",
        subject=f"Attendance concern cleared: {_words(detail.kind)}{_headline(detail.figures)}",
        lines=_present(lines),
        author_team=case.lead_team if case else None,
    )


def clock_changed(
    event: Event, detail: ClockChanged, case: CaseSummary | None, pack: PolicyPack | None
) -> Draft:
    """A statutory timescale started, paused, resumed, met, cancelled, nearly due or breached.
    Day-based clocks fall due at the end of their last day in England, hours clocks at an exact
    moment (gateway/sla/calendars.py), and the note says which."""
    due = _due(detail.due_at)
    owner = _team(detail.owner_team, pack)
    whose = " — ".join(x for x in (_words(detail.agency or ""), owner or "") if x)
    if detail.change in ("met", "met late", "cancelled"):
        step = "None on this timescale"
    elif detail.change == "paused":
        step = "The timescale resumes when the reason for the pause ends"
    elif detail.change == "breached":
        step = f"{detail.label}: overdue since {due}"
    else:
        step = f"{detail.label}, by {due}"
    lines = [
        _line("What happened", _CLOCK_CHANGES.get(detail.change, f"Timescale {detail.change}.")),
        _line("Timescale", detail.label),
        _line("When", _moment(event.at)),
        _line("Due", due),
        _line("Whose timescale", whose or None),
        _line("Why", detail.reason or event.why),
        _line("Policy", _policy(detail.kind, detail.policy_ref or _clock_cite(detail.kind, pack))),
        _line("Next step", step),
        _line("Recorded by", event.actor),
        *_case_lines(event, case, pack),
    ]
    return Draft(
        casenote_type="STATUTORY_TIMESCALE",
        subject=f"Clock {detail.change}: {detail.label}",
        lines=_present(lines),
        author_team=detail.owner_team or (case.lead_team if case else None),
    )


# --- what the notes say, in words -------------------------------------------------------------

_REASONS = {
    "illness": "illness",
    "exclusion": "exclusion from school",
    "otherwise": "other reasons (neither illness nor exclusion)",
}
_SOURCES = {
    "school": "a school",
    "parent": "a parent or carer",
    "portal": "the Children's Services Portal",
    "attendance_feed": "an attendance feed (a threshold was crossed)",
    "health": "health services",
    "social_care": "social care",
    "la_officer": "a local authority officer",
}
_CLOCK_CHANGES = {
    "started": "A statutory timescale started.",
    "paused": "The timescale was paused; when it resumes, the due date moves on by the time "
    "paused.",
    "resumed": "The timescale resumed; the due date has moved on by the time it was paused.",
    "met": "The timescale was met on time.",
    "met late": "The timescale was met, after its due date.",
    "cancelled": "The timescale was cancelled: it no longer applies to this case.",
    "due soon": "The timescale is nearly due and not yet met.",
    "breached": "The timescale has passed its due date without being met.",
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _source(source: str) -> str:
    return _SOURCES.get(source, _words(source))


def _words(code: str) -> str:
    return code.replace("_", " ").strip()


def _status(status: str) -> str:
    words = _words(status)
    return words[:1].upper() + words[1:]


def _team(code: str | None, pack: PolicyPack | None) -> str | None:
    team = pack.teams.get(code) if pack and code else None
    return f"{code} ({team.name})" if team else code


def _panel(code: str, pack: PolicyPack | None) -> str:
    panel = pack.panels.get(code) if pack else None
    return f"{panel.name} ({code})" if panel else f"panel {code}"


def _policy(rule_id: str | None, cite: str | None) -> str | None:
    parts = [f"rule {rule_id}" if rule_id else None, cite]
    return " — ".join(p for p in parts if p) or None


def _outcome(outcome_id: str, pack: PolicyPack | None) -> Outcome | None:
    return next((o for o in pack.outcomes if o.id == outcome_id), None) if pack else None


def _routed_lead(outcome: str, rule_id: str | None, pack: PolicyPack | None) -> str | None:
    """The lead team of a routing decision ("lead PRT", gateway/cases/service.py)."""
    routes = {r.id for r in pack.routes} | {r.id for r in pack.concern_routes} if pack else set()
    if outcome.startswith("lead ") or (rule_id is not None and rule_id in routes):
        return outcome.removeprefix("lead ").strip() or None
    return None


def _next_step(outcome: Outcome, at: dt.datetime) -> str:
    if outcome.follow_up_days is None:
        return outcome.next_step
    try:
        by = at.astimezone(ENGLAND).date() + dt.timedelta(days=outcome.follow_up_days)
    except OverflowError:
        return outcome.next_step
    return f"{outcome.next_step}, by {_day(by)}"


def _opening_clocks(reason: str, pack: PolicyPack | None, enquiry: bool = False) -> list[str]:
    """The pack's timescales every case of this reason (or every CME enquiry) starts with;
    clocks that depend on other facts (an EHC plan, a permanent exclusion) get their own note
    when they start."""
    if pack is None:
        return []
    return [
        clock.label
        for clock in pack.clocks
        if "case_opened" in clock.starts_on
        and clock.when.reason in (None, reason)
        and clock.when.off_roll in (None, enquiry)
        and msgspec.structs.replace(clock.when, reason=None, off_roll=None) == Conditions()
    ]


def _action_cites(kind: str, pack: PolicyPack | None) -> list[str]:
    if pack is None:
        return []
    seed = pack.authority.seed
    cites = [f"{seed} {o.cite}" for o in pack.outcomes if o.follow_up == kind]
    cites += [
        f"meets '{c.label}' — {seed} {c.cite}"
        for c in pack.clocks
        if f"action:{kind}" in c.stops_on
    ]
    return cites


def _clock_cite(kind: str, pack: PolicyPack | None) -> str | None:
    clock = next((c for c in pack.clocks if c.id == kind), None) if pack else None
    return f"{pack.authority.seed} {clock.cite}" if pack and clock else None


def _academic_year(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def _headline(figures: Mapping[str, object]) -> str:
    rate, days, value = figures.get("rate"), figures.get("days"), figures.get("value")
    if _number(rate):
        return f" — attendance {rate:.1%}"
    if _number(days):
        return f" — {days:g} days"
    if _number(value):
        return f" — {value:g}"
    return ""


def _figure_lines(figures: Mapping[str, object]) -> list[str | None]:
    """The figures behind a concern (gateway/attendance/thresholds.py ConcernFigures), in
    words; a figure this module does not know is still shown, under its own name."""
    rate_kind = figures.get("kind") == "attendance_rate"

    def amount(value: object) -> str:
        if _number(value):
            return f"{value:.1%}" if rate_kind else f"{value:g}"
        return str(value)

    lines: list[str | None] = []
    rate = figures.get("rate")
    if _number(rate):
        attended, possible = figures.get("attended_sessions"), figures.get("possible_sessions")
        out_of = f" ({attended} of {possible} possible sessions)" if possible is not None else ""
        lines.append(_line("Attendance", f"{rate:.1%}{out_of}"))
    figure, value = figures.get("figure"), figures.get("value")
    if value is not None and not (rate_kind and _number(rate)):
        lines.append(_line("Figure", f"{amount(value)} ({_words(str(figure or 'value'))})"))
    comparison = {"<": "below", ">=": "at least"}.get(str(figures.get("comparison")), "")
    if figures.get("threshold") is not None:
        lines.append(_line("Threshold", f"{comparison} {amount(figures['threshold'])}".strip()))
    if figures.get("since") is not None:
        since = figures["since"]
        try:
            lines.append(_line("Since", _day(dt.date.fromisoformat(str(since)))))
        except ValueError:
            lines.append(_line("Since", str(since)))
    shown = {"rate", "attended_sessions", "possible_sessions", "figure", "value", "comparison"}
    shown |= {"threshold", "since", "kind", "rule", "term"}
    for key, other in figures.items():
        if key not in shown and other is not None:
            lines.append(_line(_status(key), amount(other) if key != "term" else str(other)))
    return lines


def _number(value: object) -> typing.TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- dates in England -------------------------------------------------------------------------


def _day(day: dt.date) -> str:
    """'Friday 16 January 2026': weekday and month in words, never 03/04."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _moment(at: dt.datetime) -> str:
    local = at.astimezone(ENGLAND)
    return f"{_day(local.date())}, {local:%H:%M} {local.tzname()}"


def _due(at: dt.datetime) -> str:
    """Day-based clocks are due at 23:59:59 Europe/London: 'end of day' is what that means to
    a reader; an hours clock's exact time matters and is shown."""
    local = at.astimezone(ENGLAND)
    if local.time().replace(microsecond=0) == END_OF_DAY:
        return f"{_day(local.date())}, end of day"
    return _moment(at)


# --- plain text within Mosaic's limits --------------------------------------------------------

# Characters XML 1.0 cannot carry: the SOAP call would be refused for them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Digit lookarounds, not \b: "nhs#9434765919x" and "r925200126001_A" are still numbers.
_UPN_LIKE = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]\d{11}[0-9A-Za-z](?![0-9A-Za-z])")
_NHS_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


def _line(label: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return f"{label}: {_clip(_one_line(value), LINE_LIMIT)}"


def _block(label: str, text: str | None, limit: int) -> list[str | None]:
    """Free text that keeps its own line breaks, under a heading, shortened at ``limit``."""
    if text is None or not text.strip():
        return []
    return [f"{label}:", _clip(_plain(text).strip(), limit)]


def _present(lines: list[str | None]) -> list[str]:
    return [line for line in lines if line is not None]


def _case_lines(
    event: Event,
    case: CaseSummary | None,
    pack: PolicyPack | None,
    lead: str | None = None,
    case_id: str | None = None,
) -> list[str | None]:
    return [
        _line("Case reference", case.id if case else (event.case_id or case_id)),
        _line("Lead team", _team(lead or (case.lead_team if case else None), pack)),
        _line("Case status", _status(case.status) if case else None),
    ]


def _plain(text: str) -> str:
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(_plain(text).split())


def _redact(text: str) -> str:
    def upn(match: re.Match[str]) -> str:
        return "[UPN removed]" if upn_problem(match[0].upper()) is None else match[0]

    def nhs(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match[0])
        return "[NHS number removed]" if nhs_number_problem(digits) is None else match[0]

    return _NHS_LIKE.sub(nhs, _UPN_LIKE.sub(upn, text))


def identifying_strings(child: Child) -> list[str]:
    """What identifies this child in text: names, the date of birth in the ways people write
    it, UPN and NHS number (spaced as well). Names shorter than three letters are left, since
    removing "Al" would remove it from every word."""
    found: list[str] = []
    if child.name is not None:
        for name in (child.name.given, child.name.family, child.name.preferred):
            if name and len(name) >= 3:
                found.append(name)
    born = child.date_of_birth
    if born is not None:
        found += [
            born.isoformat(),
            f"{born:%d/%m/%Y}",
            f"{born.day}/{born.month}/{born.year}",
            f"{born:%d-%m-%Y}",
            f"{born:%d.%m.%Y}",
            f"{born.day} {born:%B %Y}",
            f"{born:%d %B %Y}",
            f"{born.day} {born:%b %Y}",
        ]
    ids = child.identifiers
    if ids.upn:
        found.append(ids.upn)
    if ids.nhs_number:
        n = ids.nhs_number
        found += [n, f"{n[:3]} {n[3:6]} {n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}"]
    return sorted(set(found), key=len, reverse=True)


def _withhold(text: str, withheld: Sequence[str]) -> str:
    for value in withheld:
        text = re.sub(re.escape(value), "[withheld]", text, flags=re.IGNORECASE)
    return text


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space where one is near so no word is split,
    with an ellipsis to show text was left out."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit - 80:
        cut = cut[:space]
    return cut.rstrip() + "…"


__all__ = [
    "SOURCE_SYSTEM",
    "Attachment",
    "Casenote",
    "Draft",
    "UnmappableMessage",
    "action_recorded",
    "case_opened",
    "casenote_for",
    "clock_changed",
    "concern_raised",
    "concern_resolved",
    "decision_recorded",
    "decode",
    "status_changed",
]
