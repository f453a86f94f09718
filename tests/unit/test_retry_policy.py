from __future__ import annotations

import datetime as dt
import random

from gateway.delivery.retry_policy import RetryPolicy
from tests.support import START


def test_back_off_doubles_to_the_cap_then_gives_up() -> None:
    policy = RetryPolicy(max_attempts=6, base_seconds=30, cap_seconds=120, jitter=0)
    delays = [policy.next_attempt(n, START) for n in range(1, 7)]
    assert [(d - START).total_seconds() for d in delays[:5] if d] == [30, 60, 120, 120, 120]
    assert delays[5] is None


def test_jitter_stays_within_its_band() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=100, cap_seconds=1000, jitter=0.2)
    rng = random.Random(7)
    for _ in range(200):
        at = policy.next_attempt(1, START, rng)
        assert at is not None
        assert dt.timedelta(seconds=80) <= at - START <= dt.timedelta(seconds=120)
