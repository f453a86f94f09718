"""Academic years and DfE statistics terms (gateway/attendance/terms.py): autumn 1 Aug-31 Dec,
spring 1 Jan-Easter Sunday, summer Easter Monday-31 Jul."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.attendance.terms import academic_year, easter_sunday, term_of

D = dt.date


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (D(2025, 7, 31), 2024),
        (D(2025, 8, 1), 2025),
        (D(2025, 12, 31), 2025),
        (D(2026, 7, 31), 2025),
    ],
)
def test_academic_year_is_named_by_its_start_year(day: dt.date, year: int) -> None:
    assert academic_year(day) == year


def test_easter_sundays() -> None:
    assert easter_sunday(2025) == D(2025, 4, 20)
    assert easter_sunday(2026) == D(2026, 4, 5)


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (D(2025, 8, 1), "autumn"),
        (D(2025, 12, 31), "autumn"),
        (D(2026, 1, 1), "spring"),
        (D(2025, 4, 20), "spring"),  # Easter Sunday 2025 ends the spring term
        (D(2025, 4, 21), "summer"),  # Easter Monday 2025 starts the summer term
        (D(2026, 4, 5), "spring"),  # Easter Sunday 2026
        (D(2026, 4, 6), "summer"),
        (D(2026, 4, 4), "spring"),
        (D(2026, 7, 31), "summer"),
    ],
)
def test_term_of(day: dt.date, term: str) -> None:
    assert term_of(day) == term
