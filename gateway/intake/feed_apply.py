"""Apply validated feeds, many schools at a time: merge each into the marks held, update
every touched pupil's running figures, judge the thresholds, settle concerns.

Marks are stored one row per pupil, school and date, figures one row per pupil, school and
academic year (gateway/store/schema.py). Feeds of one school apply in the order they were
received.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec

from gateway.attendance.statistics import PupilYear, apply_day, rebuild
from gateway.attendance.terms import term_of
from gateway.attendance.thresholds import ConcernFigures, Threshold, evaluate, load_thresholds
from gateway.intake.attendance_concerns import Judgement, settle_concerns
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import UnitOfWork
from mappings.attendance_codes import CodeTable

Mark = tuple[str, dt.date, str, str]  # upn, date, am, pm


class Identity(msgspec.Struct, kw_only=True):
    """Who a CTF says a pupil is (validated UPN; names and date of birth as sent)."""

    upn: str
    given_name: str | None
    family_name: str | None
    date_of_birth: dt.date | None
    school_urn: str


class StagedFeed(msgspec.Struct, kw_only=True):
    """A feed as the intake left it: validated, waiting to be applied."""

    feed_id: str
    school_urn: str
    marks: list[Mark]
    years: list[int]  # each mark's academic year
    identities: list[Identity] = []


class Applied(msgspec.Struct, kw_only=True):
    marks_changed: int = 0
    concerns_raised: int = 0


def apply_feeds(
    uow: UnitOfWork,
    feeds: Sequence[StagedFeed],
    codes: CodeTable,
    pack: PolicyPack | None = None,
) -> dict[str, Applied]:
    """Apply ``feeds``; with a ``pack``, only the thresholds the authority acts on are judged
    and its concern routes decide what each new concern leads to."""
    thresholds = (
        None
        if pack is None or not pack.thresholds
        else [t for t in load_thresholds() if t.id in pack.thresholds]
    )
    applied = {feed.feed_id: Applied() for feed in feeds}
    uow.attendance.upsert_identities(
        [msgspec.structs.asdict(i) for f in feeds for i in f.identities], uow.now
    )
    work: dict[tuple[str, int], list[tuple[str, list[Mark]]]] = defaultdict(list)
    for feed in feeds:
        by_year: dict[int, list[Mark]] = defaultdict(list)
        for mark, year in zip(feed.marks, feed.years, strict=True):
            by_year[year].append(mark)
        for year, marks in by_year.items():
            work[(feed.school_urn, year)].append((feed.feed_id, marks))
    if not work:
        return applied
    uow.attendance.ensure_years({year for _, year in work})
    changes: list[dict[str, Any]] = []
    judged: list[tuple[str, str, int, dict[str, PupilYear], list[str]]] = []
    for (school, year), parts in work.items():
        states = uow.attendance.figures_in(school, year)
        held = set(states)
        stored = uow.attendance.marks_on(
            school, year, {mark[1] for _, marks in parts for mark in marks}
        )
        merged: dict[tuple[dt.date, str], tuple[str, str, str]] = {}
        pupils: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
        corrected: set[str] = set()
        for feed_id, marks in parts:
            changed = _merge(school, feed_id, marks, stored, merged, changes, uow.now)
            applied[feed_id].marks_changed += len(changed)
            corrected |= changed
            for upn, date, am, pm in marks:
                pupils[upn].append((date, am, pm))
        rebuild_these = _advance(states, pupils, corrected, year, codes)
        uow.attendance.write_marks(
            [
                {
                    "academic_year": year,
                    "school_urn": school,
                    "date": date,
                    "upn": upn,
                    "am": am,
                    "pm": pm,
                    "feed_id": feed_id,
                }
                for (date, upn), (am, pm, feed_id) in merged.items()
            ]
        )
        if rebuild_these:
            history = uow.attendance.marks_of(school, year, rebuild_these)
            for upn in rebuild_these:
                states[upn] = rebuild(history.get(upn, []), academic_year=year, codes=codes)
        uow.attendance.write_figures(
            school,
            {upn: states[upn] for upn in pupils},
            {upn: min(days)[0] for upn, days in pupils.items() if upn not in held},
            uow.now,
        )
        judged.append((parts[-1][0], school, year, states, list(pupils)))
    uow.attendance.add_changes(changes)
    ehcp = uow.attendance.with_ehcp({upn for *_, upns in judged for upn in upns})
    judgements = [
        Judgement(
            feed_id=feed_id,
            school_urn=school,
            academic_year=year,
            crossed={upn: _judge(states[upn], upn in ehcp, thresholds) for upn in upns},
        )
        for feed_id, school, year, states, upns in judged
    ]
    settle_concerns(uow, judgements, pack)
    for judgement in judgements:
        applied[judgement.feed_id].concerns_raised += judgement.raised
    return applied


def _merge(
    school: str,
    feed_id: str,
    marks: list[Mark],
    stored: dict[dt.date, dict[str, tuple[str, str]]],
    merged: dict[tuple[dt.date, str], tuple[str, str, str]],
    changes: list[dict[str, Any]],
    now: dt.datetime,
) -> set[str]:
    """Merge one feed's marks over those held; a mark that differs from the one held is a
    correction, recorded with its old and new codes."""
    corrected: set[str] = set()
    for upn, date, am, pm in marks:
        before = merged.get((date, upn)) or stored.get(date, {}).get(upn)
        if before is not None and (before[0], before[1]) != (am, pm):
            corrected.add(upn)
            changes.append(
                {
                    "upn": upn,
                    "date": date,
                    "school_urn": school,
                    "old_am": before[0],
                    "old_pm": before[1],
                    "new_am": am,
                    "new_pm": pm,
                    "feed_id": feed_id,
                    "changed_at": now,
                }
            )
        merged[(date, upn)] = (am, pm, feed_id)
    return corrected


def _advance(
    states: dict[str, PupilYear],
    pupils: dict[str, list[tuple[dt.date, str, str]]],
    corrected: set[str],
    year: int,
    codes: CodeTable,
) -> list[str]:
    """Move each pupil's figures on by the new days; returns those that need a rebuild (a
    past mark corrected, or days older than the figures already hold)."""
    rebuild_these: list[str] = []
    for upn, days in pupils.items():
        state = states.get(upn)
        if state is None:
            state = states[upn] = PupilYear(academic_year=year)
        if len(days) > 1:
            days.sort()
        resent = len(days) > 1 and len({day for day, _, _ in days}) != len(days)
        if (
            upn in corrected
            or resent  # the same day in two feeds of one batch: the marks hold the last
            or (state.last_date is not None and days[0][0] <= state.last_date)
        ):
            rebuild_these.append(upn)
            continue
        for date, am, pm in days:
            apply_day(state, date, am, pm, codes)
    return rebuild_these


def _judge(
    state: PupilYear, has_ehcp: bool, thresholds: Sequence[Threshold] | None
) -> dict[str, ConcernFigures]:
    term = term_of(state.last_date) if state.last_date is not None else None
    return evaluate(state, has_ehcp=has_ehcp, term=term, thresholds=thresholds)
