"""The demo's clock: the one thing the demo simulates.

Everything else in a demo run is real (the HTTP API, the store, the SOAP and FHIR exchanges,
the worker), but a fortnight of school days cannot be waited for. So the store, the worker and
the simulators all read this clock (``gateway.clock.Clock``), and the script moves it: to a
moment of a school day in England, never backwards, as the days of the script go by. When the
script is done it lets the clock run on in real time from where it stopped, so whatever a
visitor does with the served gateway afterwards is stamped just after the fortnight.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo

ENGLAND = zoneinfo.ZoneInfo("Europe/London")


def in_england(day: dt.date, at: dt.time) -> dt.datetime:
    """``at`` on ``day`` as a wall clock in England shows it, as an aware UTC moment."""
    return dt.datetime.combine(day, at, tzinfo=ENGLAND).astimezone(dt.UTC)


class DemoClock:
    """A clock the script sets; thread-safe, as the API answers on its own threads."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the demo clock starts at an aware moment")
        self._at = start.astimezone(dt.UTC)
        self._running_since: float | None = None
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            if self._running_since is None:
                return self._at
            return self._at + dt.timedelta(seconds=time.monotonic() - self._running_since)

    def set(self, at: dt.datetime) -> None:
        """Move to ``at``. Never backwards: clocks, deliveries and the timeline all assume
        that time only goes forward, as it does for a real deployment."""
        with self._lock:
            if self._running_since is not None:
                raise RuntimeError("the clock is running on in real time; it is no longer set")
            moment = at.astimezone(dt.UTC)
            if moment < self._at:
                raise ValueError(f"the demo clock cannot go back from {self._at} to {moment}")
            self._at = moment

    def set_in_england(self, day: dt.date, at: dt.time) -> None:
        self.set(in_england(day, at))

    def run_on(self) -> None:
        """From now on, move with real time from the moment last set."""
        with self._lock:
            if self._running_since is None:
                self._running_since = time.monotonic()


__all__ = ["ENGLAND", "DemoClock", "in_england"]
