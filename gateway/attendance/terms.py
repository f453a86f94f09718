"""Academic years and terms as the DfE's absence statistics define them.

An academic year runs 1 August to 31 July and is named by the calendar year it starts in (2025
for 2025/26), as a CTF ``<Year>`` is (DOMAIN.md "The Common Transfer File"). Terms follow the
school census absence collection, DfE 'Pupil absence statistics: methodology', section 4.1,
table 6 (explore-education-statistics.service.gov.uk/methodology/pupil-absence-in-schools-in-
england): autumn 1 August-31 December, spring 1 January-Easter Sunday, summer Easter Monday-31
July. These fixed bounds make every school's figures comparable; an authority's own term dates
are a separate, later table and do not change these.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal

from dateutil.easter import easter  # type: ignore[import-untyped]

Term = Literal["autumn", "spring", "summer"]
TERMS: tuple[Term, ...] = ("autumn", "spring", "summer")


@functools.cache
def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday (dateutil's default method), the end of the spring term."""
    day: dt.date = easter(year)
    return day


def academic_year(day: dt.date) -> int:
    return day.year if day.month >= 8 else day.year - 1


def term_of(day: dt.date) -> Term:
    if day.month >= 8:
        return "autumn"
    if day <= easter_sunday(day.year):
        return "spring"
    return "summer"
