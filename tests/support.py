"""Helpers shared by the tests: a clock that only moves when told, builders of valid data."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from gateway.model.child import ChildDetails, ChildIdentifiers, ChildName
from gateway.model.client import Client
from gateway.model.identifiers import UPN_ALPHABET, upn_check_letter

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class ManualClock:
    def __init__(self, at: dt.datetime = START) -> None:
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._at

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self._at += dt.timedelta(**delta)
            return self._at


def make_upn(serial: int, la: str = "925", estab: str = "2001", year: str = "26") -> str:
    body = f"{la}{estab}{year}{serial:03d}"
    return upn_check_letter(body) + body


def make_nhs_number(seed: int) -> str:
    """A valid NHS number of its own for each seed (check digit 10 is skipped within the
    seed's own block of ten)."""
    base = 900000000 + seed * 10
    while True:
        digits = f"{base:09d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return digits + str(check)
        base += 1


def child_details(serial: int = 1, **overrides: Any) -> ChildDetails:
    fields: dict[str, Any] = {
        "identifiers": ChildIdentifiers(upn=make_upn(serial), nhs_number=make_nhs_number(serial)),
        "name": ChildName(given="Amelia", family="Rowntree"),
        "date_of_birth": dt.date(2014, 3, 9),
        "home_la": "925",
        "school_urn": "120456",
    }
    fields.update(overrides)
    return ChildDetails(**fields)


def officer(name: str = "officer", client_id: str = "officer") -> Client:
    """A caller with cases:write, for tests that drive the services directly (no token)."""
    return Client(
        id=client_id,
        name=name,
        scopes=("cases:write",),
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def child_json(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifiers": {"upn": make_upn(serial), "nhs_number": make_nhs_number(serial)},
        "name": {"given": "Amelia", "family": "Rowntree"},
        "date_of_birth": "2014-03-09",
        "home_la": "925",
        "school_urn": "120456",
    }
    body.update(overrides)
    return body


__all__ = [
    "START",
    "UPN_ALPHABET",
    "ManualClock",
    "child_details",
    "child_json",
    "make_upn",
    "officer",
]
