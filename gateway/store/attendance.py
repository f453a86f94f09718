"""Attendance persistence, set-based: a daily feed is hundreds of thousands of rows, so every
bulk path is one statement or one COPY (PostgreSQL) / executemany (SQLite), never a round
trip per row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.attendance.statistics import PupilYear
from gateway.clock import new_id
from gateway.errors import NotFound
from gateway.model.attendance import FeedReport, RejectedRecord
from gateway.store.attendance_figures import FIGURES, figures_row, pupil_year
from gateway.store.rows import plain as _plain
from gateway.store.schema import (
    PARTITIONED_BY_YEAR,
    attendance_concerns,
    attendance_feeds,
    attendance_figures,
    attendance_mark_changes,
    attendance_marks,
    children,
    feed_rejections,
    inbound_archive,
    partition_ddl,
    partition_name,
)
from gateway.store.types import UTCDateTime

# A feed in one of these states is being read by the request (or worker) that holds it.
READING = ("received", "parsing")
APPLIER_LOCK = 1_901_996  # advisory lock key held while attendance feeds are applied
_SQLITE_CHUNK = 900  # stays under SQLite's bound-parameter limit on every build


class AttendanceRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    # --- archive and feeds --------------------------------------------------------------------

    def create_feed(
        self,
        *,
        archive_id: str,
        client_id: str,
        sha256: str,
        school_urn: str | None,
        fmt: str,
        academic_year: int | None,
        now: dt.datetime,
    ) -> str:
        feed_id = new_id()
        self._connection.execute(
            attendance_feeds.insert().values(
                id=feed_id,
                archive_id=archive_id,
                client_id=client_id,
                sha256=sha256,
                school_urn=school_urn,
                format=fmt,
                status="received",
                academic_year=academic_year,
                received_at=now,
                updated_at=now,
                records_received=0,
                records_accepted=0,
                records_rejected=0,
                marks_changed=0,
                concerns_raised=0,
                notes=[],
            )
        )
        return feed_id

    def update_feed(self, feed_id: str, now: dt.datetime, **values: Any) -> None:
        self._connection.execute(
            attendance_feeds.update()
            .where(attendance_feeds.c.id == feed_id)
            .values(updated_at=now, **values)
        )

    def update_reading(self, feed_id: str, attempt: int, now: dt.datetime, **values: Any) -> bool:
        """Update a feed still being read by the holder of ``attempt`` (0: the request that
        brought it; n: the worker that took it back the n-th time); False when it is not (a
        worker took it back after its reading stalled), and nothing is written."""
        result = self._connection.execute(
            attendance_feeds.update()
            .where(
                attendance_feeds.c.id == feed_id,
                attendance_feeds.c.status.in_(READING),
                attendance_feeds.c.parse_attempts == attempt,
            )
            .values(updated_at=now, **values)
        )
        return result.rowcount == 1

    def still_reading(self, feed_id: str, attempt: int) -> bool:
        """Whether the holder of ``attempt`` still holds the feed; locks it until the unit of
        work ends, so no worker takes it back meanwhile."""
        found = self._connection.execute(
            sa.select(attendance_feeds.c.id)
            .where(
                attendance_feeds.c.id == feed_id,
                attendance_feeds.c.status.in_(READING),
                attendance_feeds.c.parse_attempts == attempt,
            )
            .with_for_update()
        ).first()
        return found is not None

    def next_stalled(self, before: dt.datetime) -> dict[str, Any] | None:
        """The oldest feed still being read with no progress since ``before``, locked (other
        workers skip it), with its archive's digest and compressed body."""
        row = self._connection.execute(
            sa.select(
                attendance_feeds,
                inbound_archive.c.content_type,
                inbound_archive.c.size,
                inbound_archive.c.body.label("archived_body"),
            )
            .join(inbound_archive, inbound_archive.c.id == attendance_feeds.c.archive_id)
            .where(
                attendance_feeds.c.status.in_(READING),
                attendance_feeds.c.updated_at < before,
            )
            .order_by(attendance_feeds.c.received_at, attendance_feeds.c.id)
            .limit(1)
            .with_for_update(of=attendance_feeds, skip_locked=True)
        ).first()
        return None if row is None else dict(row._mapping)

    def later_feed_applied(
        self, school_urn: str, received_at: dt.datetime, feed_id: str
    ) -> str | None:
        """A feed from this school received after ``received_at`` and applied already."""
        return self._connection.execute(
            sa.select(attendance_feeds.c.id)
            .where(
                attendance_feeds.c.school_urn == school_urn,
                attendance_feeds.c.status == "completed",
                attendance_feeds.c.received_at > received_at,
                attendance_feeds.c.id != feed_id,
            )
            .order_by(attendance_feeds.c.received_at)
            .limit(1)
        ).scalar()

    def completed_feed_with(self, sha256: str, school_urn: str | None) -> str | None:
        # Queued counts too: it will be applied, so the same feed again is the same feed (a
        # sender retrying after a lost answer). One cut off mid-read is not: it never finishes.
        query = sa.select(attendance_feeds.c.id).where(
            attendance_feeds.c.sha256 == sha256,
            attendance_feeds.c.status.in_(("queued", "completed")),
        )
        if school_urn is not None:
            query = query.where(attendance_feeds.c.school_urn == school_urn)
        return self._connection.execute(
            query.order_by(attendance_feeds.c.received_at).limit(1)
        ).scalar()

    def claim_queued(self, limit: int) -> list[tuple[str, bytes]]:
        """The oldest validated feeds waiting to be applied, as (feed id, staged records)."""
        rows = self._connection.execute(
            sa.select(attendance_feeds.c.id, attendance_feeds.c.staged)
            .where(attendance_feeds.c.status == "queued")
            .order_by(attendance_feeds.c.received_at, attendance_feeds.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(feed_id, bytes(staged)) for feed_id, staged in rows]

    def wait_for_applier(self) -> None:
        """Wait for the applier's turn (held until the unit of work ends): whatever a running
        batch applies is committed before this unit of work reads on."""
        if self._dialect == "postgresql":
            self._connection.execute(sa.select(sa.func.pg_advisory_xact_lock(APPLIER_LOCK)))

    def hold_applier(self) -> bool:
        """One applier at a time, so a school's feeds are applied in the order received;
        others find it held and try again later. SQLite's write lock already serialises."""
        if self._dialect != "postgresql":
            return True
        held = self._connection.execute(
            sa.select(sa.func.pg_try_advisory_xact_lock(APPLIER_LOCK))
        ).scalar_one()
        return bool(held)

    def complete_feeds(self, outcomes: dict[str, tuple[int, int]], now: dt.datetime) -> None:
        """``outcomes``: feed id -> (marks changed, concerns raised)."""
        if outcomes:
            self._connection.execute(
                attendance_feeds.update()
                .where(attendance_feeds.c.id == sa.bindparam("k_id"))
                .values(
                    status="completed",
                    completed_at=now,
                    updated_at=now,
                    staged=None,
                    marks_changed=sa.bindparam("k_changed"),
                    concerns_raised=sa.bindparam("k_raised"),
                ),
                [
                    {"k_id": feed_id, "k_changed": changed, "k_raised": raised}
                    for feed_id, (changed, raised) in outcomes.items()
                ],
            )

    def feed_owner(self, feed_id: str) -> str | None:
        return self._connection.execute(
            sa.select(attendance_feeds.c.client_id).where(attendance_feeds.c.id == feed_id)
        ).scalar()

    def add_rejections(self, feed_id: str, rejected: Sequence[RejectedRecord]) -> None:
        if rejected:
            self._connection.execute(
                feed_rejections.insert(),
                [
                    {"feed_id": feed_id, "seq": n, **msgspec.structs.asdict(r)}
                    for n, r in enumerate(rejected, start=1)
                ],
            )

    def feed_report(
        self,
        feed_id: str,
        rejected_limit: int = 10_000,
        *,
        stalled_before: dt.datetime | None = None,
    ) -> FeedReport:
        """The feed as it stands. With ``stalled_before``, a feed still being read with no
        progress since then reads ``stalled``: its reading was cut off."""
        row = self._connection.execute(
            sa.select(attendance_feeds).where(attendance_feeds.c.id == feed_id)
        ).first()
        if row is None:
            raise NotFound(f"no attendance feed {feed_id}")
        rejected = self._connection.execute(
            sa.select(feed_rejections.c.locator, feed_rejections.c.field, feed_rejections.c.reason)
            .where(feed_rejections.c.feed_id == feed_id)
            .order_by(feed_rejections.c.seq)
            .limit(rejected_limit)
        )
        fields = row._mapping
        status, error = fields["status"], fields["error"]
        if (
            stalled_before is not None
            and status in READING
            and fields["updated_at"] < stalled_before
        ):
            status = "stalled"
            error = (
                f"no progress since {fields['updated_at'].isoformat()}: its reading was cut "
                "off (the process reading it stopped, or its sender went away), and it will "
                "be read again from its archive by the gateway's worker"
            )
        return FeedReport(
            id=fields["id"],
            school_urn=fields["school_urn"],
            format=fields["format"],
            status=status,
            received_at=fields["received_at"],
            completed_at=fields["completed_at"],
            records_received=fields["records_received"],
            records_accepted=fields["records_accepted"],
            records_rejected=fields["records_rejected"],
            marks_changed=fields["marks_changed"],
            concerns_raised=fields["concerns_raised"],
            period_start=fields["period_start"],
            period_end=fields["period_end"],
            rejected=[RejectedRecord(locator=a, field=b, reason=c) for a, b, c in rejected],
            notes=list(fields["notes"] or []),
            error=error,
        )

    # --- marks and running figures ------------------------------------------------------------

    def ensure_years(self, years: Iterable[int]) -> None:
        """The partitions of these academic years exist (PostgreSQL: created the first time a
        feed brings the year; SQLite's tables are not partitioned)."""
        if self._dialect != "postgresql":
            return
        for year in sorted(set(years)):
            for table in PARTITIONED_BY_YEAR:
                name = partition_name(table, year)
                found = self._connection.execute(sa.select(sa.func.to_regclass(name))).scalar()
                if found is None:
                    self._connection.exec_driver_sql(partition_ddl(table, year))

    def known_days(
        self, dates: dict[tuple[str, int], set[dt.date]]
    ) -> defaultdict[str, set[dt.date]]:
        """Of these (school, academic year) -> dates, the dates each school has marks for
        already: a day sent again, whose marks may correct those held."""
        found: defaultdict[str, set[dt.date]] = defaultdict(set)
        by_year: dict[int, tuple[set[str], set[dt.date]]] = {}
        for (school, year), days in dates.items():
            schools, wanted = by_year.setdefault(year, (set(), set()))
            schools.add(school)
            wanted |= days
        for year, (schools, wanted) in by_year.items():
            for chunk in self._chunks(schools):
                rows = self._connection.execute(
                    sa.select(attendance_marks.c.school_urn, attendance_marks.c.date)
                    .distinct()
                    .where(
                        attendance_marks.c.academic_year == year,
                        self._in(attendance_marks.c.school_urn, chunk),
                        attendance_marks.c.date.in_(sorted(wanted)),
                    )
                )
                for school, date in rows:
                    if date in dates.get((school, year), ()):
                        found[school].add(date)
        return found

    def marks_of(
        self, school_urn: str, academic_year: int, upns: Iterable[str]
    ) -> dict[str, list[tuple[dt.date, str, str]]]:
        """These pupils' marks at the school over the academic year, in date order (what a
        pupil's figures are rebuilt from)."""
        found: dict[str, list[tuple[dt.date, str, str]]] = {}
        for chunk in self._chunks(upns):
            rows = self._connection.execute(
                sa.select(
                    attendance_marks.c.upn,
                    attendance_marks.c.date,
                    attendance_marks.c.am,
                    attendance_marks.c.pm,
                )
                .where(
                    attendance_marks.c.academic_year == academic_year,
                    attendance_marks.c.school_urn == school_urn,
                    self._in(attendance_marks.c.upn, chunk),
                )
                .order_by(attendance_marks.c.date)
            )
            for upn, date, am, pm in rows:
                found.setdefault(upn, []).append((date, am, pm))
        return found

    def write_marks(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace marks (academic_year, school_urn, date, upn, am, pm, feed_id)."""
        if not rows:
            return
        insert = self._insert(attendance_marks)
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=["academic_year", "school_urn", "date", "upn"],
                set_={
                    "am": insert.excluded.am,
                    "pm": insert.excluded.pm,
                    "feed_id": insert.excluded.feed_id,
                },
            ),
            list(rows),
        )

    def figures_in(self, school_urn: str, academic_year: int) -> dict[str, PupilYear]:
        """Every enrolled pupil's figures for one school and year."""
        rows = self._connection.execute(
            sa.select(attendance_figures).where(
                attendance_figures.c.academic_year == academic_year,
                attendance_figures.c.school_urn == school_urn,
            )
        )
        return {row.upn: pupil_year(row._mapping) for row in rows}

    def write_figures(
        self,
        school_urn: str,
        states: dict[str, PupilYear],
        first_dates: dict[str, dt.date],
        now: dt.datetime,
    ) -> None:
        """Insert or replace these pupils' figures; ``first_dates`` are kept for a new
        enrolment only."""
        if not states:
            return
        insert = self._insert(attendance_figures)
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=["academic_year", "school_urn", "upn"],
                set_={name: insert.excluded[name] for name in (*FIGURES, "updated_at")},
            ),
            [
                {
                    "academic_year": state.academic_year,
                    "school_urn": school_urn,
                    "upn": upn,
                    "first_date": first_dates.get(upn) or state.last_date,
                    "updated_at": now,
                    **figures_row(state),
                }
                for upn, state in states.items()
            ],
        )

    def figures_of_pupils(
        self, pupils: Iterable[tuple[str, int, str]]
    ) -> dict[tuple[str, int, str], PupilYear]:
        """These pupils' figures, keyed (school, academic year, UPN) as asked."""
        wanted = set(pupils)
        by_year: dict[int, set[str]] = defaultdict(set)
        for _, year, upn in wanted:
            by_year[year].add(upn)
        found: dict[tuple[str, int, str], PupilYear] = {}
        for year, upns in by_year.items():
            for chunk in self._chunks(upns):
                rows = self._connection.execute(
                    sa.select(attendance_figures).where(
                        attendance_figures.c.academic_year == year,
                        self._in(attendance_figures.c.upn, chunk),
                    )
                )
                for row in rows:
                    key = (row.school_urn, year, row.upn)
                    if key in wanted:
                        found[key] = pupil_year(row._mapping)
        return found

    def figures_of_child(self, upn: str) -> list[tuple[str, PupilYear]]:
        """A pupil's figures at each school and year, as (school URN, figures), by year and
        first date."""
        rows = self._connection.execute(
            sa.select(attendance_figures)
            .where(attendance_figures.c.upn == upn)
            .order_by(attendance_figures.c.academic_year, attendance_figures.c.first_date)
        )
        return [(row.school_urn, pupil_year(row._mapping)) for row in rows]

    def add_changes(self, changes: Sequence[dict[str, Any]]) -> None:
        if changes:
            self._connection.execute(attendance_mark_changes.insert(), list(changes))

    def with_ehcp(self, upns: Iterable[str]) -> set[str]:
        """Which of these pupils have an EHC plan (or a draft): some thresholds differ."""
        found: set[str] = set()
        for chunk in self._chunks(upns):
            found.update(
                self._connection.execute(
                    sa.select(children.c.upn).where(
                        self._in(children.c.upn, chunk),
                        children.c.ehcp_status.in_(("draft", "issued")),
                    )
                ).scalars()
            )
        return found

    # --- children and concerns ------------------------------------------------------------------

    def child_ids(self, upns: Iterable[str]) -> dict[str, str]:
        """UPN -> child id, for the children already known."""
        found: dict[str, str] = {}
        for chunk in self._chunks(upns):
            rows = self._connection.execute(
                sa.select(children.c.upn, children.c.id).where(self._in(children.c.upn, chunk))
            )
            found.update((upn, child_id) for upn, child_id in rows)
        return found

    def add_minimal_children(self, school_of: dict[str, str], now: dt.datetime) -> dict[str, str]:
        """Children known so far only by UPN and school (a feed raised a concern about them)."""
        rows: list[dict[str, Any]] = [
            {
                "id": new_id(),
                "upn": upn,
                "school_urn": school,
                "ehcp_status": "none",
                "looked_after": False,
                "created_at": now,
                "updated_at": now,
            }
            for upn, school in school_of.items()
        ]
        if rows:
            self._connection.execute(children.insert(), rows)
        return {row["upn"]: row["id"] for row in rows}

    def upsert_identities(self, identities: Sequence[dict[str, Any]], now: dt.datetime) -> None:
        """CTF pupil identities: fill in who a child is, never overwrite a fuller record."""
        if not identities:
            return
        insert = self._insert(children)
        statement = insert.on_conflict_do_update(
            index_elements=["upn"],
            set_={
                "given_name": sa.func.coalesce(children.c.given_name, insert.excluded.given_name),
                "family_name": sa.func.coalesce(
                    children.c.family_name, insert.excluded.family_name
                ),
                "date_of_birth": sa.func.coalesce(
                    children.c.date_of_birth, insert.excluded.date_of_birth
                ),
                "updated_at": insert.excluded.updated_at,
            },
        )
        self._connection.execute(
            statement,
            [
                {
                    "id": new_id(),
                    "ehcp_status": "none",
                    "looked_after": False,
                    "created_at": now,
                    "updated_at": now,
                    **identity,
                }
                for identity in identities
            ],
        )

    def open_concerns_of(self, upns: Iterable[str]) -> list[dict[str, Any]]:
        """The concerns open about these pupils (at any school, in any year)."""
        found: list[dict[str, Any]] = []
        for chunk in self._chunks(upns):
            rows = self._connection.execute(
                sa.select(attendance_concerns).where(
                    self._in(attendance_concerns.c.upn, chunk),
                    attendance_concerns.c.status == "open",
                )
            )
            found += [_plain(r) for r in rows]
        return found

    def add_concerns(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._connection.execute(attendance_concerns.insert(), list(rows))

    def resolve_concerns(self, ids: Sequence[str], now: dt.datetime) -> None:
        for chunk in self._chunks(ids):
            self._connection.execute(
                attendance_concerns.update()
                .where(self._in(attendance_concerns.c.id, chunk))
                .values(status="resolved", resolved_at=now)
            )

    def concerns_page(
        self,
        *,
        status: str | None,
        kind: str | None,
        school_urn: str | None,
        child_id: str | None,
        cursor: tuple[dt.datetime, str] | None,
        limit: int,
        within: sa.ColumnElement[bool] | None = None,
    ) -> list[dict[str, Any]]:
        """``within``: a bound client's reach (gateway/security/reach.py)."""
        query = sa.select(attendance_concerns)
        if within is not None:
            query = query.where(within)
        for column, value in (
            ("status", status),
            ("kind", kind),
            ("school_urn", school_urn),
            ("child_id", child_id),
        ):
            if value is not None:
                query = query.where(attendance_concerns.c[column] == value)
        if cursor is not None:
            query = query.where(
                sa.tuple_(attendance_concerns.c.raised_at, attendance_concerns.c.id)
                < sa.tuple_(sa.literal(cursor[0], UTCDateTime), sa.literal(cursor[1]))
            )
        query = query.order_by(
            attendance_concerns.c.raised_at.desc(), attendance_concerns.c.id.desc()
        ).limit(limit)
        return [_plain(r) for r in self._connection.execute(query)]

    # --- helpers --------------------------------------------------------------------------------

    @property
    def _dialect(self) -> str:
        return self._connection.dialect.name

    def _insert(self, table: sa.Table) -> Any:
        """INSERT with ON CONFLICT, in this store's dialect."""
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    def _raw_cursor(self) -> Any:
        """The psycopg cursor under this transaction, for COPY."""
        return self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _chunks(self, values: Iterable[str]) -> Iterator[list[str]]:
        items = list(dict.fromkeys(values))
        size = (len(items) or 1) if self._dialect == "postgresql" else _SQLITE_CHUNK
        for start in range(0, len(items), size):
            yield items[start : start + size]

    def _in(self, column: sa.Column[Any], values: list[str]) -> sa.ColumnElement[bool]:
        if self._dialect == "postgresql":
            # One text parameter split by the server: no bound parameter (or Python-side array
            # processing) per value. Identifiers never contain a comma.
            joined = sa.bindparam(None, ",".join(values), type_=sa.Text)
            return column == sa.any_(sa.func.string_to_array(joined, ","))
        return column.in_(values)
