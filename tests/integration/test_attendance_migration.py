"""Migration 0018 on a database that already holds attendance: the registers (one msgpack row
per school and day) become rows of attendance_marks, the figures (one msgpack row of
PupilYears per school year) and enrolments become rows of attendance_figures, and the
gateway goes on from there as if it had always stored them so. The downgrade moves them
back."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import command

from gateway.attendance.statistics import PupilYear, rebuild
from gateway.intake.attendance_queries import child_attendance
from gateway.intake.feed_apply import StagedFeed, apply_feeds
from gateway.model.client import ALL_SCOPES, Client
from gateway.store import Store
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.schema import attendance_figures, attendance_marks
from mappings.attendance_codes import load_codes
from tests.attendance_support import SCHOOL, school_days
from tests.support import START, child_details, make_upn

READER = Client(id="reader", name="reader", scopes=ALL_SCOPES, created_at=START)
OTHER = "120457"
AUTUMN = school_days(dt.date(2025, 9, 1), 12)
LAST_YEAR = school_days(dt.date(2025, 6, 2), 5)  # summer term of 2024/25
CODES = [("/", "\\"), ("N", "N"), ("I", "I"), ("E", "/"), ("C2", "C2"), ("#", "#"), ("/", "")]

Marks = dict[tuple[str, int, str], list[tuple[dt.date, str, str]]]  # school, year, upn


def old_tables() -> tuple[sa.Table, sa.Table, sa.Table]:
    meta = sa.MetaData()
    registers = sa.Table(
        "register_days",
        meta,
        sa.Column("school_urn", sa.String(6)),
        sa.Column("date", sa.Date),
        sa.Column("marks", sa.LargeBinary),
        sa.Column("pupils", sa.Integer),
        sa.Column("feed_id", sa.String(36)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    years = sa.Table(
        "school_years",
        meta,
        sa.Column("school_urn", sa.String(6)),
        sa.Column("academic_year", sa.Integer),
        sa.Column("states", sa.LargeBinary),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    enrolments = sa.Table(
        "pupil_enrolments",
        meta,
        sa.Column("upn", sa.String(13)),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("academic_year", sa.Integer),
        sa.Column("first_date", sa.Date),
    )
    return registers, years, enrolments


def held_before() -> Marks:
    """Three pupils at two schools, one of them over two academic years."""
    marks: Marks = defaultdict(list)
    for n in range(1, 4):
        school = SCHOOL if n < 3 else OTHER
        for i, day in enumerate(AUTUMN):
            am, pm = CODES[(i * n + n) % len(CODES)]
            marks[(school, 2025, make_upn(n))].append((day, am, pm))
    for i, day in enumerate(LAST_YEAR):
        marks[(SCHOOL, 2024, make_upn(1))].append((day, *CODES[i % len(CODES)]))
    return marks


def write_old(store: Store, marks: Marks) -> dict[tuple[str, int], dict[str, PupilYear]]:
    """The rows the gateway wrote before 0018, from ``marks``."""
    registers, years, enrolments = old_tables()
    codes = load_codes()
    days: dict[tuple[str, dt.date], dict[str, list[str]]] = defaultdict(dict)
    states: dict[tuple[str, int], dict[str, PupilYear]] = defaultdict(dict)
    for (school, year, upn), held in marks.items():
        for date, am, pm in held:
            days[(school, date)][upn] = [am, pm]
        states[(school, year)][upn] = rebuild(held, academic_year=year, codes=codes)
    with store.engine.begin() as connection:
        for (school, date), register in days.items():
            connection.execute(
                registers.insert().values(
                    school_urn=school,
                    date=date,
                    marks=msgspec.msgpack.encode(register),
                    pupils=len(register),
                    feed_id=f"feed-{date.isoformat()}",
                    updated_at=START,
                )
            )
        for (school, year), held_states in states.items():
            connection.execute(
                years.insert().values(
                    school_urn=school,
                    academic_year=year,
                    states=msgspec.msgpack.encode(held_states),
                    updated_at=START,
                )
            )
        connection.execute(
            enrolments.insert(),
            [
                {"upn": upn, "school_urn": school, "academic_year": year, "first_date": held[0][0]}
                for (school, year, upn), held in marks.items()
            ],
        )
    return states


def test_existing_registers_and_figures_are_moved_into_rows(store: Store) -> None:
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0017")
    marks = held_before()
    states = write_old(store, marks)
    with store.unit_of_work() as uow:
        uow.children.add(child_details(1), uow.now)
    upgrade(store.engine)

    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(attendance_marks)).all()
        firsts = dict(
            connection.execute(
                sa.select(attendance_figures.c.upn, attendance_figures.c.first_date).where(
                    attendance_figures.c.academic_year == 2025
                )
            ).all()
        )
    assert sorted(
        (r.school_urn, r.academic_year, r.upn, r.date, r.am, r.pm) for r in rows
    ) == sorted(
        (school, year, upn, date, am, pm)
        for (school, year, upn), held in marks.items()
        for date, am, pm in held
    )
    assert {r.feed_id for r in rows if r.date == AUTUMN[0]} == {f"feed-{AUTUMN[0].isoformat()}"}
    assert firsts == {make_upn(n): AUTUMN[0] for n in range(1, 4)}
    with store.unit_of_work() as uow:
        for (school, year), held_states in states.items():
            assert uow.attendance.figures_in(school, year) == held_states

    with store.unit_of_work() as uow:
        child_id = uow.children.find("upn", make_upn(1))
    assert child_id is not None
    summary = child_attendance(store, child_id.id, READER, "test")
    assert [(y.academic_year, y.school_urn) for y in summary.years] == [
        (2024, SCHOOL),
        (2025, SCHOOL),
    ]
    assert summary.years[1].possible_sessions == states[(SCHOOL, 2025)][make_upn(1)].possible

    # The next day goes on from the moved figures, as a rebuild over every mark would give.
    day = school_days(AUTUMN[-1] + dt.timedelta(days=1), 1)[0]
    upns = [make_upn(1), make_upn(2)]
    feed = StagedFeed(
        feed_id="feed-next",
        school_urn=SCHOOL,
        marks=[(upn, day, "N", "N") for upn in upns],
        years=[2025, 2025],
    )
    with store.unit_of_work() as uow:
        apply_feeds(uow, [feed], load_codes())
    with store.unit_of_work() as uow:
        after = uow.attendance.figures_in(SCHOOL, 2025)
    for upn in upns:
        expected = rebuild(
            [*marks[(SCHOOL, 2025, upn)], (day, "N", "N")], academic_year=2025, codes=load_codes()
        )
        assert after[upn] == expected


def test_the_downgrade_moves_them_back(store: Store) -> None:
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0017")
    marks = held_before()
    states = write_old(store, marks)
    upgrade(store.engine)
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0017")
    registers, years, enrolments = old_tables()
    with store.engine.connect() as connection:
        days = {
            (school, date): msgspec.msgpack.decode(blob)
            for school, date, blob in connection.execute(
                sa.select(registers.c.school_urn, registers.c.date, registers.c.marks)
            )
        }
        moved_back: dict[tuple[str, int], Any] = {
            (school, year): msgspec.msgpack.decode(blob, type=dict[str, PupilYear])
            for school, year, blob in connection.execute(
                sa.select(years.c.school_urn, years.c.academic_year, years.c.states)
            )
        }
        enrolled = connection.execute(sa.select(sa.func.count()).select_from(enrolments))
        assert enrolled.scalar_one() == len(marks)
    assert moved_back == states
    expected: dict[tuple[str, dt.date], dict[str, list[str]]] = defaultdict(dict)
    for (school, _, upn), held in marks.items():
        for date, am, pm in held:
            expected[(school, date)][upn] = [am, pm]
    assert days == expected
    upgrade(store.engine)
