"""One pupil's running attendance statistics for one academic year.

A daily feed brings one new day per pupil, so the figures the thresholds need (DOMAIN.md
"Attendance"; mappings/data/attendance_thresholds.toml) are kept as running totals updated one
school day at a time, stored one row per pupil and year with a column per figure
(attendance_figures; gateway/store/attendance_figures.py). This module is the reference the
applier's set-based SQL must agree with (gateway/intake/feed_apply.py). Days must arrive
in date order: ``apply_day`` refuses a date on or before the last one applied, and a correction
(a mark changed for a past date) goes through ``rebuild`` over the year's marks, so running
state is never silently wrong.

Definitions (each used by a threshold):

- possible / attended: a session counts as possible unless its code is ``not_possible``;
  attended = present + approved_education (DOMAIN.md table). Per term, the DfE statistics
  terms (gateway.attendance.terms).
- school day: a date with at least one possible session. Weekends, closures (``#``, ``Y4``),
  days that are wholly ``not_possible`` and dates never sent are not school days: they neither
  extend nor break a run.
- unexplained run: consecutive school days on which every possible session carries an
  ``unexplained`` code (G N O), for the duty to tell the LA about 10 continuous school days
  absent without authorisation (DOMAIN.md). Any other possible session (U included: the pupil
  was in school) breaks it.
- illness run: the same with ``illness`` (I), for the 15-day medical threshold, "consecutive or
  cumulative" (Essex 002 paras 9 and 11; Lincolnshire 003 "Attendance and definitions").
  Illness is kept in sessions; days = sessions / 2, so 29 sessions is 14.5 days, not 15.
- suspension episode: a maximal run of school days each with an ``suspension`` (E) session;
  a school day without one ends it, a non-school day does not (Lancashire 001 section 3.1
  counts exclusions, not sessions).
- part-time timetable: C2 sessions and the first date one was seen (DOMAIN.md: schools must
  tell the LA about pupils on part-time timetables).

An empty mark means none was sent for that session and counts as nothing.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable

import msgspec

from gateway.attendance.terms import TERMS, Term, term_of
from gateway.model.attendance import CodeCategory
from mappings.attendance_codes import CodeTable

_CATEGORIES: tuple[CodeCategory, ...] = typing.get_args(CodeCategory)


class TermFigures(msgspec.Struct, kw_only=True, gc=False, array_like=True):
    possible: int = 0
    attended: int = 0


def _zero_sessions() -> dict[CodeCategory, int]:
    return dict.fromkeys(_CATEGORIES, 0)


def _zero_terms() -> dict[Term, TermFigures]:
    return {term: TermFigures() for term in TERMS}


class PupilYear(msgspec.Struct, kw_only=True, gc=False, array_like=True):
    """Running figures for one pupil in one academic year (named by its start year).

    Encoded array-like (as the figures were stored before migration 0018): new fields go at
    the end, with defaults, and get a column of attendance_figures."""

    academic_year: int
    last_date: dt.date | None = None
    sessions: dict[CodeCategory, int] = msgspec.field(default_factory=_zero_sessions)
    possible: int = 0
    attended: int = 0
    terms: dict[Term, TermFigures] = msgspec.field(default_factory=_zero_terms)
    unexplained_run_days: int = 0
    unexplained_run_start: dt.date | None = None
    illness_sessions: int = 0
    illness_run_days: int = 0
    illness_run_start: dt.date | None = None
    illness_longest_run_days: int = 0
    part_time_sessions: int = 0
    part_time_first_date: dt.date | None = None
    suspension_sessions: int = 0
    suspension_episodes: int = 0
    in_suspension_episode: bool = False

    def __post_init__(self) -> None:
        # A row stored before a category or term existed still decodes into a full state.
        for category in _CATEGORIES:
            self.sessions.setdefault(category, 0)
        for term in TERMS:
            self.terms.setdefault(term, TermFigures())

    @property
    def illness_days(self) -> float:
        return self.illness_sessions / 2


def apply_day(
    state: PupilYear, date: dt.date, am_code: str, pm_code: str, codes: CodeTable
) -> None:
    """Add one date's two marks to ``state``; raises ValueError (state unchanged) for a date
    not after ``state.last_date``, outside the academic year, or an unknown code."""
    last = state.last_date
    if last is not None and date <= last:
        raise ValueError(f"{date} is not after {last}, the last date applied: rebuild the year")
    if (date.year if date.month >= 8 else date.year - 1) != state.academic_year:
        raise ValueError(f"{date} is outside academic year {state.academic_year}")
    lookup = codes.codes
    am = lookup.get(am_code)
    pm = lookup.get(pm_code)
    if (am is None and am_code) or (pm is None and pm_code):
        raise ValueError(f"{date}: unknown register code in am={am_code!r} pm={pm_code!r}")
    state.last_date = date
    # Count the day in locals, then touch the state once per figure: this runs for every
    # pupil-day of every feed, so the common (present, present) day stays short.
    possible = attended = unexplained = illness = suspension = part_time = 0
    sessions = state.sessions
    for info in (am, pm):
        if info is not None:
            sessions[info.category] += 1
            if info.possible:
                possible += 1
                attended += info.attended
                unexplained += info.unexplained
                illness += info.illness
                suspension += info.suspension
                part_time += info.part_time
    if not possible:
        return  # not a school day: no figure or run changes
    figures = state.terms[term_of(date)]
    state.possible += possible
    figures.possible += possible
    if attended:
        state.attended += attended
        figures.attended += attended
    if unexplained == possible:
        if not state.unexplained_run_days:
            state.unexplained_run_start = date
        state.unexplained_run_days += 1
    elif state.unexplained_run_days:
        state.unexplained_run_days = 0
        state.unexplained_run_start = None
    if illness:
        state.illness_sessions += illness
    if illness == possible:
        if not state.illness_run_days:
            state.illness_run_start = date
        state.illness_run_days += 1
        if state.illness_run_days > state.illness_longest_run_days:
            state.illness_longest_run_days = state.illness_run_days
    elif state.illness_run_days:
        state.illness_run_days = 0
        state.illness_run_start = None
    if suspension:
        state.suspension_sessions += suspension
        if not state.in_suspension_episode:
            state.suspension_episodes += 1
            state.in_suspension_episode = True
    elif state.in_suspension_episode:
        state.in_suspension_episode = False
    if part_time:
        state.part_time_sessions += part_time
        if state.part_time_first_date is None:
            state.part_time_first_date = date


def rebuild(
    marks: Iterable[tuple[dt.date, str, str]], *, academic_year: int, codes: CodeTable
) -> PupilYear:
    """The correction path: the year recomputed from all its marks, in date order. Two marks
    for one date raise ValueError, as ``apply_day`` would."""
    state = PupilYear(academic_year=academic_year)
    for date, am_code, pm_code in sorted(marks, key=lambda mark: mark[0]):
        apply_day(state, date, am_code, pm_code, codes)
    return state


def attendance_rate(state: PupilYear, term: Term | None = None) -> float | None:
    """Attended / possible for the year or one term; None when nothing was possible."""
    figures = state.terms[term] if term is not None else state
    if not figures.possible:
        return None
    return figures.attended / figures.possible
