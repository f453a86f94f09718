"""Time as a port, so tests can move it (the one thing the suite is allowed to fake)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """Opaque identifiers: random, so they leak neither counts nor order."""
    return str(uuid.uuid4())
