"""Apply validated feeds, many schools at a time, set-based: a batch's marks are staged in
one COPY, corrections recorded, the marks written and every pupil's figures moved on by their
day in a handful of statements whatever the number of pupils (gateway/store/
attendance_staging.py). Only the rare shapes come back to Python, for the pupils concerned:
a date corrected or filled in after later ones, or several dates for a pupil in one batch
(a year-to-date load) rebuild those pupils' figures from their marks (statistics.rebuild).
The thresholds are judged in SQL over the figures before and after the day, so only the
pupils who cross one (or stop crossing it) come back to be judged in Python and have their
concerns raised or resolved (attendance_concerns.settle_concerns).

Marks are stored one row per pupil, school and date, figures one row per pupil, school and
academic year (gateway/store/schema.py). Feeds of one school apply in the order they were
received.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence

import msgspec

from gateway.attendance.statistics import PupilYear, rebuild
from gateway.attendance.terms import term_of
from gateway.attendance.thresholds import ConcernFigures, Threshold, evaluate, load_thresholds
from gateway.intake.attendance_concerns import Judgement, settle_concerns
from gateway.rules.pack import PolicyPack
from gateway.store.attendance_figures import TERM_NUMBER
from gateway.store.attendance_staging import StagedRow, Staging
from gateway.store.schema import attendance_concerns
from gateway.store.unit_of_work import UnitOfWork
from mappings.attendance_codes import CodeTable

Mark = tuple[str, dt.date, str, str]  # upn, date, am, pm
Pupil = tuple[str, int, str]  # school URN, academic year, UPN


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
    rules = load_thresholds()
    thresholds = (
        None
        if pack is None or not pack.thresholds
        else [t for t in rules if t.id in pack.thresholds]
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
    repository = uow.attendance
    repository.ensure_years({year for _, year in work})
    dates: dict[tuple[str, int], set[dt.date]] = {
        key: {mark[1] for _, marks in parts for mark in marks} for key, parts in work.items()
    }
    known = repository.known_days(dates)
    staging = Staging(uow.connection, codes)
    rebuild_these: set[Pupil] = set()
    for (school, year), parts in work.items():
        days = dates[(school, year)]
        if len(parts) == 1 and len(days) == 1:
            (date,) = days
            feed_id, marks = parts[0]
            if len({mark[0] for mark in marks}) == len(marks):  # each pupil once: a day
                staging.add_day(
                    school, year, date, _term(date), feed_id, marks, known=date in known[school]
                )
                continue
        rebuild_these |= _stage_rows(staging, school, year, parts, known[school])
    staging.load()

    for feed_id, changed in staging.record_changes(uow.now).items():
        applied[feed_id].marks_changed += changed
    rebuild_these |= staging.changed_known()
    crossing, gaps = staging.judge(rules if thresholds is None else thresholds)
    rebuild_these |= gaps
    staging.write_marks()
    moved_on = staging.advance_figures(uow.now)
    if staging.fast_candidates - moved_on - len(gaps) > 0:
        staging.first_figures(uow.now)
    _rebuild(uow, rebuild_these, codes)
    # Judged in Python: the pupils whose crossed thresholds the day changes, those rebuilt,
    # those of a day sent again, and those with a concern open under a threshold no longer
    # judged. The others' concerns stand as they are.
    judge = crossing | rebuild_these | staging.known_pupils
    if thresholds is not None:
        judge |= staging.with_stale_concerns(attendance_concerns, (t.id for t in thresholds))
    staging.clear()

    held = repository.figures_of_pupils(judge)
    ehcp = repository.with_ehcp({upn for _, _, upn in held})
    crossed: dict[tuple[str, int], dict[str, dict[str, ConcernFigures]]] = defaultdict(dict)
    for (school, year, upn), state in held.items():
        crossed[(school, year)][upn] = _judge(state, upn in ehcp, thresholds)
    judgements = [
        Judgement(feed_id=work[key][-1][0], school_urn=key[0], academic_year=key[1], crossed=pupils)
        for key, pupils in crossed.items()
    ]
    settle_concerns(uow, judgements, pack)
    for judgement in judgements:
        applied[judgement.feed_id].concerns_raised += judgement.raised
    return applied


def _term(date: dt.date) -> int:
    return TERM_NUMBER[term_of(date)]


def _stage_rows(
    staging: Staging,
    school: str,
    year: int,
    parts: list[tuple[str, list[Mark]]],
    known: set[dt.date],
) -> set[Pupil]:
    """The rare shapes of a school's year in a batch: several dates (a year-to-date load),
    several feeds (each later version of a pupil's date replaces the one before it), a
    pupil sent twice. Returns the pupils known already to need their figures rebuilt (a new
    date among several)."""
    versions: Counter[tuple[str, dt.date]] = Counter()
    for _, marks in parts:
        versions.update((mark[0], mark[1]) for mark in marks)
    rows_of: Counter[str] = Counter()
    for (upn, _), n in versions.items():
        rows_of[upn] += n
    seen: dict[tuple[str, dt.date], tuple[str, str]] = {}
    count: Counter[tuple[str, dt.date]] = Counter()
    rows: list[StagedRow] = []
    rebuild_these: set[Pupil] = set()
    for feed_id, marks in parts:
        for upn, date, am, pm in marks:
            key = (upn, date)
            count[key] += 1
            latest = count[key] == versions[key]
            single = rows_of[upn] == 1
            if latest and not single and date not in known:
                rebuild_these.add((school, year, upn))
            rows.append(
                StagedRow(
                    upn=upn,
                    date=date,
                    am=am,
                    pm=pm,
                    feed_id=feed_id,
                    is_single=int(single),
                    is_latest=int(latest),
                    is_known=int(date in known),
                    prev=seen.get(key),
                )
            )
            seen[key] = (am, pm)
    terms = {date: _term(date) for date in {row.date for row in rows}}
    staging.add_rows(school, year, terms, rows)
    return rebuild_these


def _rebuild(uow: UnitOfWork, pupils: set[Pupil], codes: CodeTable) -> None:
    """The rare path: these pupils' figures recomputed from all their marks (written
    already), and written back in one statement per school year."""
    by_year: dict[tuple[str, int], list[str]] = defaultdict(list)
    for school, year, upn in pupils:
        by_year[(school, year)].append(upn)
    for (school, year), upns in by_year.items():
        history = uow.attendance.marks_of(school, year, upns)
        uow.attendance.write_figures(
            school,
            {
                upn: rebuild(history[upn], academic_year=year, codes=codes)
                for upn in upns
                if upn in history
            },
            {upn: history[upn][0][0] for upn in upns if upn in history},
            uow.now,
        )


def _judge(
    state: PupilYear, has_ehcp: bool, thresholds: Sequence[Threshold] | None
) -> dict[str, ConcernFigures]:
    term = term_of(state.last_date) if state.last_date is not None else None
    return evaluate(state, has_ehcp=has_ehcp, term=term, thresholds=thresholds)
