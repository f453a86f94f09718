"""Which attendance concerns a pupil's running year has crossed, per
mappings/data/attendance_thresholds.toml (each entry cites its seed file and section).

"Crossed" is exact: figures and thresholds are compared as fractions, so ``<`` 90 % means
strictly below (90.0 % has not crossed it) and ``>=`` 10 days means 10 or more. Rate thresholds
are not judged before ``min_possible_sessions`` possible sessions (a gateway choice, see the
toml). ``evaluate`` reports what is crossed *now*; raising a concern once per crossing is the
caller's job (compare with the concerns already open).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import typing
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal, NamedTuple

import msgspec

from gateway.attendance.statistics import PupilYear
from gateway.attendance.terms import TERMS, Term, term_of
from mappings.data import load_toml

ThresholdKind = Literal["attendance_rate", "school_days", "sessions", "episodes"]
Figure = Literal[
    "year_rate",
    "term_rate",
    "unexplained_run_days",
    "illness_days",
    "part_time_sessions",
    "suspension_episodes",
]
Comparison = Literal["<", ">="]


class Threshold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One [[thresholds]] entry; the toml's header comment explains each field."""

    id: typing.Annotated[str, msgspec.Meta(min_length=1)]
    kind: ThresholdKind
    figure: Figure
    comparison: Comparison
    value: float
    value_with_ehcp: float | None = None
    min_possible_sessions: int | None = None
    cite: typing.Annotated[str, msgspec.Meta(min_length=1)]


class ConcernFigures(msgspec.Struct, frozen=True, kw_only=True):
    """The figures that crossed one threshold, with the rule and the policy it came from."""

    rule: str
    kind: ThresholdKind
    figure: Figure
    comparison: Comparison
    threshold: float
    value: float
    cite: str
    term: Term | None = None  # the term judged (term_rate)
    rate: float | None = None  # attended / possible
    possible_sessions: int | None = None
    attended_sessions: int | None = None
    sessions: int | None = None  # the sessions behind a count: I, C2 or E
    days: float | None = None  # school days (runs) or illness days
    since: dt.date | None = None  # start of the current run, or the first C2 date


_Exact = tuple[int, int]  # numerator, denominator: figures are compared exactly


def _year_rate(state: PupilYear, term: Term) -> _Exact | None:
    return (state.attended, state.possible) if state.possible else None


def _term_rate(state: PupilYear, term: Term) -> _Exact | None:
    figures = state.terms[term]
    return (figures.attended, figures.possible) if figures.possible else None


def _illness_half_days(state: PupilYear) -> int:
    # Consecutive or cumulative (002 para 11, 003): the larger of the two, in half-days.
    return max(state.illness_sessions, 2 * state.illness_longest_run_days)


def _rate_details(attended: int, possible: int) -> dict[str, Any]:
    return {
        "rate": attended / possible,
        "possible_sessions": possible,
        "attended_sessions": attended,
    }


class _Figure(NamedTuple):
    """How to read a figure (cheap: runs for every pupil) and, once it has crossed a
    threshold, the evidence reported beside it."""

    kind: ThresholdKind
    measure: Callable[[PupilYear, Term], _Exact | None]
    details: Callable[[PupilYear, Term], dict[str, Any]]


_FIGURES: dict[Figure, _Figure] = {
    "year_rate": _Figure(
        "attendance_rate",
        _year_rate,
        lambda state, term: _rate_details(state.attended, state.possible),
    ),
    "term_rate": _Figure(
        "attendance_rate",
        _term_rate,
        lambda state, term: (
            _rate_details(state.terms[term].attended, state.terms[term].possible) | {"term": term}
        ),
    ),
    "unexplained_run_days": _Figure(
        "school_days",
        lambda state, term: (state.unexplained_run_days, 1),
        lambda state, term: {
            "days": float(state.unexplained_run_days),
            "since": state.unexplained_run_start,
        },
    ),
    "illness_days": _Figure(
        "school_days",
        lambda state, term: (_illness_half_days(state), 2),
        lambda state, term: {
            "sessions": state.illness_sessions,
            "days": _illness_half_days(state) / 2,
            "since": state.illness_run_start,
        },
    ),
    "part_time_sessions": _Figure(
        "sessions",
        lambda state, term: (state.part_time_sessions, 1),
        lambda state, term: {
            "sessions": state.part_time_sessions,
            "since": state.part_time_first_date,
        },
    ),
    "suspension_episodes": _Figure(
        "episodes",
        lambda state, term: (state.suspension_episodes, 1),
        lambda state, term: {"sessions": state.suspension_sessions},
    ),
}
_COMPARE: dict[Comparison, Callable[[int, int], bool]] = {"<": operator.lt, ">=": operator.ge}


