"""What routing decided for a case: who leads, which panel hears it, and why."""

from __future__ import annotations

from typing import Literal

import msgspec


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
    record does not hold (003 Process step 3; 000 EHCP auto-forward)."""

    linked_to_send: bool = False
    exclusion: Literal["suspension", "permanent"] | None = None
    special_school: bool = False
    return_to_school_pathway: bool = False
    open_to_social_care: bool = False
    illness_days: float | None = None
