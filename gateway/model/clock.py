"""Statutory clocks: a promise one agency made about a case, and whether it was kept.

A clock runs from a start event to a due moment computed on its calendar (working days,
school days, calendar days or weeks, hours); it can be paused with a reason (the exceptions the
SEND Regulations allow) and resumed, which moves the due moment by the time paused; it ends
met or cancelled. "Breached" is a running clock past its due moment; "met late" is a clock met
after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

ClockState = Literal["running", "paused", "met", "cancelled"]
CalendarKind = Literal["working_days", "school_days", "calendar_days", "calendar_weeks", "hours"]
Agency = Literal[
    "health",
    "social_care",
    "education",
    "educational_psychology",
    "local_authority",
    "school",
    "provider",
]


class Clock(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    case_id: str
    kind: str  # the clock's id in the policy pack, e.g. "lincs.s19.outcome"
    label: str  # what a board reads, e.g. "Section 19 outcome within 15 working days"
    agency: Agency
    owner_team: str | None
    calendar: CalendarKind
    length: int
    policy_ref: str
    state: ClockState
    started_at: dt.datetime
    due_at: dt.datetime
    paused_at: dt.datetime | None = None
    pause_reason: str | None = None
    met_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    due_soon_sent_at: dt.datetime | None = None
    breach_sent_at: dt.datetime | None = None

    def breached(self, now: dt.datetime) -> bool:
        if self.state == "met":
            return self.met_at is not None and self.met_at > self.due_at
        return self.state in ("running", "paused") and now > self.due_at
