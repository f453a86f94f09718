"""What routing decided for a case: who leads, which panel hears it, and why."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

# Notification types of the Children's Services Portal (Worcestershire 000; contracts/portal).
NotificationType = Literal[
    "irregular_attendance",
    "continuous_absence",
    "illness",
    "suspension",
    "permanent_exclusion",
    "part_time_timetable",
    "section19_request",
    "ehcp_unable_to_attend",
    "deletion_from_roll",
]


class RoutingDecision(msgspec.Struct, kw_only=True, frozen=True):
    lead_team: str
    panel: str | None
    rule_id: str
    policy_ref: str
    reason: str
    authority: str
    caution: str | None = None


class Circumstances(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the requester says about the child's situation that routing needs and the child
    record does not hold (003 Process step 3; 000 EHCP auto-forward). Every fact a pack's
    rules read can be given here as well as through the portal (gateway/rules/facts.py)."""

    linked_to_send: bool = False
    exclusion: Literal["suspension", "permanent"] | None = None
    special_school: bool = False
    return_to_school_pathway: bool = False
    open_to_social_care: bool = False
    illness_days: Annotated[float, msgspec.Meta(ge=0, le=400)] | None = None
    # Whether those days were one run or added up (002 "15 school days ... consecutive or
    # cumulative"); None when not said.
    illness_consecutive: bool | None = None
    # 000 s.5: "when the decision to issue a draft EHCP has been made", before any draft exists.
    ehcp_draft_decision: bool = False
    # The portal type of a notice that reached the authority some other way (an email to the
    # CCAS inbox, a paper form), so the pack routes it as the portal would.
    notification: NotificationType | None = None
    # The attendance concern (mappings/data/attendance_thresholds.toml) the case follows from.
    concern: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")] | None = None
    # Not on any school's roll, and for how many school days (a deletion return is the usual
    # door: POST /api/v1/roll/deletions).
    off_roll: bool = False
    school_days_off_roll: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None
