"""A pupil's running figures as a row of ``attendance_figures``: one column per figure of
``gateway.attendance.statistics.PupilYear``, which stays the reference implementation."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from gateway.attendance.statistics import PupilYear, TermFigures
from gateway.attendance.terms import TERMS, easter_sunday
from gateway.attendance.thresholds import Threshold, exact
from gateway.model.attendance import CodeCategory

CATEGORIES: tuple[CodeCategory, ...] = typing.get_args(CodeCategory)
# Scalar figures named as in PupilYear.
SCALARS = (
    "last_date",
    "possible",
    "attended",
    "unexplained_run_days",
    "unexplained_run_start",
    "illness_sessions",
    "illness_run_days",
    "illness_run_start",
    "illness_longest_run_days",
    "part_time_sessions",
    "part_time_first_date",
    "suspension_sessions",
    "suspension_episodes",
    "in_suspension_episode",
)


def session_column(category: CodeCategory) -> str:
    return f"{category}_sessions"


def term_column(term: str, figure: str) -> str:
    """``figure`` is possible or attended."""
    return f"{term}_{figure}"


FIGURES: tuple[str, ...] = (
    *SCALARS,
    *(session_column(c) for c in CATEGORIES),
    *(term_column(t, f) for t in TERMS for f in ("possible", "attended")),
)


def figures_row(state: PupilYear) -> dict[str, Any]:
    """The figure columns of ``state`` (not its keys, first date or time of update)."""
    row: dict[str, Any] = {name: getattr(state, name) for name in SCALARS}
    for category in CATEGORIES:
        row[session_column(category)] = state.sessions[category]
    for term in TERMS:
        row[term_column(term, "possible")] = state.terms[term].possible
        row[term_column(term, "attended")] = state.terms[term].attended
    return row


def pupil_year(row: Mapping[str, Any] | sa.RowMapping) -> PupilYear:
    """The PupilYear a figures row holds."""
    return PupilYear(
        academic_year=row["academic_year"],
        sessions={c: row[session_column(c)] for c in CATEGORIES},
        terms={
            t: TermFigures(
                possible=row[term_column(t, "possible")],
                attended=row[term_column(t, "attended")],
            )
            for t in TERMS
        },
        **{name: row[name] for name in SCALARS if name != "in_suspension_episode"},
        in_suspension_episode=bool(row["in_suspension_episode"]),
    )


# --- the same, set-based ---------------------------------------------------------------------
#
# The applier moves every pupil's figures on by a day in one UPDATE ... FROM the staged day
# (gateway/store/attendance_staging.py), and judges the thresholds as SQL predicates over the
# figures. These builders are statistics.apply_day and thresholds.evaluate written as column
# expressions; tests/integration/test_attendance_set_based.py holds them to the reference.

Expr = sa.ColumnElement[Any]
View = Mapping[str, Expr]  # figure name -> its expression (a column, or a computed value)
TERM_NUMBER = {term: n for n, term in enumerate(TERMS)}  # how the staged day names its term
_ZERO: Expr = sa.literal_column("0")
_ONE: Expr = sa.literal_column("1")


def zero_view() -> dict[str, Expr]:
    """The figures of a pupil with no day applied yet (``PupilYear(academic_year=...)``)."""
    view: dict[str, Expr] = {name: _ZERO for name in FIGURES}
    for name in ("last_date", "unexplained_run_start", "illness_run_start"):
        view[name] = sa.null()
    view["part_time_first_date"] = sa.null()
    view["in_suspension_episode"] = sa.false()
    return view


def column_view(table: sa.FromClause, *, default_zero: bool = False) -> dict[str, Expr]:
    """The figures as ``table`` holds them; ``default_zero`` reads a missing row (an outer
    join) as a pupil with no day applied."""
    view: dict[str, Expr] = {name: table.c[name] for name in FIGURES}
    if default_zero:
        for name, zero in zero_view().items():
            if not isinstance(zero, sa.Null):
                view[name] = sa.func.coalesce(table.c[name], zero)
    return view


def advanced(old: View, day: sa.FromClause) -> dict[str, Expr]:
    """``old`` moved on by the staged ``day`` (its date after ``old``'s last date): what
    ``apply_day`` does, per column. The day's counts are of its possible sessions, so they
    are 0 on a day that is not a school day, which changes no figure but the sessions by
    category and the last date."""
    d = day.c
    school_day = d.possible > 0
    row: dict[str, Expr] = {"last_date": d.date}
    for category in CATEGORIES:
        name = session_column(category)
        row[name] = old[name] + d[category]
    for name in ("possible", "attended"):
        row[name] = old[name] + d[name]
    for term, number in TERM_NUMBER.items():
        for figure in ("possible", "attended"):
            name = term_column(term, figure)
            row[name] = old[name] + sa.case((d.term == number, d[figure]), else_=_ZERO)
    for run, flag in (("unexplained", d.unexplained_day), ("illness", d.illness_day)):
        days, start = old[f"{run}_run_days"], old[f"{run}_run_start"]
        row[f"{run}_run_days"] = sa.case(
            (sa.not_(school_day), days), (flag == 1, days + _ONE), else_=_ZERO
        )
        row[f"{run}_run_start"] = sa.case(
            (sa.not_(school_day), start),
            (flag == 1, sa.case((days == 0, d.date), else_=start)),
            else_=sa.null(),
        )
    longest, running = old["illness_longest_run_days"], old["illness_run_days"]
    row["illness_longest_run_days"] = sa.case(
        (sa.and_(d.illness_day == 1, running + _ONE > longest), running + _ONE), else_=longest
    )
    row["illness_sessions"] = old["illness_sessions"] + d.illness
    row["part_time_sessions"] = old["part_time_sessions"] + d.part_time
    row["part_time_first_date"] = sa.case(
        (sa.and_(d.part_time > 0, old["part_time_first_date"].is_(None)), d.date),
        else_=old["part_time_first_date"],
    )
    in_episode = old["in_suspension_episode"]
    row["suspension_sessions"] = old["suspension_sessions"] + d.suspension
    row["suspension_episodes"] = old["suspension_episodes"] + sa.case(
        (sa.and_(d.suspension > 0, sa.not_(in_episode)), _ONE), else_=_ZERO
    )
    row["in_suspension_episode"] = sa.case(
        (sa.not_(school_day), in_episode), (d.suspension > 0, sa.true()), else_=sa.false()
    )
    return row


def term_of_date(date: Expr, academic_year: Expr, years: Iterable[int]) -> Expr:
    """``terms.term_of`` as a number (TERM_NUMBER) for dates of these academic years; the
    autumn term for no date (as ``evaluate`` judges a pupil with no day applied)."""
    easter = sa.case(
        *((academic_year == year, sa.literal(easter_sunday(year + 1), sa.Date)) for year in years),
        else_=sa.null(),
    )
    return sa.case(
        (date.is_(None), _ZERO),
        (sa.extract("month", date) >= 8, _ZERO),
        (date <= easter, _ONE),
        else_=sa.literal_column("2"),
    )


def figures_read(rule: Threshold) -> tuple[str, ...]:
    """The figure columns judging ``rule`` reads."""
    if rule.figure == "year_rate":
        return ("attended", "possible")
    if rule.figure == "term_rate":
        return tuple(term_column(t, f) for t in TERMS for f in ("attended", "possible"))
    if rule.figure == "illness_days":
        return ("illness_sessions", "illness_longest_run_days")
    return (rule.figure,)


def _reading(view: View, figure: str, term: Expr) -> tuple[Expr, Expr]:
    """A figure as (numerator, denominator), as thresholds._FIGURES measures it."""
    if figure == "year_rate":
        return view["attended"], view["possible"]
    if figure == "term_rate":
        by_term = {
            name: sa.case(
                *((term == n, view[term_column(t, name)]) for t, n in TERM_NUMBER.items())
            )
            for name in ("attended", "possible")
        }
        return by_term["attended"], by_term["possible"]
    if figure == "illness_days":
        sessions, longest = view["illness_sessions"], view["illness_longest_run_days"]
        doubled = longest * sa.literal_column("2")
        return sa.case((sessions >= doubled, sessions), else_=doubled), sa.literal_column("2")
    if figure in ("unexplained_run_days", "part_time_sessions", "suspension_episodes"):
        return view[figure], _ONE
    raise ValueError(f"no set-based reading of figure {figure!r}")


def crossed(view: View, term: Expr, rule: Threshold, value: float) -> sa.ColumnElement[bool]:
    """Whether ``view`` crosses ``rule`` at ``value`` (its value, or its value with an EHC
    plan), the term-rate judged at ``term``: thresholds.evaluate's comparison, exactly."""
    numerator, denominator = _reading(view, rule.figure, term)
    t_numerator, t_denominator = exact(value)
    left: Expr = numerator * sa.literal_column(str(t_denominator))
    right: Expr = sa.literal_column(str(t_numerator)) * denominator
    compared = left < right if rule.comparison == "<" else left >= right
    if rule.min_possible_sessions is not None:
        return sa.and_(denominator >= rule.min_possible_sessions, compared)
    return compared


def values_of(rule: Threshold) -> tuple[float, ...]:
    """The values a rule is judged at: its own, and its value with an EHC plan if it has one."""
    return (rule.value,) if rule.value_with_ehcp is None else (rule.value, rule.value_with_ehcp)
