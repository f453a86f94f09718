"""SLA figures for partnership boards: how many statutory promises were kept, per agency.

Boards compare agencies, so every figure is counted the same way for each; the rendered
report prints these rules under "How these figures are counted" (``sla_render``):

* A clock is in the period when the UTC calendar date of ``started_at`` falls in
  [start, end], both ends inclusive. UTC, not local time, so a report never depends on the
  server's zone (naive datetimes are read as UTC, as the store writes them).
* met on time: state "met" and ``met_at <= due_at``; met late: state "met" and after it.
* open overdue: "running" or "paused" and ``due_at < now``; open within time: otherwise open.
  A paused clock counts by its stored ``due_at``, as ``Clock.breached`` does.
* compliance % = on time / (on time + late + open overdue); cancelled and open-within-time
  clocks are not yet decided either way, so they are left out. None when nothing is decided.
* days to meet = elapsed time from ``started_at`` to ``met_at`` in days (86,400 s), median
  and 90th percentile over met clocks (on time and late), rounded to one decimal at the end.
  The 90th percentile is ``statistics.quantiles(n=10, method="inclusive")``: linear
  interpolation between the sorted values at position 0.9 x (count - 1), so it never lies
  outside the observed range; a single value is its own percentile.

Case ids never leave this module: a breach names its case by ``case_pseudonym``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Literal, TypeVar

import msgspec

from gateway.model.clock import Agency, Clock

Outcome = Literal["met_on_time", "met_late", "open_overdue", "open_within_time", "cancelled"]
K = TypeVar("K", bound=Hashable)
_DAY = 86_400.0


class Figures(msgspec.Struct, kw_only=True, frozen=True):
    """Counts and timings for one group of clocks (an agency, a kind, or everything)."""

    opened: int
    met_on_time: int
    met_late: int
    open_overdue: int
    open_within_time: int
    cancelled: int
    median_days_to_meet: float | None
    p90_days_to_meet: float | None
    compliance_pct: float | None


class KindFigures(msgspec.Struct, kw_only=True, frozen=True):
    kind: str
    label: str
    figures: Figures


class AgencyFigures(msgspec.Struct, kw_only=True, frozen=True):
    agency: Agency
    total: Figures
    kinds: tuple[KindFigures, ...]


class MonthFigures(msgspec.Struct, kw_only=True, frozen=True):
    month: str  # "YYYY-MM", the month clocks started in
    opened: int
    met_on_time: int
    met_late: int
    open_overdue: int


class Breach(msgspec.Struct, kw_only=True, frozen=True):
    case_ref: str
    kind: str
    label: str
    agency: Agency
    started: dt.datetime
    due: dt.datetime
    met: dt.datetime | None
    days_late: float  # to ``met``, or to the report's ``now`` for a clock still open


class SlaReport(msgspec.Struct, kw_only=True, frozen=True):
    start: dt.date
    end: dt.date
    now: dt.datetime
    total: Figures
    agencies: tuple[AgencyFigures, ...]
    trend: tuple[MonthFigures, ...]
    breaches: tuple[Breach, ...]


def case_pseudonym(case_id: str) -> str:
    """First 8 hex characters of SHA-256 of the case id: stable across reports, so a board
    can follow one case's breaches without seeing a name or an id. Pseudonymised, not
    anonymised: whoever holds the gateway's case ids can link a reference back to its case."""
    return hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:8]


def sla_figures(
    clocks: Sequence[Clock], *, start: dt.date, end: dt.date, now: dt.datetime
) -> SlaReport:
    """The board's SLA report for clocks started from ``start`` to ``end`` inclusive."""
    if start > end:
        raise ValueError("the period's start is after its end")
    now = _utc(now)
    chosen = [c for c in clocks if start <= _utc(c.started_at).date() <= end]
    chosen.sort(key=lambda c: (c.agency, c.kind, c.label, _utc(c.started_at), c.id))
    agencies = tuple(
        AgencyFigures(
            agency=agency,
            total=_figures(group, now),
            kinds=tuple(
                KindFigures(kind=kind, label=label, figures=_figures(of_kind, now))
                for (kind, label), of_kind in _grouped(group, lambda c: (c.kind, c.label))
            ),
        )
        for agency, group in _grouped(chosen, lambda c: c.agency)
    )
    return SlaReport(
        start=start,
        end=end,
        now=now,
        total=_figures(chosen, now),
        agencies=agencies,
        trend=_trend(chosen, start, end, now),
        breaches=_breaches(chosen, now),
    )


