"""API clients (MIS systems, NHS teams, officers' tools) and what they may do."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

# Every route declares one of these; issue-level additions extend the list.
Scope = Literal[
    "cases:read",
    "cases:write",
    "attendance:write",
    "portal:write",
    "nhs",
    "reports:read",
    "metrics",
    "admin",
]
ALL_SCOPES: tuple[Scope, ...] = (
    "cases:read",
    "cases:write",
    "attendance:write",
    "portal:write",
    "nhs",
    "reports:read",
    "metrics",
    "admin",
)


class Client(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    # Least privilege beyond scopes: an NHS team's client sees only its organisations' requests
    # (ODS codes); a school's MIS client sends feeds only for its own schools (URNs).
    organisations: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    # An alternative provision provider's client: its URN or UKPRN (the approved list's).
    providers: tuple[str, ...] = ()

    @property
    def bound(self) -> bool:
        """Bound to schools, NHS organisations or providers: it reaches only their children
        (gateway/security/reach.py). Unbound: the authority's own, authority-wide."""
        return bool(self.schools or self.organisations or self.providers)

    def active(self, now: dt.datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at
