"""A batch of feeds applied set-based: the marks go into a staging table in one COPY
(PostgreSQL; one executemany on SQLite), and every later step is one statement over it,
whatever the number of pupils.

Each staged row is one mark (a pupil's two sessions on a date) with what its codes count for
already resolved (``day_counts``: sessions by category, possible, attended, ...), so moving
every pupil's figures on by the day is one ``UPDATE ... FROM`` (attendance_figures.advanced)
with no join to a code table. The applier (gateway/intake/feed_apply.py) also says, per row:

- ``is_latest``: the last version of this pupil and date in the batch (two feeds of one
  school in one batch may both send a day); only the last is kept;
- ``is_single``: the pupil's only row in the batch for the school and year. A pupil with
  several dates (a year-to-date load) is rebuilt from the marks instead;
- ``is_known``: the school already had marks for that date before the batch (a day sent
  again). Only those rows are looked up in attendance_marks, which is what keeps a new
  day's rows from costing an index probe each into the year's marks;
- ``prev_am``/``prev_pm``: the version this row replaces in the batch, if any.

The rows that take the fast path (latest, single, not known, later than the pupil's last
date or a pupil's first) are moved on in SQL; the others are the rare path, rebuilt in
Python for those pupils only (statistics.rebuild). The thresholds are judged in SQL too:
only the pupils whose crossed thresholds change by the day come back to be judged in
Python and have their concerns raised or resolved (attendance_concerns.settle_concerns).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.attendance.thresholds import Threshold
from gateway.store.attendance_figures import (
    CATEGORIES,
    FIGURES,
    advanced,
    column_view,
    crossed,
    figures_read,
    term_of_date,
    values_of,
    zero_view,
)
from gateway.store.schema import attendance_figures, attendance_mark_changes, attendance_marks
from gateway.store.types import UTCDateTime
from mappings.attendance_codes import CodeTable

# What a day's two marks count for, in staged column order: sessions by category (every
# code), then over its possible sessions only: possible, attended, whether every one was
# unexplained (1/0), illness sessions, whether every one was illness, suspension and
# part-time sessions.
COUNTS = (
    *CATEGORIES,
    "possible",
    "attended",
    "unexplained_day",
    "illness",
    "illness_day",
    "suspension",
    "part_time",
)
_temporary = sa.MetaData()
staged = sa.Table(
    "attendance_staged",
    _temporary,
    sa.Column("academic_year", sa.Integer, nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("term", sa.SmallInteger, nullable=False),  # attendance_figures.TERM_NUMBER
    sa.Column("upn", sa.String(13), nullable=False),
    sa.Column("am", sa.String(2), nullable=False),
    sa.Column("pm", sa.String(2), nullable=False),
    *(sa.Column(name, sa.SmallInteger, nullable=False) for name in COUNTS),
    sa.Column("feed_id", sa.String(36), nullable=False),
    sa.Column("is_single", sa.SmallInteger, nullable=False),
    sa.Column("is_latest", sa.SmallInteger, nullable=False),
    sa.Column("is_known", sa.SmallInteger, nullable=False),
    sa.Column("prev_am", sa.String(2)),
    sa.Column("prev_pm", sa.String(2)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
COLUMNS = tuple(c.name for c in staged.c)
_SQLITE_CHUNK = 900


def day_counts(am: str, pm: str, codes: CodeTable) -> tuple[int, ...]:
    """What one date's marks add to a pupil's figures (COUNTS), as ``apply_day`` counts
    them; ValueError for an unknown code."""
    sessions = dict.fromkeys(CATEGORIES, 0)
    possible = attended = unexplained = illness = suspension = part_time = 0
    for code in (am, pm):
        if not code:
            continue
        info = codes.get(code)
        if info is None:
            raise ValueError(f"unknown register code in am={am!r} pm={pm!r}")
        sessions[info.category] += 1
        if info.possible:
            possible += 1
            attended += info.attended
            unexplained += info.unexplained
            illness += info.illness
            suspension += info.suspension
            part_time += info.part_time
    return (
        *(sessions[c] for c in CATEGORIES),
        possible,
        attended,
        int(bool(possible) and unexplained == possible),
        illness,
        int(bool(possible) and illness == possible),
        suspension,
        part_time,
    )


def _copy_text(value: str) -> str:
    """A value as COPY's text format reads it."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class StagedRow(NamedTuple):
    """One staged mark before its codes are resolved (the rare path's rows)."""

    upn: str
    date: dt.date
    am: str
    pm: str
    feed_id: str
    is_single: int
    is_latest: int
    is_known: int
    prev: tuple[str, str] | None


