"""Policy packs: one authority's Section 19 rules as data (mappings/policies/<authority>.toml).

The engine (gateway/rules/engine.py) is the same for every authority; a pack says who leads
what, which panel hears it, which attendance thresholds apply and what each panel outcome
means. Every rule carries the seed file and section it comes from, so a panel can check a
decision against the policy text without reading Python.

A pack is checked when it is loaded: an unknown team or panel, a route to nowhere, a
threshold that does not exist or a value of the wrong type stops the service with a message
naming the pack's line.
"""

from __future__ import annotations

import functools
import re
import tomllib
import typing
from importlib import resources
from typing import Annotated, Any, Literal

import msgspec

from gateway.model.case import CaseReason, CaseStatus
from gateway.model.clock import Agency, CalendarKind
from gateway.model.routing import NotificationType

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{2,80}$")]
Cite = Annotated[str, msgspec.Meta(min_length=8)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
ExclusionKind = Literal["suspension", "permanent"]


class PackError(ValueError):
    """A pack that cannot be used; the message names the pack, the line and the fault."""


class Authority(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+$")]
    name: str
    seed: str
    # The DfE local authority number: how the authority names itself to other agencies.
    la_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}$")] | None = None


class Team(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: str
    cite: Cite
    # The team an EHC needs-assessment adviser's request goes to, and for an NHS team its ODS
    # code (the FHIR performer).
    adviser: Literal["health", "social_care", "education", "educational_psychology"] | None = None
    ods: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{3,10}$")] | None = None


class Panel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: str
    meets: Literal["weekly", "fortnightly", "half_termly", "monthly", "as_needed"]
    weekday: Weekday | None = None
    members: list[Code] = []
    # How often a case on provision comes back to the panel (CCAS 12 weeks, Essex 6).
    review_every_weeks: int | None = None
    # Where the policy has officers raise cases on the agenda themselves, the words that say
    # so (000 s.5, 001 1.4); a panel without it hears only what the routes send it.
    nominations: Cite | None = None
    cite: Cite


class Conditions(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """All given conditions must hold; an empty table matches every case."""

    reason: CaseReason | None = None
    ehcp: bool | None = None
    ehcp_draft: bool | None = None
    linked_to_send: bool | None = None
    exclusion: ExclusionKind | None = None
    special_school: bool | None = None
    return_to_school_pathway: bool | None = None
    looked_after: bool | None = None
    open_to_social_care: bool | None = None
    notification: NotificationType | None = None
    concern: str | None = None
    illness_days_at_least: float | None = None
    illness_consecutive: bool | None = None
    off_roll: bool | None = None
    school_days_off_roll_at_least: Annotated[int, msgspec.Meta(ge=1)] | None = None
    source: str | None = None


class Route(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: RuleId
    when: Conditions = Conditions()
    lead: Code
    panel: Code | None = None
    reason: Annotated[str, msgspec.Meta(min_length=10)]
    cite: Cite
    # What the authority says must not happen on this route (Essex 002 §13: never refer
    # directly to a provider); shown to the officer with the decision.
    caution: str | None = None


class ConcernRoute(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What an attendance concern (gateway/attendance/thresholds.py) leads to here."""

    id: RuleId
    concern: str
    action: Literal["open_case", "notify_lead", "record_only"]
    reason_code: CaseReason | None = None  # the case reason when action = open_case
    lead: Code | None = None
    panel: Code | None = None
    reason: Annotated[str, msgspec.Meta(min_length=10)]
    cite: Cite


class Outcome(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A panel outcome: the case status it leads to, and what happens next."""

    id: RuleId
    status: CaseStatus
    next_step: Annotated[str, msgspec.Meta(min_length=10)]
    follow_up_days: int | None = None  # e.g. the three-month check-in (Lincolnshire step 6)
    follow_up: str | None = None
    # A decision to assess asks these advisers for advice (Sutton 004, 3.).
    requests_advice: list[
        Literal["health", "social_care", "education", "educational_psychology"]
    ] = []
    cite: Cite


# What starts, meets or cancels a clock: "case_opened", "status:<status>",
# "decision:<outcome>", "action:<kind>", "notification:<portal type>", and
# "exclusion:issued|notified|first_day", stamped with the moments an exclusion notice reports
# (the headteacher issued it, the school submitted it, its first day).
EventToken = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(case_opened|exclusion:(issued|notified|first_day)|(status|decision|action|notification):[a-z0-9_.-]+)$"
    ),
]


class ClockRule(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A promise the policy makes, as a clock: started, met and cancelled by events."""

    id: RuleId
    label: Annotated[str, msgspec.Meta(min_length=10)]
    agency: Agency
    owner: Code | None = None
    calendar: CalendarKind
    length: Annotated[int, msgspec.Meta(ge=1)]
    starts_on: Annotated[list[EventToken], msgspec.Meta(min_length=1)]
    stops_on: list[EventToken]
    cancels_on: list[EventToken] = []
    # A recurring promise ("review meetings every six weeks"): meeting it starts the next one.
    repeats: bool = False
    when: Conditions = Conditions()
    cite: Cite


class PartTimeRegister(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An authority that asks schools to register pupils on reduced hours (Lincolnshire 003:
    "less than 25 hours' education"); the placements under ``below_hours`` are listed."""

    below_hours: Annotated[float, msgspec.Meta(gt=0, le=40)]
    cite: Cite


class PolicyPack(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    authority: Authority
    teams: dict[Code, Team]
    panels: dict[Code, Panel] = {}
    routes: list[Route]
    concern_routes: list[ConcernRoute] = []
    outcomes: list[Outcome]
    # The attendance thresholds this authority acts on (ids in attendance_thresholds.toml).
    thresholds: list[str] = []
    clocks: list[ClockRule] = []
    part_time_register: PartTimeRegister | None = None


def parse_pack(text: str, name: str, known_thresholds: set[str]) -> PolicyPack:
    """Parse and check a pack; every fault is a PackError naming ``name`` and a line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{name}: {exc}") from exc
    try:
        pack = msgspec.convert(raw, PolicyPack)
    except msgspec.ValidationError as exc:
        raise PackError(f"{name}: line {_line_of(text, raw, str(exc))}: {exc}") from exc
    problems = list(_references(pack, known_thresholds))
    if problems:
        where, message = problems[0]
        raise PackError(f"{name}: line {_find(text, where)}: {message}")
    return pack


def _references(pack: PolicyPack, known_thresholds: set[str]) -> list[tuple[str, str]]:
    """(text to find the line by, message) for every dangling reference."""
    problems: list[tuple[str, str]] = []
    teams, panels = set(pack.teams), set(pack.panels)
    for code, panel in pack.panels.items():
        for member in panel.members:
            if member not in teams:
                problems.append(
                    (f"[panels.{code}]", f"panel {code}: member {member} is not a team")
                )
    outcome_ids = {o.id for o in pack.outcomes}
    statuses = set(typing.get_args(CaseStatus))
    for clock in pack.clocks:
        for token in (*clock.starts_on, *clock.stops_on, *clock.cancels_on):
            kind, _, value = token.partition(":")
            if (kind == "decision" and value not in outcome_ids) or (
                kind == "status" and value not in statuses
            ):
                problems.append(
                    (f'id = "{clock.id}"', f"clock {clock.id}: {token} names no {kind} here")
                )
        if clock.owner is not None and clock.owner not in teams:
            problems.append(
                (f'id = "{clock.id}"', f"clock {clock.id}: owner {clock.owner} is not a team")
            )
    seen: set[str] = set()
    rules: list[Route | ConcernRoute] = [*pack.routes, *pack.concern_routes]
    for route in rules:
        anchor = f'id = "{route.id}"'
        if route.id in seen:
            problems.append((anchor, f"rule {route.id} appears twice"))
        seen.add(route.id)
        if route.lead is not None and route.lead not in teams:
            problems.append(
                (anchor, f"rule {route.id}: lead {route.lead} is not a team (a route to nowhere)")
            )
        if route.panel is not None and route.panel not in panels:
            problems.append((anchor, f"rule {route.id}: panel {route.panel} is not a panel"))
    for route in pack.concern_routes:
        anchor = f'id = "{route.id}"'
        if route.concern not in known_thresholds:
            problems.append(
                (anchor, f"rule {route.id}: concern {route.concern} is not a threshold")
            )
        if route.action == "open_case" and (route.reason_code is None or route.lead is None):
            problems.append((anchor, f"rule {route.id}: open_case needs reason_code and lead"))
    for route in pack.routes:
        if route.when.concern is not None and route.when.concern not in known_thresholds:
            problems.append(
                (
                    f'id = "{route.id}"',
                    f"rule {route.id}: concern {route.when.concern} is not a threshold",
                )
            )
    for threshold in pack.thresholds:
        if threshold not in known_thresholds:
            problems.append((f'"{threshold}"', f"threshold {threshold} does not exist"))
    if not pack.routes or pack.routes[-1].when != Conditions():
        last = f'id = "{pack.routes[-1].id}"' if pack.routes else "[[routes]]"
        problems.append((last, "the last route must match every case (an empty `when`)"))
    for outcome in pack.outcomes:
        if (outcome.follow_up is None) != (outcome.follow_up_days is None):
            problems.append(
                (
                    f'id = "{outcome.id}"',
                    f"outcome {outcome.id}: follow_up and follow_up_days go together",
                )
            )
    outcomes = [o.id for o in pack.outcomes]
    if len(set(outcomes)) != len(outcomes):
        problems.append(("[[outcomes]]", "an outcome id appears twice"))
    return problems


def _line_of(text: str, raw: dict[str, Any], message: str) -> int:
    """The line a msgspec error's path points at (`$.routes[3].lead` -> that route's lead)."""
    match = re.search(r"`\$\.([^`]*)`", message)
    if not match:
        return 1
    parts = re.findall(r"[A-Za-z_]\w*|\[\d+\]|\[\.\.\.\]", match.group(1))
    node: Any = raw
    anchor = None
    table = ""
    for part in parts:
        if part == "[...]" and isinstance(node, dict) and table in _KEYED:
            # msgspec does not say which key of a keyed table failed: find it.
            key = _failing_key(node, _KEYED[table])
            anchor = f"[{table}.{key}]"
            node = node.get(key) or {}
        elif part.startswith("[") and isinstance(node, list):
            node = node[int(part[1:-1])]
            if isinstance(node, dict) and "id" in node:
                anchor = f'id = "{node["id"]}"'
        elif isinstance(node, dict) and part in node:
            table = part
            node = node[part]
    start = _find(text, anchor) if anchor else 1
    field = parts[-1] if parts and not parts[-1].startswith("[") else None
    if field:
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(field)}\s*=")
        for number, line in enumerate(text.splitlines()[start - 1 :], start=start):
            if pattern.search(line) or f"[{field}" in line or f".{field}]" in line:
                return number
    return start


def _failing_key(table: dict[str, Any], kind: type[msgspec.Struct]) -> str:
    for key, value in table.items():
        try:
            msgspec.convert(value, kind)
        except msgspec.ValidationError:
            return key
    return next(iter(table), "")


def _find(text: str, needle: str | None) -> int:
    if needle:
        for number, line in enumerate(text.splitlines(), start=1):
            if needle in line:
                return number
    return 1


_KEYED: dict[str, type[msgspec.Struct]] = {"teams": Team, "panels": Panel}


def available_packs() -> list[str]:
    return sorted(
        p.name.removesuffix(".toml")
        for p in resources.files("mappings.policies").iterdir()
        if p.name.endswith(".toml")
    )


@functools.cache
def load_pack(authority: str) -> PolicyPack:
    from gateway.attendance.thresholds import load_thresholds

    names = available_packs()
    if authority not in names:
        raise PackError(f"no policy pack {authority!r}; available: {', '.join(names)}")
    name = f"mappings/policies/{authority}.toml"
    text = resources.files("mappings.policies").joinpath(f"{authority}.toml").read_text("utf-8")
    return parse_pack(text, name, {t.id for t in load_thresholds()})
