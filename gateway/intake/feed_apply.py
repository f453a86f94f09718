"""Apply a validated feed: merge it into the school's registers, update each pupil's running
figures, judge the thresholds, settle concerns. All inside the caller's unit of work.

Registers are stored one row per school and date, figures one row per school and year
(gateway/store/schema.py explains why); the school-year row is locked first, so feeds from
one school apply one after another while different schools go side by side.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import msgspec

from gateway.attendance.statistics import PupilYear, apply_day, rebuild
from gateway.attendance.terms import academic_year as academic_year_of
from gateway.attendance.terms import term_of
from gateway.attendance.thresholds import evaluate
from gateway.intake.attendance_concerns import settle_concerns
from gateway.intake.feed_parse import ParsedFeed
from gateway.intake.feed_validation import Accepted
from gateway.store.unit_of_work import UnitOfWork
from mappings.attendance_codes import CodeTable

Register = dict[str, tuple[str, str]]
_encode = msgspec.msgpack.Encoder().encode
_decode_register = msgspec.msgpack.Decoder(Register).decode
_decode_states = msgspec.msgpack.Decoder(dict[str, PupilYear]).decode


class Applied(msgspec.Struct, kw_only=True):
    marks_changed: int = 0
    concerns_raised: int = 0


def apply_feed(
    uow: UnitOfWork, feed_id: str, parsed: ParsedFeed, year: int | None, codes: CodeTable
) -> Applied:
    applied = Applied()
    uow.attendance.upsert_identities(parsed.identities, uow.now)
    for academic_year, rows in _by_year(parsed, year).items():
        _apply_year(uow, feed_id, parsed.school_urn, academic_year, rows, codes, applied)
    return applied


def decode_states(blob: bytes) -> dict[str, PupilYear]:
    return _decode_states(blob)


def _by_year(parsed: ParsedFeed, year: int | None) -> dict[int, list[Accepted]]:
    grouped: dict[int, list[Accepted]] = defaultdict(list)
    for index, row in enumerate(parsed.accepted):
        if parsed.years:
            grouped[parsed.years[index]].append(row)
        else:
            grouped[year if year is not None else academic_year_of(row[1])].append(row)
    return grouped


def _apply_year(
    uow: UnitOfWork,
    feed_id: str,
    school: str,
    year: int,
    rows: list[Accepted],
    codes: CodeTable,
    applied: Applied,
) -> None:
    states = _decode_states(uow.attendance.lock_school_year(school, year, uow.now))
    pupils, corrected = _merge_registers(uow, feed_id, school, rows, applied)
    new_pupils = [upn for upn in pupils if upn not in states]
    to_rebuild: list[str] = []
    for upn, days in pupils.items():
        state = states.get(upn) or PupilYear(academic_year=year)
        days.sort()
        if upn in corrected or (state.last_date is not None and days[0][0] <= state.last_date):
            to_rebuild.append(upn)
            continue
        for date, am, pm in days:
            apply_day(state, date, am, pm, codes)
        states[upn] = state
    if to_rebuild:
        states.update(_rebuilt(uow, school, year, to_rebuild, codes))
    uow.attendance.add_enrolments(
        [
            {
                "upn": upn,
                "school_urn": school,
                "academic_year": year,
                "first_date": pupils[upn][0][0],
            }
            for upn in new_pupils
        ]
    )
    uow.attendance.save_school_year(school, year, _encode(states), uow.now)
    ehcp = uow.attendance.with_ehcp(pupils)
    crossed = {}
    for upn in pupils:
        state = states[upn]
        term = term_of(state.last_date) if state.last_date is not None else None
        crossed[upn] = evaluate(state, has_ehcp=upn in ehcp, term=term)
    applied.concerns_raised += settle_concerns(
        uow, feed_id=feed_id, school_urn=school, academic_year=year, crossed=crossed
    )


def _merge_registers(
    uow: UnitOfWork, feed_id: str, school: str, rows: list[Accepted], applied: Applied
) -> tuple[dict[str, list[tuple[dt.date, str, str]]], set[str]]:
    """Write the feed's marks into the school's day registers; a mark that differs from the
    one held is a correction, recorded with its old and new codes."""
    stored = uow.attendance.register_days(school, (row[1] for row in rows))
    registers: dict[dt.date, Register] = {}
    pupils: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
    changes: list[dict[str, Any]] = []
    corrected: set[str] = set()
    for upn, date, _, am, pm in rows:
        register = registers.get(date)
        if register is None:
            register = registers[date] = _decode_register(stored[date]) if date in stored else {}
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
                    "changed_at": uow.now,
                }
            )
        register[upn] = (am, pm)
        pupils[upn].append((date, am, pm))
    uow.attendance.write_register_days(
        school,
        {date: (_encode(register), len(register)) for date, register in registers.items()},
        set(stored),
        feed_id,
        uow.now,
    )
    uow.attendance.add_changes(changes)
    applied.marks_changed += len(changes)
    return pupils, corrected


def _rebuilt(
    uow: UnitOfWork, school: str, year: int, upns: list[str], codes: CodeTable
) -> dict[str, PupilYear]:
    """The correction path: these pupils' years recomputed from the school's registers."""
    history: dict[str, list[tuple[dt.date, str, str]]] = {upn: [] for upn in upns}
    first, last = dt.date(year, 8, 1), dt.date(year + 1, 7, 31)
    for date, blob in uow.attendance.register_history(school, first, last):
        register = _decode_register(blob)
        for upn, marks in history.items():
            held = register.get(upn)
            if held is not None:
                marks.append((date, held[0], held[1]))
    return {upn: rebuild(marks, academic_year=year, codes=codes) for upn, marks in history.items()}
