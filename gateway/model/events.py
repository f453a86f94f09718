"""The case timeline: append-only entries saying who did what, when and why.

Each kind of entry is its own Struct in a tagged union, so a reader (a panel officer, the
Mosaic casenote mapping) gets typed fields instead of a free-form dict.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from gateway.model.routing import RoutingDecision

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Action(
    msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True
):
    """Something a person or team did, or must do, on the case."""

    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    description: Reason
    actor: Short
    due_by: dt.date | None = None


class Decision(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A decision and where it came from: the policy rule lets a panel see why."""

    outcome: Short
    decided_by: Short
    reason: Reason
    rule_id: Short | None = None
    policy_ref: Reason | None = None


class CaseOpened(msgspec.Struct, tag="case_opened", kw_only=True, frozen=True):
    reason: str
    source: str
    lead_team: str | None = None


class StatusChanged(msgspec.Struct, tag="status_changed", kw_only=True, frozen=True):
    from_status: str
    to_status: str


class ActionRecorded(msgspec.Struct, tag="action_recorded", kw_only=True, frozen=True):
    action: Action


class DecisionRecorded(msgspec.Struct, tag="decision_recorded", kw_only=True, frozen=True):
    decision: Decision


class ConcernRaised(msgspec.Struct, tag="concern_raised", kw_only=True, frozen=True):
    """An attendance threshold crossed (gateway/attendance/thresholds.py)."""

    concern_id: str
    kind: str
    rule_id: str
    policy_ref: str
    academic_year: int
    term: str | None
    figures: dict[str, float | int | str | None]
    # What the authority's pack does with it (gateway/rules): who is told, which case opened.
    routing: RoutingDecision | None = None
    case_id: str | None = None


class ConcernResolved(msgspec.Struct, tag="concern_resolved", kw_only=True, frozen=True):
    concern_id: str
    kind: str
    figures: dict[str, float | int | str | None]


class ClockChanged(msgspec.Struct, tag="clock_changed", kw_only=True, frozen=True):
    """A statutory clock started, paused, resumed, met, cancelled, nearly due or breached."""

    clock_id: str
    kind: str
    label: str
    change: str
    due_at: dt.datetime
    reason: str | None = None
    # Whose promise it is: escalations are addressed to them (mappings/data/outbound.toml).
    agency: str | None = None
    owner_team: str | None = None
    policy_ref: str | None = None  # the seed and section the promise comes from


EventDetail = (
    CaseOpened
    | StatusChanged
    | ActionRecorded
    | DecisionRecorded
    | ConcernRaised
    | ConcernResolved
    | ClockChanged
)


class Event(msgspec.Struct, kw_only=True, frozen=True):
    """A timeline entry. Entries about a case carry its id and a per-case sequence number;
    facts about the child outside any case (an attendance concern) carry neither."""

    id: str
    child_id: str
    case_id: str | None
    seq: int | None
    at: dt.datetime
    actor: str
    summary: str
    why: str | None
    detail: EventDetail
