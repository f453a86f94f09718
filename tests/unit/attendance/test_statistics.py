"""Running pupil-year statistics (gateway/attendance/statistics.py): run, episode and
part-time semantics from DOMAIN.md "Attendance" and the seeds the thresholds cite."""

from __future__ import annotations

import datetime as dt
import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.attendance.statistics import PupilYear, apply_day, attendance_rate, rebuild
from mappings.attendance_codes import load_codes

CODES = load_codes()
MONDAY = dt.date(2025, 9, 1)  # 2025/26, autumn term
Mark = tuple[dt.date, str, str]


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


def weekdays(first: int, count: int, am: str, pm: str) -> list[Mark]:
    """``count`` school days from day ``first`` (a Monday offset), skipping weekends."""
    marks: list[Mark] = []
    n = first
    while len(marks) < count:
        if day(n).weekday() < 5:
            marks.append((day(n), am, pm))
        n += 1
    return marks


def year_of(marks: list[Mark]) -> PupilYear:
    state = PupilYear(academic_year=2025)
    for date, am, pm in marks:
        apply_day(state, date, am, pm, CODES)
    return state


def test_an_unexplained_run_spans_weekends_sent_or_not() -> None:
    marks = weekdays(0, 5, "N", "O")
    marks += [(day(5), "", ""), (day(6), "#", "#")]  # Saturday sent blank, Sunday a closure
    marks += weekdays(7, 5, "G", "G")
    state = year_of(marks)
    assert (state.unexplained_run_days, state.unexplained_run_start) == (10, MONDAY)


@pytest.mark.parametrize("breaking", ["/", "\\", "U", "I", "M", "K"])
def test_any_other_possible_session_breaks_the_run(breaking: str) -> None:
    state = year_of([(day(0), "N", "N"), (day(1), "N", breaking)])
    assert (state.unexplained_run_days, state.unexplained_run_start) == (0, None)
    apply_day(state, day(2), "O", "O", CODES)
    assert (state.unexplained_run_days, state.unexplained_run_start) == (1, day(2))


def test_not_possible_days_and_sessions_neither_break_nor_extend_the_run() -> None:
    state = year_of(
        [
            (day(0), "N", "N"),
            (day(1), "Y4", "Y4"),  # site closed: not a school day
            (day(2), "N", "Y1"),  # only the AM was possible, and it was unexplained
            (day(3), "N", ""),  # no PM mark sent
        ]
    )
    assert (state.unexplained_run_days, state.unexplained_run_start) == (3, day(0))


def test_illness_is_counted_cumulatively_in_sessions_and_consecutively_in_days() -> None:
    marks = [*weekdays(0, 3, "I", "I"), (day(3), "I", "/")]  # half a day ill breaks the run
    marks += weekdays(4, 2, "I", "I")
    state = year_of(marks)
    assert state.illness_sessions == 11
    assert state.illness_days == 5.5
    assert (state.illness_run_days, state.illness_run_start) == (2, day(4))
    assert state.illness_longest_run_days == 3


def test_suspension_episodes_survive_weekends_and_end_on_a_school_day_without_e() -> None:
    marks = [(day(3), "E", "E"), (day(4), "E", "E"), (day(7), "E", "/")]  # Thu, Fri, Mon
    state = year_of(marks)
    assert (state.suspension_episodes, state.suspension_sessions) == (1, 5)
    apply_day(state, day(8), "/", "\\", CODES)
    apply_day(state, day(9), "/", "E", CODES)
    assert (state.suspension_episodes, state.suspension_sessions) == (2, 6)


def test_part_time_timetable_keeps_its_first_date() -> None:
    state = year_of([(day(0), "/", "\\"), (day(1), "/", "C2"), (day(2), "C2", "C2")])
    assert (state.part_time_sessions, state.part_time_first_date) == (3, day(1))


