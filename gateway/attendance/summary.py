"""A child's attendance as the API shows it: the running figures per academic year."""

from __future__ import annotations

import datetime as dt

import msgspec

from gateway.attendance.statistics import PupilYear, attendance_rate
from gateway.attendance.terms import TERMS


class TermSummary(msgspec.Struct, kw_only=True, frozen=True):
    possible: int
    attended: int
    rate: float | None


class YearSummary(msgspec.Struct, kw_only=True, frozen=True):
    academic_year: int
    school_urn: str
    last_date: dt.date | None
    attendance_rate: float | None
    possible_sessions: int
    attended_sessions: int
    sessions_by_category: dict[str, int]
    terms: dict[str, TermSummary]
    unexplained_absence_run_days: int
    unexplained_absence_run_start: dt.date | None
    illness_days: float
    illness_run_days: int
    illness_longest_run_days: int
    part_time_sessions: int
    part_time_first_date: dt.date | None
    suspension_sessions: int
    suspension_episodes: int


class AttendanceSummary(msgspec.Struct, kw_only=True, frozen=True):
    child_id: str
    years: list[YearSummary]


def summarise(state: PupilYear, school_urn: str) -> YearSummary:
    return YearSummary(
        academic_year=state.academic_year,
        school_urn=school_urn,
        last_date=state.last_date,
        attendance_rate=_round(attendance_rate(state)),
        possible_sessions=state.possible,
        attended_sessions=state.attended,
        sessions_by_category={str(k): v for k, v in state.sessions.items()},
        terms={
            term: TermSummary(
                possible=state.terms[term].possible,
                attended=state.terms[term].attended,
                rate=_round(attendance_rate(state, term)),
            )
            for term in TERMS
        },
        unexplained_absence_run_days=state.unexplained_run_days,
        unexplained_absence_run_start=state.unexplained_run_start,
        illness_days=state.illness_days,
        illness_run_days=state.illness_run_days,
        illness_longest_run_days=state.illness_longest_run_days,
        part_time_sessions=state.part_time_sessions,
        part_time_first_date=state.part_time_first_date,
        suspension_sessions=state.suspension_sessions,
        suspension_episodes=state.suspension_episodes,
    )


def _round(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)
