"""When to try a failed delivery again, and when to give up.

Two layers: tenacity retries a blip inside one attempt (a reset connection, a 503 for a
second); this policy spaces whole attempts out over hours with capped exponential back-off
and jitter, persisted in the outbox, so a system that is down all morning is not hammered
and a restart of the worker forgets nothing.
"""

from __future__ import annotations

import datetime as dt
import random

import msgspec


class RetryPolicy(msgspec.Struct, kw_only=True, frozen=True):
    max_attempts: int
    base_seconds: float
    cap_seconds: float
    jitter: float = 0.2

    def next_attempt(
        self, attempt: int, now: dt.datetime, rng: random.Random | None = None
    ) -> dt.datetime | None:
        """When to try after failed attempt number ``attempt``; None means dead letter."""
        if attempt >= self.max_attempts:
            return None
        delay = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return now + dt.timedelta(seconds=delay * spread)