def outcome(clock: Clock, now: dt.datetime) -> Outcome:
    """Where one clock counts in the figures (see the module docstring)."""
    if clock.state == "cancelled":
        return "cancelled"
    if clock.state == "met":
        if clock.met_at is None:
            raise ValueError(f"clock {clock.id} is met but has no met_at")
        return "met_on_time" if _utc(clock.met_at) <= _utc(clock.due_at) else "met_late"
    return "open_overdue" if _utc(clock.due_at) < _utc(now) else "open_within_time"


def _figures(clocks: Sequence[Clock], now: dt.datetime) -> Figures:
    counts = Counter(outcome(clock, now) for clock in clocks)
    days = [
        _days(clock.started_at, clock.met_at)
        for clock in clocks
        if clock.state == "met" and clock.met_at is not None
    ]
    on_time = counts["met_on_time"]
    decided = on_time + counts["met_late"] + counts["open_overdue"]
    return Figures(
        opened=len(clocks),
        met_on_time=on_time,
        met_late=counts["met_late"],
        open_overdue=counts["open_overdue"],
        open_within_time=counts["open_within_time"],
        cancelled=counts["cancelled"],
        median_days_to_meet=round(statistics.median(days), 1) if days else None,
        p90_days_to_meet=_p90(days),
        compliance_pct=round(100 * on_time / decided, 1) if decided else None,
    )


def _p90(days: list[float]) -> float | None:
    if not days:
        return None
    if len(days) == 1:  # statistics.quantiles needs two points before Python 3.13
        return round(days[0], 1)
    return round(statistics.quantiles(days, n=10, method="inclusive")[8], 1)


def _trend(
    clocks: Sequence[Clock], start: dt.date, end: dt.date, now: dt.datetime
) -> tuple[MonthFigures, ...]:
    by_month: dict[str, list[Outcome]] = {}
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        by_month[f"{year:04d}-{month:02d}"] = []
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for clock in clocks:
        by_month[_utc(clock.started_at).strftime("%Y-%m")].append(outcome(clock, now))
    return tuple(
        MonthFigures(
            month=key,
            opened=len(outcomes),
            met_on_time=outcomes.count("met_on_time"),
            met_late=outcomes.count("met_late"),
            open_overdue=outcomes.count("open_overdue"),
        )
        for key, outcomes in by_month.items()
    )


def _breaches(clocks: Sequence[Clock], now: dt.datetime) -> tuple[Breach, ...]:
    """Met-late and overdue clocks, worst first; ties by agency, kind, start, pseudonym."""
    rows: list[tuple[float, Breach]] = []
    for clock in clocks:
        if outcome(clock, now) not in ("met_late", "open_overdue"):
            continue
        stopped = _utc(clock.met_at) if clock.met_at is not None else now
        late = _days(clock.due_at, stopped)
        rows.append(
            (
                late,
                Breach(
                    case_ref=case_pseudonym(clock.case_id),
                    kind=clock.kind,
                    label=clock.label,
                    agency=clock.agency,
                    started=_utc(clock.started_at),
                    due=_utc(clock.due_at),
                    met=_utc(clock.met_at) if clock.met_at is not None else None,
                    days_late=round(late, 1),
                ),
            )
        )
    rows.sort(key=lambda r: (-r[0], r[1].agency, r[1].kind, r[1].started, r[1].case_ref))
    return tuple(breach for _, breach in rows)


def _grouped(clocks: Iterable[Clock], key: Callable[[Clock], K]) -> list[tuple[K, list[Clock]]]:
    """Group already-sorted clocks by ``key``, keeping their order."""
    groups: dict[K, list[Clock]] = {}
    for clock in clocks:
        groups.setdefault(key(clock), []).append(clock)
    return list(groups.items())


def _days(since: dt.datetime, until: dt.datetime) -> float:
    return (_utc(until) - _utc(since)).total_seconds() / _DAY


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