def _check(entry: Threshold) -> None:
    kind = _FIGURES[entry.figure].kind
    if kind != entry.kind:
        raise ValueError(f"figure {entry.figure} is a {kind}, not a {entry.kind}")
    values = [v for v in (entry.value, entry.value_with_ehcp) if v is not None]
    if any(v < 0 for v in values):
        raise ValueError("threshold values cannot be negative")
    if entry.kind == "attendance_rate":
        if any(v > 1 for v in values):
            raise ValueError("a rate threshold is a fraction between 0 and 1 (0.90 = 90 %)")
        if entry.min_possible_sessions is None or entry.min_possible_sessions < 1:
            raise ValueError("a rate threshold needs min_possible_sessions of at least 1")
    elif entry.min_possible_sessions is not None:
        raise ValueError("min_possible_sessions applies to attendance_rate thresholds only")


def parse_thresholds(table: Mapping[str, Any]) -> tuple[Threshold, ...]:
    """Validate the toml table; any bad entry raises ValueError naming it."""
    entries = table.get("thresholds")
    if not isinstance(entries, list) or not entries:
        raise ValueError("attendance thresholds: expected a non-empty [[thresholds]] list")
    parsed: dict[str, Threshold] = {}
    for index, raw in enumerate(entries):
        name = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"attendance thresholds[{index}] ({name})"
        try:
            entry = msgspec.convert(raw, Threshold)
            _check(entry)
        except (msgspec.ValidationError, ValueError) as error:
            raise ValueError(f"{where}: {error}") from error
        if entry.id in parsed:
            raise ValueError(f"{where}: duplicate id")
        parsed[entry.id] = entry
    return tuple(parsed.values())


@functools.cache
def load_thresholds() -> tuple[Threshold, ...]:
    return parse_thresholds(load_toml("attendance_thresholds.toml"))


@functools.cache
def exact(value: float) -> tuple[int, int]:
    # Via str so 0.9 from the toml is exactly 9/10, not the nearest binary float.
    fraction = Fraction(str(value))
    return fraction.numerator, fraction.denominator


def evaluate(
    state: PupilYear,
    *,
    has_ehcp: bool,
    term: Term | None = None,
    thresholds: Sequence[Threshold] | None = None,
) -> dict[str, ConcernFigures]:
    """The concerns ``state`` crosses now, by threshold id.

    ``term`` is the term judged by term-rate thresholds; None means the term of the last date
    applied. ``thresholds`` defaults to the toml table (a policy pack may pass its own subset).
    """
    if term is None:
        term = term_of(state.last_date) if state.last_date is not None else TERMS[0]
    elif term not in TERMS:
        raise ValueError(f"unknown term {term!r}; expected one of {TERMS}")
    crossed: dict[str, ConcernFigures] = {}
    for rule in load_thresholds() if thresholds is None else thresholds:
        figure = _FIGURES[rule.figure]
        reading = figure.measure(state, term)
        if reading is None:
            continue
        numerator, denominator = reading
        guard = rule.min_possible_sessions  # rates only; their denominator is possible sessions
        if guard is not None and denominator < guard:
            continue
        value = (
            rule.value_with_ehcp if has_ehcp and rule.value_with_ehcp is not None else rule.value
        )
        t_numerator, t_denominator = exact(value)
        if _COMPARE[rule.comparison](numerator * t_denominator, t_numerator * denominator):
            crossed[rule.id] = ConcernFigures(
                rule=rule.id,
                kind=rule.kind,
                figure=rule.figure,
                comparison=rule.comparison,
                threshold=value,
                value=numerator / denominator,
                cite=rule.cite,
                **figure.details(state, term),
            )
    return crossed