def test_possible_attended_and_rates_per_year_and_term() -> None:
    state = year_of([(day(0), "/", "K"), (day(1), "L", "N"), (day(2), "X", "D")])
    assert (state.possible, state.attended) == (4, 3)
    assert state.sessions == {
        "present": 2,
        "approved_education": 1,
        "authorised": 0,
        "unauthorised": 1,
        "not_possible": 2,
    }
    assert attendance_rate(state) == 0.75
    assert attendance_rate(state, "autumn") == 0.75
    assert attendance_rate(state, "spring") is None


def test_an_empty_year_has_no_rate_and_blank_marks_count_as_nothing() -> None:
    state = year_of([(day(0), "", "")])
    assert attendance_rate(state) is None
    assert state == PupilYear(academic_year=2025, last_date=day(0))


@pytest.mark.parametrize(
    ("date", "am", "message"),
    [
        (day(4), "/", "not after"),  # same date again
        (day(3), "/", "not after"),  # earlier date
        (dt.date(2026, 8, 3), "/", "outside academic year"),
        (day(5), "?", "unknown register code"),
    ],
)
def test_apply_day_refuses_and_leaves_the_state_untouched(
    date: dt.date, am: str, message: str
) -> None:
    state = year_of(weekdays(0, 5, "N", "N"))
    before = msgspec.json.encode(state)
    with pytest.raises(ValueError, match=message):
        apply_day(state, date, am, "\\", CODES)
    assert msgspec.json.encode(state) == before


def test_legacy_codes_count_by_their_mapping() -> None:
    state = year_of([(day(0), "J", "H"), (day(1), "Y", "F")])
    assert (state.possible, state.attended, state.sessions["authorised"]) == (3, 0, 3)


def test_the_state_round_trips_through_json() -> None:
    state = year_of([*weekdays(0, 12, "I", "E"), (day(20), "C2", "N")])
    raw = msgspec.json.encode(state)
    assert msgspec.json.decode(raw, type=PupilYear) == state


def test_an_old_row_missing_a_term_or_category_decodes_whole() -> None:
    # Stored array-like (compact): a shorter old row takes defaults for the fields it lacks.
    state = msgspec.json.decode(b'[2025,null,{"present":3}]', type=PupilYear)
    assert state.sessions["present"] == 3
    assert state.sessions["not_possible"] == 0
    assert state.terms["summer"].possible == 0


def test_rebuild_refuses_two_marks_for_one_date() -> None:
    with pytest.raises(ValueError, match="not after"):
        rebuild([(day(0), "/", "\\"), (day(0), "N", "N")], academic_year=2025, codes=CODES)


ALL_MARKS = [*sorted(CODES.codes), ""]
marks_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4),
        st.sampled_from(ALL_MARKS),
        st.sampled_from(ALL_MARKS),
    ),
    max_size=90,
)


@settings(max_examples=150, deadline=None)
@given(steps=marks_strategy, seed=st.integers(min_value=0, max_value=2**16))
def test_rebuild_equals_incremental_application(
    steps: list[tuple[int, str, str]], seed: int
) -> None:
    date = dt.date(2025, 7, 31)
    marks: list[Mark] = []
    for gap, am, pm in steps:
        date += dt.timedelta(days=gap)
        marks.append((date, am, pm))
    incremental = PupilYear(academic_year=2025)
    for mark in marks:  # stored and reloaded between days, as the service does
        apply_day(incremental, *mark, CODES)
        incremental = msgspec.json.decode(msgspec.json.encode(incremental), type=PupilYear)
    shuffled = marks[:]
    random.Random(seed).shuffle(shuffled)
    assert rebuild(shuffled, academic_year=2025, codes=CODES) == incremental
    counted = sum(n for cat, n in incremental.sessions.items() if cat != "not_possible")
    assert incremental.possible == counted == sum(t.possible for t in incremental.terms.values())
    assert incremental.attended == sum(t.attended for t in incremental.terms.values())
    assert incremental.illness_longest_run_days >= incremental.illness_run_days
