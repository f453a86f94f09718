"""Apply validated feeds, many schools at a time: merge each into its school's registers,
update every touched pupil's running figures, judge the thresholds, settle concerns.

Registers are stored one row per school and date, figures one row per school and year
(gateway/store/schema.py says why). A batch reads and writes each kind of row in one
statement whatever the number of schools, which is what keeps an authority's day of 600
small feeds from costing 600 times the round trips. Feeds of one school apply in the order
they were received.
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

Register = dict[str, tuple[str, str]]
Mark = tuple[str, dt.date, str, str]  # upn, date, am, pm
_encode = msgspec.msgpack.Encoder().encode
_decode_register = msgspec.msgpack.Decoder(Register).decode
_decode_states = msgspec.msgpack.Decoder(dict[str, PupilYear]).decode


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
    locked = uow.attendance.lock_school_years(set(work), uow.now)
    stored = uow.attendance.registers_of(
        {(school, mark[1]) for (school, _), parts in work.items() for _, ms in parts for mark in ms}
    )
    registers: dict[tuple[str, dt.date], Register] = {}
    register_feed: dict[tuple[str, dt.date], str] = {}
    changes: list[dict[str, Any]] = []
    new_states: dict[tuple[str, int], bytes] = {}
    enrolments: list[dict[str, Any]] = []
    judged: list[tuple[str, str, int, dict[str, PupilYear], list[str]]] = []
    for (school, year), parts in work.items():
        states = _decode_states(locked[(school, year)])
        held = set(states)
        pupils: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
        corrected: set[str] = set()
        for feed_id, marks in parts:
            changed = _merge(
                school, feed_id, marks, stored, registers, register_feed, changes, uow.now
            )
            applied[feed_id].marks_changed += len(changed)
            corrected |= changed
            for upn, date, am, pm in marks:
                pupils[upn].append((date, am, pm))
        rebuild_these = _advance(states, pupils, corrected, year, codes)
        if rebuild_these:
            states.update(_rebuilt(uow, school, year, rebuild_these, registers, codes))
        enrolments += [
            {"upn": upn, "school_urn": school, "academic_year": year, "first_date": min(days)[0]}
            for upn, days in pupils.items()
            if upn not in held
        ]
        new_states[(school, year)] = _encode(states)
        judged.append((parts[-1][0], school, year, states, list(pupils)))
    uow.attendance.write_registers(
        {
            key: (_encode(register), len(register), register_feed[key])
            for key, register in registers.items()
        },
        set(stored),
        uow.now,
    )
    uow.attendance.add_changes(changes)
    uow.attendance.add_enrolments(enrolments)
    uow.attendance.save_school_years(new_states, uow.now)
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
    stored: dict[tuple[str, dt.date], bytes],
    registers: dict[tuple[str, dt.date], Register],
    register_feed: dict[tuple[str, dt.date], str],
    changes: list[dict[str, Any]],
    now: dt.datetime,
) -> set[str]:
    """Write one feed's marks into its school's day registers; a mark that differs from the
    one held is a correction, recorded with its old and new codes."""
    corrected: set[str] = set()
    for upn, date, am, pm in marks:
        key = (school, date)
        register = registers.get(key)
        if register is None:
            register = registers[key] = _decode_register(stored[key]) if key in stored else {}
        register_feed[key] = feed_id
        before = register.get(upn)
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
        register[upn] = (am, pm)
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
            or resent  # the same day in two feeds of one batch: the registers hold the last
            or (state.last_date is not None and days[0][0] <= state.last_date)
        ):
            rebuild_these.append(upn)
            continue
        for date, am, pm in days:
            apply_day(state, date, am, pm, codes)
    return rebuild_these


def _rebuilt(
    uow: UnitOfWork,
    school: str,
    year: int,
    upns: list[str],
    registers: dict[tuple[str, dt.date], Register],
    codes: CodeTable,
) -> dict[str, PupilYear]:
    """The correction path: these pupils' years recomputed from the school's registers (the
    batch's own merged registers win over what is stored)."""
    history: dict[str, dict[dt.date, tuple[str, str]]] = {upn: {} for upn in upns}
    first, last = dt.date(year, 8, 1), dt.date(year + 1, 7, 31)
    for date, blob in uow.attendance.register_history(school, first, last):
        register = registers.get((school, date)) or _decode_register(blob)
        _collect(history, date, register)
    for (reg_school, date), register in registers.items():
        if reg_school == school and first <= date <= last:
            _collect(history, date, register)
    return {
        upn: rebuild(
            [(date, am, pm) for date, (am, pm) in days.items()], academic_year=year, codes=codes
        )
        for upn, days in history.items()
    }


def _collect(
    history: dict[str, dict[dt.date, tuple[str, str]]], date: dt.date, register: Register
) -> None:
    for upn, days in history.items():
        held = register.get(upn)
        if held is not None:
            days[date] = (held[0], held[1])


def _judge(
    state: PupilYear, has_ehcp: bool, thresholds: Sequence[Threshold] | None
) -> dict[str, ConcernFigures]:
    term = term_of(state.last_date) if state.last_date is not None else None
    return evaluate(state, has_ehcp=has_ehcp, term=term, thresholds=thresholds)
