"""Attendance concerns (mappings/data/attendance_thresholds.toml, gateway/attendance/
thresholds.py): each threshold on both sides of its boundary."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from gateway.attendance.statistics import PupilYear, TermFigures, apply_day
from gateway.attendance.thresholds import evaluate, load_thresholds, parse_thresholds
from mappings.attendance_codes import load_codes
from mappings.data import load_toml

AUTUMN_DAY = dt.date(2025, 11, 3)


def year(**figures: Any) -> PupilYear:
    return PupilYear(academic_year=2025, last_date=AUTUMN_DAY, **figures)


def rated(attended: int, possible: int = 1000) -> PupilYear:
    """A year whose year-to-date and autumn figures are both ``attended / possible``."""
    term = {"autumn": TermFigures(possible=possible, attended=attended)}
    return year(possible=possible, attended=attended, terms=term)


def crossed(state: PupilYear, *, has_ehcp: bool = False, term: Any = None) -> set[str]:
    return set(evaluate(state, has_ehcp=has_ehcp, term=term))


def test_every_threshold_is_loaded_and_cited() -> None:
    ids = {t.id for t in load_thresholds()}
    assert ids == {
        "persistent_absence",
        "severe_absence",
        "intensive_support",
        "continuous_unexplained_absence",
        "medical_threshold",
        "part_time_timetable",
        "repeat_suspension",
    }
    assert all(
        ("0" in t.cite and ".txt" in t.cite) or "DOMAIN.md" in t.cite for t in load_thresholds()
    )


def test_persistent_absence_is_strictly_below_90_percent() -> None:
    assert "persistent_absence" in crossed(rated(899))
    assert "persistent_absence" not in crossed(rated(900))
    for attended, possible in [(27, 30), (171, 190), (342, 380)]:  # exactly 90 %
        assert "persistent_absence" not in crossed(rated(attended, possible))
    assert "persistent_absence" in crossed(rated(341, 380))


def test_severe_absence_is_strictly_below_50_percent() -> None:
    assert {"severe_absence", "persistent_absence"} <= crossed(rated(499))
    assert "severe_absence" not in crossed(rated(500))


def test_intensive_support_is_below_75_percent_in_the_term() -> None:
    assert "intensive_support" in crossed(rated(749))
    assert "intensive_support" not in crossed(rated(750))


def test_intensive_support_is_below_80_percent_with_an_ehcp() -> None:
    assert "intensive_support" in crossed(rated(799), has_ehcp=True)
    assert "intensive_support" not in crossed(rated(800), has_ehcp=True)
    assert "intensive_support" not in crossed(rated(799), has_ehcp=False)


def test_intensive_support_judges_the_term_asked_for() -> None:
    state = year(
        possible=200,
        attended=190,
        terms={
            "autumn": TermFigures(possible=100, attended=100),
            "spring": TermFigures(possible=100, attended=90),
        },
    )
    assert "intensive_support" not in crossed(state)  # last date is in the autumn term
    state.terms["spring"] = TermFigures(possible=100, attended=70)
    assert "intensive_support" in crossed(state, term="spring")
    with pytest.raises(ValueError, match="unknown term"):
        evaluate(state, has_ehcp=False, term="winter")  # type: ignore[arg-type]


def test_rates_wait_for_min_possible_sessions() -> None:
    assert crossed(rated(0, 19)) == set()
    assert crossed(rated(0, 20)) == {"persistent_absence", "severe_absence", "intensive_support"}
    assert crossed(year()) == set()  # nothing possible yet: no rate at all


def test_continuous_unexplained_absence_is_10_school_days_or_more() -> None:
    assert "continuous_unexplained_absence" not in crossed(year(unexplained_run_days=9))
    figures = evaluate(
        year(unexplained_run_days=10, unexplained_run_start=dt.date(2025, 10, 20)),
        has_ehcp=False,
    )["continuous_unexplained_absence"]
    assert (figures.days, figures.since, figures.threshold) == (10.0, dt.date(2025, 10, 20), 10)


def test_medical_threshold_is_15_days_cumulative_in_half_days() -> None:
    assert "medical_threshold" not in crossed(year(illness_sessions=29))  # 14.5 days
    figures = evaluate(year(illness_sessions=30), has_ehcp=False)["medical_threshold"]
    assert (figures.sessions, figures.days, figures.value) == (30, 15.0, 15.0)


def test_medical_threshold_is_15_days_consecutive() -> None:
    # A run of school days whose only possible session was I: 15 days, 15 sessions.
    assert "medical_threshold" not in crossed(
        year(illness_sessions=14, illness_longest_run_days=14)
    )
    assert "medical_threshold" in crossed(year(illness_sessions=15, illness_longest_run_days=15))


def test_part_time_timetable_from_the_first_c2_session() -> None:
    assert "part_time_timetable" not in crossed(year())
    figures = evaluate(year(part_time_sessions=1, part_time_first_date=AUTUMN_DAY), has_ehcp=False)[
        "part_time_timetable"
    ]
    assert (figures.sessions, figures.since) == (1, AUTUMN_DAY)


def test_repeat_suspension_from_the_second_episode() -> None:
    assert "repeat_suspension" not in crossed(year(suspension_episodes=1, suspension_sessions=6))
    assert "repeat_suspension" in crossed(year(suspension_episodes=2, suspension_sessions=7))


def test_figures_carry_the_rule_and_its_policy() -> None:
    figures = evaluate(rated(880), has_ehcp=False)["persistent_absence"]
    assert figures.rule == "persistent_absence"
    assert (figures.rate, figures.threshold, figures.comparison) == (0.88, 0.9, "<")
    assert (figures.possible_sessions, figures.attended_sessions) == (1000, 880)
    assert "001_639b4268f91a7abb.txt" in figures.cite


def test_ten_unexplained_days_fed_through_apply_day_cross_the_threshold() -> None:
    codes, state = load_codes(), PupilYear(academic_year=2025)
    dates = (dt.date(2025, 9, 1) + dt.timedelta(n) for n in range(14))
    school_days = [d for d in dates if d.weekday() < 5]
    for date in school_days[:9]:
        apply_day(state, date, "N", "N", codes)
    assert "continuous_unexplained_absence" not in crossed(state)
    apply_day(state, school_days[9], "O", "G", codes)
    assert "continuous_unexplained_absence" in crossed(state)


def table_with(index: int, **changes: Any) -> dict[str, Any]:
    table = copy.deepcopy(load_toml("attendance_thresholds.toml"))
    entry = table["thresholds"][index]
    for key, value in changes.items():
        if value is None:
            del entry[key]
        else:
            entry[key] = value
    return table


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "percentage"}, "percentage"),
        ({"value": "ninety"}, "Expected `float`"),
        ({"min_possible_sessions": None}, "needs min_possible_sessions"),
        ({"value": 90}, "between 0 and 1"),
        ({"figure": "illness_days"}, "is a school_days"),
        ({"comparison": "<="}, "comparison"),
        ({"cite": ""}, "cite"),
        ({"threshold": 0.9}, "unknown field"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_thresholds(table_with(0, **changes))
    assert "thresholds[0] (persistent_absence)" in str(error.value)


def test_min_possible_sessions_is_for_rates_only_and_ids_are_unique() -> None:
    with pytest.raises(ValueError, match=r"\(medical_threshold\): min_possible_sessions"):
        parse_thresholds(table_with(4, min_possible_sessions=20))
    table = load_toml("attendance_thresholds.toml")
    table["thresholds"].append(dict(table["thresholds"][0]))
    with pytest.raises(ValueError, match="duplicate id"):
        parse_thresholds(table)
    with pytest.raises(ValueError, match="non-empty"):
        parse_thresholds({})