class _Pairs(dict[tuple[str, str], str]):
    """(am, pm) -> the staged columns from am to the last count, as COPY text."""

    def __init__(self, codes: CodeTable) -> None:
        super().__init__()
        self.codes = codes

    def __missing__(self, pair: tuple[str, str]) -> str:
        am, pm = pair
        counts = day_counts(am, pm, self.codes)
        text = "\t".join([_copy_text(am), _copy_text(pm), *map(str, counts)])
        self[pair] = text
        return text


class Staging:
    """The staged batch and the statements over it, within one unit of work."""

    def __init__(self, connection: sa.Connection, codes: CodeTable) -> None:
        self._connection = connection
        self._codes = codes
        self._pairs = _Pairs(codes)
        self._postgres = connection.dialect.name == "postgresql"
        self._buffer: list[str] = []
        self._tuples: list[tuple[Any, ...]] = []
        self.years: set[int] = set()
        self.schools: set[str] = set()
        self.any_known = False
        self.any_prev = False
        self.fast_candidates = 0  # rows latest, single and not known
        # Pupils of days sent again (school, year, UPN): judged whatever their marks, as a
        # feed's pupils always were.
        self.known_pupils: set[tuple[str, int, str]] = set()
        self.rows = 0

    # --- filling it ------------------------------------------------------------------------------

    def add_day(
        self,
        school_urn: str,
        academic_year: int,
        date: dt.date,
        term: int,
        feed_id: str,
        marks: Sequence[tuple[str, dt.date, str, str]],
        *,
        known: bool,
    ) -> None:
        """One feed's marks, all for one date, each pupil once: the daily feed."""
        self.years.add(academic_year)
        self.schools.add(school_urn)
        self.any_known |= known
        if known:
            self.known_pupils.update((school_urn, academic_year, mark[0]) for mark in marks)
        else:
            self.fast_candidates += len(marks)
        self.rows += len(marks)
        flags = (1, 1, int(known))
        if self._postgres:
            pairs = self._pairs
            head = f"{academic_year:d}\t{school_urn}\t{date.isoformat()}\t{term:d}\t"
            tail = f"\t{feed_id}\t{flags[0]}\t{flags[1]}\t{flags[2]}\t\\N\t\\N\n"
            self._buffer.append(
                "".join([head + upn + "\t" + pairs[am, pm] + tail for upn, _, am, pm in marks])
            )
        else:
            counts = self._counts()
            start = (academic_year, school_urn, date.isoformat(), term)
            end = (feed_id, *flags, None, None)
            self._tuples += [
                (*start, upn, am, pm, *counts(am, pm), *end) for upn, _, am, pm in marks
            ]

    def add_rows(
        self, school_urn: str, academic_year: int, terms: dict[dt.date, int], rows: list[StagedRow]
    ) -> None:
        """Marks with their flags worked out by the caller (the rare path)."""
        self.years.add(academic_year)
        self.schools.add(school_urn)
        counts = self._counts()
        self.rows += len(rows)
        for row in rows:
            self.any_known |= bool(row.is_known)
            self.any_prev |= row.prev is not None
            if row.is_latest and row.is_single and not row.is_known:
                self.fast_candidates += 1
            if row.is_known:
                self.known_pupils.add((school_urn, academic_year, row.upn))
            prev = row.prev or (None, None)
            values = (
                academic_year,
                school_urn,
                row.date.isoformat(),
                terms[row.date],
                row.upn,
                row.am,
                row.pm,
                *counts(row.am, row.pm),
                row.feed_id,
                row.is_single,
                row.is_latest,
                row.is_known,
                *prev,
            )
            if self._postgres:
                self._buffer.append(
                    "\t".join("\\N" if v is None else _copy_text(str(v)) for v in values) + "\n"
                )
            else:
                self._tuples.append(values)

    def _counts(self) -> Any:
        cache: dict[tuple[str, str], tuple[int, ...]] = {}

        def counts(am: str, pm: str) -> tuple[int, ...]:
            found = cache.get((am, pm))
            if found is None:
                found = cache[(am, pm)] = day_counts(am, pm, self._codes)
            return found

        return counts

    def load(self) -> None:
        """The staging table, created for this transaction, filled in one COPY."""
        self._connection.execute(sa.schema.CreateTable(staged, if_not_exists=True))
        self._connection.execute(staged.delete())
        if self._postgres:
            # For this transaction only: room to hash a batch's rows in memory, and no merge
            # joins, whose sorts of the batch and of the figures by their text keys cost more
            # than hashing or an index probe a row (the figures just written may not be
            # analysed yet, and then look small enough to sort).
            self._connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
            self._connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")
            names = ", ".join(COLUMNS)
            driver = self._connection.connection.driver_connection
            with (
                driver.cursor() as cursor,  # type: ignore[union-attr]
                cursor.copy(f"COPY attendance_staged ({names}) FROM STDIN") as copy,
            ):
                for chunk in self._buffer:
                    copy.write(chunk)
            # How many rows, and how many on each path: enough for the planner to hash the
            # batch against the figures, at a tenth of the cost of analysing every column.
            self._connection.exec_driver_sql(
                "ANALYZE attendance_staged (is_latest, is_single, is_known)"
            )
        elif self._tuples:
            marks = ", ".join("?" for _ in COLUMNS)
            statement = f"INSERT INTO attendance_staged VALUES ({marks})"  # noqa: S608
            self._connection.exec_driver_sql(statement, self._tuples)
        self._buffer, self._tuples = [], []

    def clear(self) -> None:
        """Empty it (SQLite keeps the table for the connection; PostgreSQL drops it at commit)."""
        if not self._postgres:
            self._connection.execute(staged.delete())

    # --- statements over it -----------------------------------------------------------------

    def _key(self, table: sa.Table) -> sa.ColumnElement[bool]:
        """A staged row's pupil in ``table``; the batch's years and schools as constants, so
        the planner reads only those years' partitions, and only those schools in them."""
        schools = sorted(self.schools)
        if self._postgres:
            # One text parameter however many schools (identifiers never hold a comma).
            joined = sa.bindparam("batch_schools", ",".join(schools), type_=sa.Text)
            in_batch = table.c.school_urn == sa.any_(sa.func.string_to_array(joined, ","))
        else:
            in_batch = table.c.school_urn.in_(schools)
        return sa.and_(
            table.c.academic_year == staged.c.academic_year,
            table.c.school_urn == staged.c.school_urn,
            table.c.upn == staged.c.upn,
            table.c.academic_year.in_(sorted(self.years)),
            in_batch,
        )

    def _mark_key(self) -> sa.ColumnElement[bool]:
        return sa.and_(self._key(attendance_marks), attendance_marks.c.date == staged.c.date)

    def _fast(self) -> list[sa.ColumnElement[bool]]:
        """The fast path's rows (none of the conditions when every row is, as on a day of
        daily feeds: the planner then knows the whole table is joined)."""
        if self.fast_candidates == self.rows:
            return []
        s = staged.c
        return [s.is_latest == 1, s.is_single == 1, s.is_known == 0]

    def record_changes(self, now: dt.datetime) -> Counter[str]:
        """A staged mark that differs from the one it replaces (held before the batch, or an
        earlier version in the batch) is a correction: recorded with its old and new codes,
        from the rows as they stand before the marks are written. Returns the corrections
        by feed."""
        if not (self.any_known or self.any_prev):
            return Counter()
        s, m = staged.c, attendance_marks.c
        old_am = sa.func.coalesce(s.prev_am, m.am)
        old_pm = sa.func.coalesce(s.prev_pm, m.pm)
        source = staged.outerjoin(
            attendance_marks, sa.and_(self._mark_key(), s.prev_am.is_(None), s.is_known == 1)
        )
        select = (
            sa.select(
                s.upn,
                s.date,
                s.school_urn,
                old_am,
                old_pm,
                s.am,
                s.pm,
                s.feed_id,
                sa.literal(now, UTCDateTime),
            )
            .select_from(source)
            .where(
                sa.or_(s.is_known == 1, s.prev_am.is_not(None)),
                old_am.is_not(None),
                sa.or_(old_am != s.am, old_pm != s.pm),
            )
        )
        names = ["upn", "date", "school_urn", "old_am", "old_pm", "new_am", "new_pm"]
        insert = (
            attendance_mark_changes.insert()
            .from_select([*names, "feed_id", "changed_at"], select)
            .returning(attendance_mark_changes.c.feed_id)
        )
        return Counter(self._connection.execute(insert).scalars())

    def changed_known(self) -> set[tuple[str, int, str]]:
        """Pupils (school, year, UPN) whose latest mark for a day sent before differs from
        the one held, or is new: their figures are rebuilt."""
        if not self.any_known:
            return set()
        s, m = staged.c, attendance_marks.c
        rows = self._connection.execute(
            sa.select(s.school_urn, s.academic_year, s.upn)
            .distinct()
            .select_from(staged.outerjoin(attendance_marks, self._mark_key()))
            .where(
                s.is_known == 1,
                s.is_latest == 1,
                sa.or_(m.upn.is_(None), m.am != s.am, m.pm != s.pm),
            )
        )
        return {(school, year, upn) for school, year, upn in rows}

    def judge(self, thresholds: Sequence[Threshold]) -> tuple[set[Any], set[Any]]:
        """Over the fast path's rows, before the figures are moved on: the pupils whose
        crossed thresholds the day changes, and those whose day is not after their last
        one (a date filled in later: rebuilt). Each as (school, year, UPN).

        A threshold with a value for pupils with an EHC plan is judged at both values, and a
        pupil whose new figures cross one and not the other comes back every time (whether
        they have a plan is read in Python, and may have changed). A term-rate threshold
        crossed before or after a change of term comes back too: its concern is per term."""
        f, s = attendance_figures, staged.c
        base = advanced(column_view(f, default_zero=True), staged)
        read = sorted({name for rule in thresholds for name in figures_read(rule)})
        gap = sa.and_(f.c.last_date.is_not(None), s.date <= f.c.last_date)
        # Each level is fenced (OFFSET 0) so the planner computes its columns once a row
        # rather than inlining them into every predicate above: the figures before and after
        # the day, then each threshold crossed before and after, then the rows that changed.
        values = (
            sa.select(
                s.school_urn,
                s.academic_year,
                s.upn,
                s.term,
                sa.case((gap, 1), else_=0).label("gap"),
                term_of_date(f.c.last_date, f.c.academic_year, sorted(self.years)).label(
                    "old_term"
                ),
                *(f.c[name].label(f"old_{name}") for name in read),  # NULL for a new pupil
                *(base[name].label(f"new_{name}") for name in read),
            )
            .select_from(staged.outerjoin(f, self._key(f)))
            .where(*self._fast())
            .offset(0)
            .subquery()
        )
        v = values.c
        old = {name: v[f"old_{name}"] for name in read}
        new = {name: v[f"new_{name}"] for name in read}
        columns: list[sa.ColumnElement[Any]] = [
            v.school_urn,
            v.academic_year,
            v.upn,
            v.gap,
            (v.old_term != v.term).label("moved"),
        ]
        bits: list[tuple[Threshold, int, str, str]] = []
        for rule in thresholds:
            for variant, value in enumerate(values_of(rule)):
                n = len(bits)
                columns.append(
                    sa.case((crossed(old, v.old_term, rule, value), 1), else_=0).label(f"o{n}")
                )
                columns.append(
                    sa.case((crossed(new, v.term, rule, value), 1), else_=0).label(f"n{n}")
                )
                bits.append((rule, variant, f"o{n}", f"n{n}"))
        inner = sa.select(*columns).offset(0).subquery()
        q = inner.c
        changed = [q[o] != q[n] for _, _, o, n in bits]
        by_rule: dict[str, list[str]] = {}
        for rule, _, _, new_bit in bits:
            by_rule.setdefault(rule.id, []).append(new_bit)
        ambiguous = [q[ns[0]] != q[ns[1]] for ns in by_rule.values() if len(ns) == 2]
        term_bits = [
            sa.or_(q[o] == 1, q[n] == 1) for rule, _, o, n in bits if rule.figure == "term_rate"
        ]
        conditions = [q.gap == 1, *changed, *ambiguous]
        if term_bits:
            conditions.append(sa.and_(q.moved, sa.or_(*term_bits)))
        rows = self._connection.execute(
            sa.select(q.school_urn, q.academic_year, q.upn, q.gap).where(sa.or_(*conditions))
        )
        crossing: set[Any] = set()
        gaps: set[Any] = set()
        for school, year, upn, is_gap in rows:
            (gaps if is_gap else crossing).add((school, year, upn))
        return crossing, gaps

    def write_marks(self) -> None:
        """Every latest staged mark into attendance_marks. A day no mark was held for goes in
        with a plain INSERT ... SELECT (nothing can conflict: the applier is the only writer
        and holds its lock); a day sent again is upserted, a mark that differs from the one
        held replacing it (and naming the feed it came from)."""
        s = staged.c
        names = ["academic_year", "school_urn", "date", "upn", "am", "pm", "feed_id"]
        columns = [s[n] for n in names]
        fresh = sa.select(*columns).where(s.is_latest == 1)
        if self.any_known:
            fresh = fresh.where(s.is_known == 0)
        self._connection.execute(attendance_marks.insert().from_select(names, fresh))
        if not self.any_known:
            return
        insert = (postgresql.insert if self._postgres else sqlite.insert)(attendance_marks)
        statement = insert.from_select(
            names, sa.select(*columns).where(s.is_latest == 1, s.is_known == 1)
        )
        held = attendance_marks.c
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["academic_year", "school_urn", "date", "upn"],
                set_={
                    "am": statement.excluded.am,
                    "pm": statement.excluded.pm,
                    "feed_id": statement.excluded.feed_id,
                },
                where=sa.or_(held.am != statement.excluded.am, held.pm != statement.excluded.pm),
            )
        )

    def advance_figures(self, now: dt.datetime) -> int:
        """The fast path: every pupil with figures moved on by their staged day, in one
        UPDATE ... FROM. Returns how many."""
        f = attendance_figures
        result = self._connection.execute(
            f.update()
            .where(
                self._key(f),
                *self._fast(),
                sa.or_(f.c.last_date.is_(None), staged.c.date > f.c.last_date),
            )
            .values(**advanced(column_view(f), staged), updated_at=sa.literal(now, UTCDateTime))
        )
        return int(result.rowcount)

    def first_figures(self, now: dt.datetime) -> int:
        """The fast path for pupils new to their school's year: their figures row, seeded
        with their first day, in one INSERT ... SELECT. Returns how many."""
        f, s = attendance_figures, staged.c
        seeded = advanced(zero_view(), staged)
        held: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(f).where(self._key(f))
        select = sa.select(
            s.academic_year,
            s.school_urn,
            s.upn,
            s.date,
            *(seeded[name] for name in FIGURES),
            sa.literal(now, UTCDateTime),
        ).where(*self._fast(), ~held.exists())
        names = ["academic_year", "school_urn", "upn", "first_date", *FIGURES, "updated_at"]
        result = self._connection.execute(f.insert().from_select(names, select))
        return int(result.rowcount)

    def with_stale_concerns(
        self, concerns: sa.Table, active: Iterable[str]
    ) -> set[tuple[str, int, str]]:
        """Staged pupils with a concern open under a threshold no longer judged (the
        authority's pack left it out since): judged again, their concern resolves."""
        s = staged.c
        rows = self._connection.execute(
            sa.select(concerns.c.school_urn, concerns.c.academic_year, concerns.c.upn)
            .distinct()
            .join(
                staged,
                sa.and_(
                    concerns.c.school_urn == s.school_urn,
                    concerns.c.academic_year == s.academic_year,
                    concerns.c.upn == s.upn,
                ),
            )
            .where(concerns.c.status == "open", concerns.c.rule_id.not_in(sorted(active)))
        )
        return {(school, year, upn) for school, year, upn in rows}
