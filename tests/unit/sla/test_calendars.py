"""Clock calendars (gateway/sla/calendars.py) against the clocks the seeds define.

Expected dates are worked out by hand from a printed calendar, not by the code under test:
003 (Lincolnshire) 5 and 15 working days, 24 hours, the sixth school day of a permanent
exclusion; 004 (Sutton) 6, 16 and 20 weeks and 15 days; 002 (Essex) minutes within five school
days; 001 (Lancashire) 3 working days. School days use the embedded representative term dates
(mappings/data/terms), e.g. 2025/26: INSET 3 Sep, half term 27-31 Oct, INSET 3 Nov.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sla.calendars import (
    ENGLAND,
    CalendarError,
    SchoolCalendar,
    add_calendar_days,
    add_hours,
    add_school_days,
    add_weeks,
    add_working_days,
    default_school_calendar,
    due_at,
    extend,
    is_school_day,
    is_working_day,
    load_school_calendar,
    school_days_between,
    working_days_between,
)

D = dt.date
UTC = dt.UTC
LONDON = dt.timezone(dt.timedelta(hours=1))  # BST as a fixed offset, for readable inputs
LOADED = "2024/25, 2025/26, 2026/27"
FIRST_LOADED, LAST_LOADED = D(2024, 8, 1), D(2027, 7, 31)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- working days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        D(2025, 12, 25),  # Christmas Day
        D(2025, 12, 26),  # Boxing Day
        D(2026, 1, 1),  # New Year's Day
        D(2026, 4, 3),  # Good Friday
        D(2026, 4, 6),  # Easter Monday
        D(2026, 5, 4),  # early May bank holiday
        D(2026, 5, 25),  # spring bank holiday
        D(2026, 8, 31),  # summer bank holiday
        D(2026, 12, 28),  # Boxing Day falls on a Saturday: the substitute Monday
        D(2026, 3, 7),  # Saturday
        D(2026, 3, 8),  # Sunday
    ],
)
def test_bank_holidays_and_weekends_are_not_working_days(day: dt.date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize("day", [D(2026, 4, 2), D(2026, 4, 7), D(2025, 12, 24), D(2026, 3, 6)])
def test_days_either_side_of_holidays_are_working_days(day: dt.date) -> None:
    assert is_working_day(day)


def test_easter_skips_good_friday_the_weekend_and_easter_monday() -> None:
    assert add_working_days(D(2026, 4, 2), 1) == D(2026, 4, 7)
    assert working_days_between(D(2026, 4, 2), D(2026, 4, 7)) == 1


def test_acknowledgement_within_five_working_days_over_christmas() -> None:
    # 003 Timescales: a request on Friday 19 December 2025; 22, 23, 24 Dec, 29, 30 Dec.
    assert add_working_days(D(2025, 12, 19), 5) == D(2025, 12, 30)


def test_outcome_within_15_working_days_over_christmas() -> None:
    # 003 Timescales: Monday 15 December 2025; 16-19 (4), 22-24 (7), 29-31 (10), 2 Jan (11),
    # 5-8 Jan (15). Due at the end of Thursday 8 January, GMT.
    assert add_working_days(D(2025, 12, 15), 15) == D(2026, 1, 8)
    assert due_at("working_days", utc(2025, 12, 15, 10), 15) == utc(2026, 1, 8, 23, 59, 59)


def test_start_day_never_counts_and_zero_is_the_start() -> None:
    # 001: "within 3 working days" of a Wednesday panel is the Monday.
    assert add_working_days(D(2026, 3, 4), 3) == D(2026, 3, 9)
    assert add_working_days(D(2026, 3, 7), 0) == D(2026, 3, 7)


# --- school days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "school_day"),
    [
        (D(2025, 9, 2), False),  # before the autumn term
        (D(2025, 9, 3), False),  # first day of term, an INSET day
        (D(2025, 9, 4), True),  # the pupils' first day
        (D(2025, 10, 24), True),  # the Friday before half term
        (D(2025, 10, 27), False),  # half term
        (D(2025, 10, 31), False),  # half term
        (D(2025, 11, 3), False),  # INSET day after half term
        (D(2025, 12, 19), True),  # last day of the autumn term
        (D(2025, 12, 22), False),  # Christmas holiday
        (D(2026, 2, 16), False),  # February half term
        (D(2026, 3, 27), True),  # last day of the spring term
        (D(2026, 4, 6), False),  # Easter Monday, in the holiday
        (D(2026, 5, 4), False),  # early May bank holiday inside the summer term
        (D(2026, 5, 5), True),
        (D(2026, 5, 26), False),  # half term, after the spring bank holiday
        (D(2026, 7, 21), True),
        (D(2026, 7, 22), False),  # last day of the year, an INSET day
        (D(2026, 8, 10), False),  # summer holiday, still a loaded academic year
        (D(2025, 9, 6), False),  # a Saturday in term
    ],
)
def test_school_days_at_term_boundaries_half_terms_and_inset_days(
    day: dt.date, school_day: bool
) -> None:
    assert is_school_day(day) is school_day


def test_sixth_school_day_of_an_exclusion_issued_the_thursday_before_half_term() -> None:
    # 003 "no later than the sixth school day": issued Thursday 23 October 2025. Friday 24 (1),
    # half term 27-31, INSET Monday 3 November, 4-7 November (2-5), Monday 10 November (6).
    assert add_school_days(D(2025, 10, 23), 6) == D(2025, 11, 10)
    issued = dt.datetime(2025, 10, 23, 14, 30, tzinfo=LONDON)
    assert due_at("school_days", issued, 6) == utc(2025, 11, 10, 23, 59, 59)


def test_minutes_within_five_school_days_across_the_summer_holiday() -> None:
    # 002: a review on Monday 20 July 2026; 21 July (1), INSET 22 July, then the next year:
    # INSET 3 Sep 2026, 4, 7, 8, 9 September (2-5).
    assert add_school_days(D(2026, 7, 20), 5) == D(2026, 9, 9)
    assert school_days_between(D(2026, 7, 20), D(2026, 9, 9)) == 5
    assert school_days_between(D(2026, 9, 9), D(2026, 7, 20)) == -5


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_each_embedded_year_has_190_pupil_days_and_says_it_is_representative(year: int) -> None:
    # Education (School Day and School Year) (England) Regulations 1999 reg. 3: 380 sessions.
    school = default_school_calendar()
    days = school.school_days_between(D(year, 8, 1), D(year + 1, 7, 31))
    assert days == 190
    data = tomllib.loads(
        resources.files("mappings.data.terms").joinpath(f"{year}.toml").read_text()
    )
    assert "Representative" in data["source"]


@pytest.mark.parametrize("day", [D(2024, 7, 31), D(2027, 8, 1), D(2030, 1, 6)])
def test_a_date_outside_the_loaded_years_is_an_error_naming_date_and_years(day: dt.date) -> None:
    with pytest.raises(CalendarError, match=rf"{day}.*\({LOADED}\)"):
        is_school_day(day)
    with pytest.raises(CalendarError, match=LOADED):
        due_at("school_days", utc(day.year, day.month, day.day, 12), 6)


def test_counting_past_the_last_loaded_year_is_an_error() -> None:
    with pytest.raises(CalendarError, match=r"school day 5 after 2027-07-20.*2026/27"):
        add_school_days(D(2027, 7, 20), 5)


# --- an authority's own term dates --------------------------------------------------------


def _year(year: int, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "academic_year": year,
        "source": "Test authority term dates",
        "terms": [
            {"name": "autumn", "start": D(year, 9, 1), "end": D(year, 12, 18)},
            {"name": "spring", "start": D(year + 1, 1, 4), "end": D(year + 1, 3, 26)},
            {"name": "summer", "start": D(year + 1, 4, 12), "end": D(year + 1, 7, 21)},
        ],
    }
    return data | changes


def test_an_authoritys_own_terms_replace_the_default() -> None:
    # No half term and no INSET days: 23 October 2025 + 6 school days is 31 October.
    own = load_school_calendar({2025: _year(2025)})
    assert own.add_school_days(D(2025, 10, 23), 6) == D(2025, 10, 31)
    assert due_at("school_days", utc(2025, 10, 23, 9), 6, own) == utc(2025, 10, 31, 23, 59, 59)
    assert own.loaded == "2025/26"


def test_term_files_load_from_a_directory(tmp_path: Path) -> None:
    source = resources.files("mappings.data.terms").joinpath("2025.toml").read_text()
    (tmp_path / "2025.toml").write_text(source)
    school = load_school_calendar(tmp_path)
    assert school.loaded == "2025/26"
    assert school.add_school_days(D(2025, 10, 23), 6) == D(2025, 11, 10)
    (tmp_path / "2026.toml").write_text(source)
    with pytest.raises(CalendarError, match=r"2026\.toml: academic_year is 2025, expected 2026"):
        load_school_calendar(tmp_path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({2024: _year(2024), 2026: _year(2026)}, "consecutive academic years"),
        ({}, "loaded: none"),
        (
            {2025: _year(2025, inset_days=[D(2025, 12, 25)])},
            "2025-12-25 is not a weekday inside a term",
        ),
        (
            {
                2025: _year(
                    2025,
                    terms=[
                        {
                            "name": "autumn",
                            "start": D(2025, 9, 1),
                            "end": D(2025, 12, 18),
                            "half_term": {"start": D(2025, 10, 27), "end": D(2025, 10, 31)},
                        }
                    ],
                    inset_days=[D(2025, 10, 27)],
                )
            },
            "falls in the autumn half term",
        ),
        (
            {
                2025: _year(
                    2025, terms=[{"name": "autumn", "start": D(2025, 7, 1), "end": D(2025, 12, 1)}]
                )
            },
            "must start after",
        ),
        ({2025: _year(2025, holidays=[])}, "unknown field"),
        (
            {2025: _year(2025, inset_days=[dt.datetime(2025, 9, 1, 9)])},
            "Expected `date`, got `datetime`",
        ),
    ],
)
def test_term_dates_that_do_not_hold_together_are_refused(
    files: dict[int, dict[str, Any]], message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        load_school_calendar(files)


# --- calendar days, weeks, hours and the due moment ---------------------------------------


def test_weeks_and_days_from_the_sutton_ehc_timetable() -> None:
    # 004: a request on Tuesday 9 September 2025; decide within 6 weeks (Tuesday 21 October,
    # BST), issue within 20 weeks (Tuesday 27 January, GMT); 15 days for representations.
    request = utc(2025, 9, 9, 10)
    assert add_weeks(D(2025, 9, 9), 16) == D(2025, 12, 30)
    assert due_at("calendar_weeks", request, 6) == utc(2025, 10, 21, 22, 59, 59)
    assert due_at("calendar_weeks", request, 20) == utc(2026, 1, 27, 23, 59, 59)
    assert add_calendar_days(D(2025, 9, 9), 15) == D(2025, 9, 24)
    assert due_at("calendar_days", request, 15) == utc(2025, 9, 24, 22, 59, 59)


def test_the_start_day_is_the_date_in_england() -> None:
    # 23:30 UTC on Monday 1 June 2026 is 00:30 on Tuesday 2 June in London.
    assert due_at("working_days", utc(2026, 6, 1, 23, 30), 5) == utc(2026, 6, 9, 22, 59, 59)
    assert due_at("working_days", utc(2026, 6, 1, 22, 30), 5) == utc(2026, 6, 8, 22, 59, 59)


def test_24_hours_are_elapsed_hours_across_the_clocks_going_forward() -> None:
    # 003 "within 24 hours": issued at noon on Saturday 28 March 2026 (GMT); the clocks go
    # forward that night, so the notice is due at 13:00 BST on Sunday, 12:00 UTC.
    issued = dt.datetime.combine(D(2026, 3, 28), dt.time(12), tzinfo=ENGLAND)
    assert due_at("hours", issued, 24) == utc(2026, 3, 29, 12)
    assert add_hours(issued, 24).tzinfo is UTC


# --- pauses -------------------------------------------------------------------------------


def test_a_pause_spanning_half_term_moves_a_school_day_clock_by_school_days() -> None:
    # A 10-school-day clock from Monday 20 October 2025 is due Tuesday 11 November (21-24 Oct,
    # 4-7 and 10-11 Nov). Paused Thursday 23 October 09:00 to Wednesday 5 November 09:00: paused
    # at the end of 23, 24 October and 4 November (3 Nov is INSET) = 3 school days, so the clock
    # moves to Friday 14 November, not by the 13 calendar days of the pause.
    due = due_at("school_days", utc(2025, 10, 20, 9), 10)
    assert due == utc(2025, 11, 11, 23, 59, 59)
    paused_from = dt.datetime(2025, 10, 23, 9, tzinfo=LONDON)
    paused_to = utc(2025, 11, 5, 9)
    assert extend(due, "school_days", paused_from, paused_to) == utc(2025, 11, 14, 23, 59, 59)
    assert extend(due, "calendar_days", paused_from, paused_to) == utc(2025, 11, 24, 23, 59, 59)
    assert extend(due, "calendar_weeks", paused_from, paused_to) == utc(2025, 11, 24, 23, 59, 59)


def test_part_days_count_when_the_clock_was_paused_at_the_end_of_the_day() -> None:
    due = utc(2026, 3, 20, 23, 59, 59)
    # Same day: nothing moves.
    assert extend(due, "working_days", utc(2026, 3, 9, 10), utc(2026, 3, 9, 16)) == due
    # Monday 10:00 to Wednesday 15:00: Monday and Tuesday, 2 working days.
    moved = extend(due, "working_days", utc(2026, 3, 9, 10), utc(2026, 3, 11, 15))
    assert moved == utc(2026, 3, 24, 23, 59, 59)


def test_an_hours_clock_moves_by_the_exact_time_paused() -> None:
    due = utc(2026, 3, 29, 12)
    paused_from = dt.datetime.combine(D(2026, 3, 28), dt.time(23), tzinfo=ENGLAND)
    paused_to = dt.datetime.combine(D(2026, 3, 29), dt.time(3), tzinfo=ENGLAND)
    # 23:00 GMT to 03:00 BST is 3 hours elapsed, though the wall clock says 4.
    assert extend(due, "hours", paused_from, paused_to) == utc(2026, 3, 29, 15)


# --- misuse -------------------------------------------------------------------------------


def test_misuse_is_refused() -> None:
    with pytest.raises(CalendarError, match="no time zone"):
        due_at("working_days", dt.datetime(2026, 3, 2, 9), 5)
    with pytest.raises(CalendarError, match="negative"):
        add_working_days(D(2026, 3, 2), -1)
    with pytest.raises(CalendarError, match="not a date"):
        is_working_day(utc(2026, 3, 2, 23))
    with pytest.raises(CalendarError, match="before it starts"):
        extend(utc(2026, 3, 9), "working_days", utc(2026, 3, 3), utc(2026, 3, 2))
    with pytest.raises(CalendarError, match="does not count in days"):
        due_at("fortnights", utc(2026, 3, 2), 1)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------


@given(st.dates(D(2015, 1, 1), D(2035, 12, 31)), st.integers(1, 60))
def test_add_working_days_lands_on_a_working_day_n_working_days_on(start: dt.date, n: int) -> None:
    due = add_working_days(start, n)
    assert is_working_day(due)
    assert working_days_between(start, due) == n
    assert working_days_between(due, start) == -n


@given(st.dates(FIRST_LOADED, LAST_LOADED), st.data())
def test_add_school_days_lands_on_a_school_day_n_school_days_on(
    start: dt.date, data: st.DataObject
) -> None:
    school: SchoolCalendar = default_school_calendar()
    remaining = school.school_days_between(start, LAST_LOADED)
    if remaining == 0:
        with pytest.raises(CalendarError):
            school.add_school_days(start, 1)
        return
    n = data.draw(st.integers(1, min(remaining, 200)))
    due = school.add_school_days(start, n)
    assert school.is_school_day(due)
    assert school.school_days_between(start, due) == n
