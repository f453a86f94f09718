"""A pupil's running figures as a row of ``attendance_figures``: one column per figure of
``gateway.attendance.statistics.PupilYear``, which stays the reference implementation."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gateway.attendance.statistics import PupilYear, TermFigures
from gateway.attendance.terms import TERMS
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
