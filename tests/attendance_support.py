"""Builders of attendance feeds for the tests: school days and CSV bodies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

SCHOOL = "120456"


def school_days(start: dt.date, count: int) -> list[dt.date]:
    """``count`` weekdays from ``start`` (bank holidays are not this helper's business)."""
    days: list[dt.date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def csv_feed(rows: Iterable[Sequence[str]]) -> bytes:
    lines = ["school_urn,upn,date,am,pm"]
    lines += [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def pattern_rows(
    upn: str, days: Sequence[dt.date], marks: Sequence[tuple[str, str]], school: str = SCHOOL
) -> list[tuple[str, str, str, str, str]]:
    """One row per day, cycling through ``marks`` (AM, PM) pairs."""
    return [(school, upn, day.isoformat(), *marks[i % len(marks)]) for i, day in enumerate(days)]
