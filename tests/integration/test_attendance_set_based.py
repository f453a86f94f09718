"""The set-based applier against the per-pupil reference, on random registers, on both stores.

Each example is a school's run of feeds over a few weeks: daily feeds, feeds of several days,
past dates corrected or sent again unchanged, marks sent late for a date already applied,
pupils absent from some feeds, across the end of a term (Christmas, Easter) and of the
academic year, applied a few feeds per batch. After every batch:

- every pupil's figures are what ``statistics.rebuild`` makes of the marks sent so far (the
  last version of each date) -- the fast path's SQL (``apply_day`` per column) included;
- the marks held are those, and each correction was recorded once, against its feed;
- the open concerns are exactly those ``thresholds.evaluate`` finds crossed by the figures
  of the pupils the batch touched, left as they were for the others: what judging every
  touched pupil in Python would leave (the set-based judging only brings back the pupils
  whose crossed thresholds change), with pupils' EHC plans changing between batches.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.attendance.statistics import PupilYear, rebuild
from gateway.attendance.terms import academic_year, term_of
from gateway.attendance.thresholds import evaluate, load_thresholds
from gateway.intake.feed_apply import StagedFeed, apply_feeds
from gateway.rules.pack import load_pack
from gateway.store import Store
from gateway.store.schema import (
    attendance_concerns,
    attendance_figures,
    attendance_mark_changes,
    attendance_marks,
    children,
)
from mappings.attendance_codes import load_codes
from tests.attendance_support import school_days
from tests.support import make_upn

# Pairs of marks as schools send them: present, late, ill, unexplained, holiday, suspended,
# part-time, approved activity, one session unmarked, not possible (closures, Y codes).
PAIRS = [
    ("/", "\\"),
    ("L", "\\"),
    ("/", "/"),
    ("I", "I"),
    ("I", "\\"),
    ("N", "N"),
    ("O", "O"),
    ("G", "G"),
    ("U", "\\"),
    ("E", "E"),
    ("E", "\\"),
    ("C2", "C2"),
    ("B", "B"),
    ("M", "\\"),
    ("/", ""),
    ("", "N"),
    ("#", "#"),
    ("Y4", "Y4"),
    ("X", "/"),
    ("H", "\\"),  # a retired code, read as its successor
]
STARTS = [
    dt.date(2025, 9, 1),
    dt.date(2025, 12, 1),  # over Christmas: autumn to spring
    dt.date(2026, 3, 16),  # over Easter (5 April 2026): spring to summer
    dt.date(2026, 7, 6),  # over 1 August: one academic year to the next
]
Register = dict[tuple[str, dt.date], tuple[str, str]]
_examples = itertools.count(1)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    days = school_days(draw(st.sampled_from(STARTS)), draw(st.integers(1, 24)))
    pupils = draw(st.integers(1, 3))
    plan: list[dict[tuple[int, dt.date], tuple[str, str]]] = [{} for _ in days]
    for pupil in range(pupils):
        marks: list[tuple[str, str]] = []
        while len(marks) < len(days):  # runs of one pair, so runs of days cross thresholds
            pair = draw(st.sampled_from(PAIRS))
            marks += [pair] * draw(st.integers(1, 12))
        absent = draw(st.sets(st.integers(0, len(days) - 1), max_size=len(days) // 3))
        for i, day in enumerate(days):
            if i not in absent:
                plan[i][(pupil, day)] = marks[i]
    feeds: list[dict[tuple[int, dt.date], tuple[str, str]]] = []
    for i, daily in enumerate(plan):
        if daily:
            if feeds and draw(st.integers(0, 5)) == 0:
                feeds[-1] = {**feeds[-1], **daily}  # a feed of several days
            else:
                feeds.append(dict(daily))
        if i and draw(st.integers(0, 3)) == 0:  # a past date sent again
            past = days[draw(st.integers(0, i))]
            again: dict[tuple[int, dt.date], tuple[str, str]] = {}
            for pupil in range(pupils):
                choice = draw(st.integers(0, 3))
                if choice == 1:  # corrected (or, by chance, the same)
                    again[(pupil, past)] = draw(st.sampled_from(PAIRS))
                elif choice >= 2 and (pupil, past) in plan[days.index(past)]:
                    again[(pupil, past)] = plan[days.index(past)][(pupil, past)]
                elif choice >= 2:  # sent late, for a date already applied to the others
                    again[(pupil, past)] = draw(st.sampled_from(PAIRS))
            if again:
                feeds.append(again)
    sizes = [draw(st.integers(1, 3)) for _ in feeds]
    ehcp = [[draw(st.booleans()) for _ in range(pupils)] for _ in feeds]
    return {"pupils": pupils, "feeds": feeds, "sizes": sizes, "ehcp": ehcp}


def crossed(state: PupilYear, has_ehcp: bool, rules: Any) -> set[tuple[str, str | None]]:
    term = term_of(state.last_date) if state.last_date is not None else None
    return {
        (rule, figures.term)
        for rule, figures in evaluate(state, has_ehcp=has_ehcp, term=term, thresholds=rules).items()
    }


def check(store: Store, scenario: dict[str, Any], pack_name: str | None) -> None:
    example = next(_examples)
    school = f"{300000 + example % 600000:06d}"
    upns = [make_upn(n + 1, estab=f"{example % 10000:04d}") for n in range(scenario["pupils"])]
    codes = load_codes()
    pack = load_pack(pack_name) if pack_name else None
    rules = (
        [t for t in load_thresholds() if t.id in pack.thresholds]
        if pack is not None and pack.thresholds
        else None
    )
    register: Register = {}
    expected_open: dict[str, set[tuple[int, str, str | None]]] = {upn: set() for upn in upns}
    changes: Counter[str] = Counter()
    feeds = [
        StagedFeed(
            feed_id=f"f{example}-{n}",
            school_urn=school,
            marks=[(upns[p], day, am, pm) for (p, day), (am, pm) in sorted(marks.items())],
            years=[academic_year(day) for (_, day) in sorted(marks)],
        )
        for n, marks in enumerate(scenario["feeds"])
    ]
    with store.engine.begin() as connection:
        connection.execute(
            children.insert(),
            [
                {
                    "id": f"child-{upn}",
                    "upn": upn,
                    "school_urn": school,
                    "ehcp_status": "none",
                    "looked_after": False,
                    "created_at": dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
                    "updated_at": dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
                }
                for upn in upns
            ],
        )
    position = 0
    for size, ehcp in zip(scenario["sizes"], scenario["ehcp"], strict=False):
        batch = feeds[position : position + size]
        position += size
        if not batch:
            break
        with store.engine.begin() as connection:
            for upn, has_plan in zip(upns, ehcp, strict=True):
                connection.execute(
                    children.update()
                    .where(children.c.upn == upn)
                    .values(ehcp_status="issued" if has_plan else "none")
                )
        touched: set[tuple[str, int]] = set()
        for feed in batch:
            for (upn, day, am, pm), year in zip(feed.marks, feed.years, strict=True):
                before = register.get((upn, day))
                if before is not None and before != (am, pm):
                    changes[feed.feed_id] += 1
                register[(upn, day)] = (am, pm)
                touched.add((upn, year))
        with store.unit_of_work() as uow:
            applied = apply_feeds(uow, batch, codes, pack)
        assert {f: a.marks_changed for f, a in applied.items() if a.marks_changed} == {
            f.feed_id: changes[f.feed_id] for f in batch if changes[f.feed_id]
        }

        states: dict[tuple[str, int], PupilYear] = {}
        for upn, year in {(upn, academic_year(day)) for upn, day in register}:
            held = [
                (day, am, pm)
                for (u, day), (am, pm) in register.items()
                if u == upn and academic_year(day) == year
            ]
            states[(upn, year)] = rebuild(held, academic_year=year, codes=codes)
        with store.unit_of_work() as uow:
            figures = {
                (upn, year): state
                for (_, year, upn), state in uow.attendance.figures_of_pupils(
                    {(school, year, upn) for upn, year in states}
                ).items()
            }
        assert figures == states

        plans = dict(zip(upns, ehcp, strict=True))
        expected_open = {
            upn: {c for c in held_open if (upn, c[0]) not in touched}
            | {
                (year, rule, term)
                for (u, year) in touched
                if u == upn
                for rule, term in crossed(states[(upn, year)], plans[upn], rules)
            }
            for upn, held_open in expected_open.items()
        }
        found: dict[str, set[tuple[int, str, str | None]]] = {upn: set() for upn in upns}
        with store.engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    attendance_concerns.c.upn,
                    attendance_concerns.c.academic_year,
                    attendance_concerns.c.rule_id,
                    attendance_concerns.c.term,
                ).where(
                    attendance_concerns.c.school_urn == school,
                    attendance_concerns.c.status == "open",
                )
            )
            for upn, year, rule, term in rows:
                found[upn].add((year, rule, term))
        assert found == expected_open

    with store.engine.connect() as connection:
        held = {
            (upn, day): (am, pm)
            for upn, day, am, pm in connection.execute(
                sa.select(
                    attendance_marks.c.upn,
                    attendance_marks.c.date,
                    attendance_marks.c.am,
                    attendance_marks.c.pm,
                ).where(attendance_marks.c.school_urn == school)
            )
        }
        recorded = connection.execute(
            sa.select(sa.func.count())
            .select_from(attendance_mark_changes)
            .where(attendance_mark_changes.c.school_urn == school)
        ).scalar_one()
        enrolments = connection.execute(
            sa.select(sa.func.count())
            .select_from(attendance_figures)
            .where(attendance_figures.c.school_urn == school)
        ).scalar_one()
    assert held == {key: register[key] for key in held} and len(held) == len(register)
    assert recorded == sum(changes.values())
    assert enrolments == len(states) if register else enrolments == 0


PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTIES
@given(scenario=scenarios())
def test_figures_marks_and_concerns_match_the_reference(
    store: Store, scenario: dict[str, Any]
) -> None:
    check(store, scenario, None)


@PROPERTIES
@given(scenario=scenarios())
def test_with_a_pack_judging_some_thresholds_only(store: Store, scenario: dict[str, Any]) -> None:
    check(store, scenario, "lincolnshire")
