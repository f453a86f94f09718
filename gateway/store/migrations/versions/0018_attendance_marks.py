"""Attendance marks and running figures as rows: ``attendance_marks`` (one row per pupil,
school and date) replaces the msgpack register per school and day (``register_days``), and
``attendance_figures`` (one row per pupil, school and academic year, one column per figure)
replaces the msgpack figures per school year (``school_years``) and the enrolments that
pointed into them (``pupil_enrolments``). On PostgreSQL both are range-partitioned by academic
year, a partition a year. What the old tables hold is moved, then they are dropped; the
downgrade moves it back.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.String(36)
CATEGORIES = ("present", "approved_education", "authorised", "unauthorised", "not_possible")
TERMS = ("autumn", "spring", "summer")
# PupilYear as the old rows hold it, array-like, by position; later fields may be missing.
SCALARS = (
    "possible",
    "attended",
    None,  # terms
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
DATES = ("last_date", "unexplained_run_start", "illness_run_start", "part_time_first_date")
CHUNK = 5000


def _mark_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("am", sa.String(2), nullable=False),
        sa.Column("pm", sa.String(2), nullable=False),
        sa.Column("feed_id", Id, nullable=False),
    ]


def _figure_columns() -> list[sa.Column[Any]]:
    small = [
        *(f"{c}_sessions" for c in CATEGORIES),
        "possible",
        "attended",
        *(f"{t}_{f}" for t in TERMS for f in ("possible", "attended")),
        "unexplained_run_days",
        "illness_sessions",
        "illness_run_days",
        "illness_longest_run_days",
        "part_time_sessions",
        "suspension_sessions",
        "suspension_episodes",
    ]
    return [
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        *(sa.Column(name, sa.Date) for name in DATES),
        *(sa.Column(name, sa.SmallInteger, nullable=False) for name in small),
        sa.Column("in_suspension_episode", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    ]


def _marks() -> sa.Table:
    return sa.Table("attendance_marks", sa.MetaData(), *_mark_columns())


def _figures() -> sa.Table:
    return sa.Table("attendance_figures", sa.MetaData(), *_figure_columns())


def _old_tables() -> tuple[sa.Table, sa.Table, sa.Table]:
    meta = sa.MetaData()
    registers = sa.Table(
        "register_days",
        meta,
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("marks", sa.LargeBinary, nullable=False),
        sa.Column("pupils", sa.Integer, nullable=False),
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    years = sa.Table(
        "school_years",
        meta,
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("states", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    enrolments = sa.Table(
        "pupil_enrolments",
        meta,
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
    )
    return registers, years, enrolments


def _academic_year(day: dt.date) -> int:
    return day.year if day.month >= 8 else day.year - 1


def _partition(table: str, year: int) -> None:
    """One year's partition; the figures' pages half free, so each day's update of every row
    fits beside the row it replaces (gateway/store/schema.py)."""
    storage = " WITH (fillfactor = 50)" if table == "attendance_figures" else ""
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {table}_{year:d} PARTITION OF {table} "
        f"FOR VALUES FROM ({year:d}) TO ({year + 1:d}){storage}"
    )


def _date(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _row(
    upn: str, state: list[Any], school: str, first: dt.date | None, now: dt.datetime
) -> dict[str, Any]:
    """One old PupilYear (array-like: year, last date, sessions, possible, attended, terms,
    then the scalars) as a figures row."""
    fields = list(state) + [None] * (17 - len(state))
    sessions = fields[2] or {}
    terms = fields[5] or {}
    row: dict[str, Any] = {
        "academic_year": int(fields[0]),
        "school_urn": school,
        "upn": upn,
        "last_date": _date(fields[1]),
        "updated_at": now,
    }
    for category in CATEGORIES:
        row[f"{category}_sessions"] = int(sessions.get(category, 0))
    for term in TERMS:
        possible, attended = (terms.get(term) or [0, 0])[:2]
        row[f"{term}_possible"], row[f"{term}_attended"] = int(possible), int(attended)
    for offset, name in enumerate(SCALARS, start=3):
        if name is None:
            continue
        value = fields[offset]
        if name in DATES:
            row[name] = _date(value)
        elif name == "in_suspension_episode":
            row[name] = bool(value)
        else:
            row[name] = int(value or 0)
    row["first_date"] = first or row["last_date"] or dt.date(row["academic_year"], 8, 1)
    return row


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    partitioned: dict[str, Any] = (
        {"postgresql_partition_by": "RANGE (academic_year)"} if postgres else {}
    )
    op.create_table(
        "attendance_marks",
        *_mark_columns(),
        sa.PrimaryKeyConstraint(
            "academic_year", "school_urn", "date", "upn", name="pk_attendance_marks"
        ),
        **partitioned,
    )
    op.create_table(
        "attendance_figures",
        *_figure_columns(),
        sa.PrimaryKeyConstraint("academic_year", "school_urn", "upn", name="pk_attendance_figures"),
        **partitioned,
    )
    op.create_index("ix_attendance_figures_upn", "attendance_figures", ["upn"])

    registers, years, enrolments = _old_tables()
    marks, figures = _marks(), _figures()
    now = dt.datetime.now(dt.UTC)
    if postgres:
        found = {
            _academic_year(day)
            for day in bind.execute(sa.select(registers.c.date).distinct()).scalars()
        }
        found |= set(bind.execute(sa.select(years.c.academic_year).distinct()).scalars())
        for year in sorted(found):
            _partition("attendance_marks", year)
            _partition("attendance_figures", year)

    batch: list[dict[str, Any]] = []
    rows = bind.execute(
        sa.select(registers.c.school_urn, registers.c.date, registers.c.marks, registers.c.feed_id)
        .order_by(registers.c.school_urn, registers.c.date)
        .execution_options(yield_per=100)
    )
    for school, date, blob, feed_id in rows:
        year = _academic_year(date)
        for upn, (am, pm) in msgspec.msgpack.decode(bytes(blob)).items():
            batch.append(
                {
                    "academic_year": year,
                    "school_urn": school,
                    "date": date,
                    "upn": upn,
                    "am": am,
                    "pm": pm,
                    "feed_id": feed_id,
                }
            )
        if len(batch) >= CHUNK:
            bind.execute(marks.insert(), batch)
            batch = []
    if batch:
        bind.execute(marks.insert(), batch)

    first_dates: dict[tuple[str, int], dict[str, dt.date]] = defaultdict(dict)
    for upn, school, year, first in bind.execute(sa.select(enrolments)):
        first_dates[(school, year)][upn] = first
    batch = []
    for school, year, blob in bind.execute(
        sa.select(years.c.school_urn, years.c.academic_year, years.c.states).execution_options(
            yield_per=10
        )
    ):
        firsts = first_dates.get((school, year), {})
        for upn, state in msgspec.msgpack.decode(bytes(blob)).items():
            batch.append(_row(upn, state, school, firsts.get(upn), now))
            if len(batch) >= CHUNK:
                bind.execute(figures.insert(), batch)
                batch = []
    if batch:
        bind.execute(figures.insert(), batch)

    op.drop_table("pupil_enrolments")
    op.drop_table("school_years")
    op.drop_table("register_days")


def _state(row: Any) -> list[Any]:
    """A figures row as the old array-like PupilYear."""

    def iso(value: dt.date | None) -> str | None:
        return None if value is None else value.isoformat()

    return [
        row.academic_year,
        iso(row.last_date),
        {c: getattr(row, f"{c}_sessions") for c in CATEGORIES},
        row.possible,
        row.attended,
        {t: [getattr(row, f"{t}_possible"), getattr(row, f"{t}_attended")] for t in TERMS},
        row.unexplained_run_days,
        iso(row.unexplained_run_start),
        row.illness_sessions,
        row.illness_run_days,
        iso(row.illness_run_start),
        row.illness_longest_run_days,
        row.part_time_sessions,
        iso(row.part_time_first_date),
        row.suspension_sessions,
        row.suspension_episodes,
        bool(row.in_suspension_episode),
    ]


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "register_days",
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("marks", sa.LargeBinary, nullable=False),
        sa.Column("pupils", sa.Integer, nullable=False),
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("school_urn", "date", name="pk_register_days"),
    )
    op.create_table(
        "school_years",
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("states", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("school_urn", "academic_year", name="pk_school_years"),
    )
    op.create_table(
        "pupil_enrolments",
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("upn", "school_urn", "academic_year", name="pk_pupil_enrolments"),
    )
    if bind.dialect.name == "postgresql":
        for table, column in (("register_days", "marks"), ("school_years", "states")):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")

    registers, years, enrolments = _old_tables()
    marks, figures = _marks(), _figures()
    now = dt.datetime.now(dt.UTC)
    day: dict[str, list[str]] = {}
    feeds: dict[str, int] = {}
    key: tuple[str, dt.date] | None = None

    def flush() -> None:
        if key is not None and day:
            bind.execute(
                registers.insert().values(
                    school_urn=key[0],
                    date=key[1],
                    marks=msgspec.msgpack.encode(day),
                    pupils=len(day),
                    feed_id=max(feeds, key=lambda f: (feeds[f], f)),
                    updated_at=now,
                )
            )

    rows = bind.execute(
        sa.select(
            marks.c.school_urn, marks.c.date, marks.c.upn, marks.c.am, marks.c.pm, marks.c.feed_id
        )
        .order_by(marks.c.school_urn, marks.c.date, marks.c.upn)
        .execution_options(yield_per=CHUNK)
    )
    for school, date, upn, am, pm, feed_id in rows:
        if (school, date) != key:
            flush()
            key, day, feeds = (school, date), {}, {}
        day[upn] = [am, pm]
        feeds[feed_id] = feeds.get(feed_id, 0) + 1
    flush()

    states: dict[tuple[str, int], dict[str, list[Any]]] = defaultdict(dict)
    batch: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(figures)):
        states[(row.school_urn, row.academic_year)][row.upn] = _state(row)
        batch.append(
            {
                "upn": row.upn,
                "school_urn": row.school_urn,
                "academic_year": row.academic_year,
                "first_date": row.first_date,
            }
        )
    if batch:
        bind.execute(enrolments.insert(), batch)
    for (school, year), held in states.items():
        bind.execute(
            years.insert().values(
                school_urn=school,
                academic_year=year,
                states=msgspec.msgpack.encode(held),
                updated_at=now,
            )
        )
    op.drop_table("attendance_figures")
    op.drop_table("attendance_marks")
