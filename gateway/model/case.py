"""A Section 19 (or related) case: one request about one child, and its timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from gateway.model.child import InvalidField
from gateway.model.clock import Clock
from gateway.model.events import Event
from gateway.model.identifiers import urn_problem
from gateway.model.routing import Circumstances, RoutingDecision

# Education Act 1996 s.19(1): "by reason of illness, exclusion from school or otherwise".
CaseReason = Literal["illness", "exclusion", "otherwise"]
CaseSource = Literal[
    "school", "parent", "portal", "attendance_feed", "health", "social_care", "la_officer"
]
# Statuses and the moves between them are data: mappings/data/case_lifecycle.toml.
CaseStatus = Literal[
    "received",
    "acknowledged",
    "awaiting_panel",
    "multi_agency_meeting",
    "agreed",
    "not_agreed_at_this_time",
    "not_agreed",
    "provision_arranged",
    "closed",
]
# A Section 19 case, or an enquiry into a child missing education (Education Act 1996 s.436A)
# opened when a school deleted a pupil from its roll with no known destination (gateway/roll).
CaseKind = Literal["section19", "cme_enquiry"]
TeamCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class NewCase(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    child_id: str
    reason: CaseReason
    source: CaseSource
    summary: Summary
    # Left out, the authority's policy pack decides the lead (gateway/rules).
    lead_team: TeamCode | None = None
    school_urn: str | None = None
    circumstances: Circumstances | None = None
    # When the authority received the request, if earlier than now (a paper referral keyed
    # later, a backlog): its clocks start then (gateway/cases/receipt.py).
    received_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.school_urn is not None and (problem := urn_problem(self.school_urn)):
            raise InvalidField("school_urn", problem)


class StatusChange(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    status: CaseStatus
    reason: Summary


class Decide(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A panel's decision on a case: one of the outcomes the authority's pack defines."""

    outcome: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{1,80}$")]
    decided_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Summary


class Nominate(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An officer raises a case on a panel's agenda (000 s.5; 001 1.4 "at any time")."""

    panel: TeamCode | None = None  # left out: the pack's one panel that takes nominations
    nominated_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Summary


class CaseSummary(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    child_id: str
    reason: CaseReason
    source: CaseSource
    status: CaseStatus
    lead_team: str | None
    school_urn: str | None
    summary: str
    panel: str | None = None
    routing: RoutingDecision | None = None
    # When the authority received the request (its clocks run from here) and when the gateway
    # opened the case; the same moment unless the request reached the gateway late.
    received_at: dt.datetime
    opened_at: dt.datetime
    updated_at: dt.datetime
    kind: CaseKind = "section19"
    off_roll_since: dt.date | None = None  # an enquiry's child: off roll since this date


class Case(CaseSummary, kw_only=True, frozen=True):
    timeline: list[Event]
    # The case's statutory clocks, running and ended, with their due moments.
    clocks: list[Clock] = []


class CasePage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[CaseSummary]
    next_cursor: str | None
