"""A national store's attendance is partitioned by academic year (PostgreSQL): the look-ups of
a child's statistics (the figures judged, the marks they are rebuilt from, the child's
figures the API shows) and of concerns (the set-based judging of a batch, the open concerns
of the pupils judged) each read only the partitions of the years they are about, through an
index, as EXPLAIN shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.attendance.thresholds import load_thresholds
from gateway.store import Store, make_engine
from gateway.store.attendance_figures import FIGURES
from gateway.store.attendance_staging import Staging
from gateway.store.schema import metadata
from gateway.store.unit_of_work import UnitOfWork
from mappings.attendance_codes import load_codes
from tests.support import ManualClock

pytestmark = pytest.mark.postgres

SCHOOLS = 20
PUPILS = 150  # per school
DAYS = 20
SCHOOL = "400003"


def upn(school: int, pupil: int) -> str:
    return f"A{400000 + school:06d}{pupil:06d}"


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    """Two academic years of an authority's attendance, analysed as autovacuum would."""
    engine = make_engine(postgres_url)
    store = Store(engine, ManualClock())
    with engine.begin() as connection:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    with store.unit_of_work() as uow:
        uow.attendance.ensure_years([2024, 2025])
        connection = uow.connection
        for year in (2024, 2025):
            connection.exec_driver_sql(
                "INSERT INTO attendance_marks "
                "SELECT %(year)s, lpad((400000 + s)::text, 6, '0'), "
                "%(first)s::date + d, 'A' || lpad((400000 + s)::text, 6, '0') "
                "|| lpad(p::text, 6, '0'), '/', '/', 'feed' "
                "FROM generate_series(0, %(schools)s - 1) s, generate_series(0, %(pupils)s - 1) p, "
                "generate_series(0, %(days)s - 1) d",
                {
                    "year": year,
                    "first": dt.date(year, 9, 1),
                    "schools": SCHOOLS,
                    "pupils": PUPILS,
                    "days": DAYS,
                },
            )
            zero = [n for n in FIGURES if n not in ("last_date", "in_suspension_episode")]
            zero = [n for n in zero if not n.endswith(("_start", "_date"))]
            figures = (
                "INSERT INTO attendance_figures (academic_year, school_urn, upn, first_date, "  # noqa: S608
                f"last_date, in_suspension_episode, updated_at, {', '.join(zero)}) "
                "SELECT %(year)s, school_urn, upn, min(date), max(date), false, now(), "
                f"{', '.join('0' for _ in zero)} FROM attendance_marks "
                "WHERE academic_year = %(year)s GROUP BY school_urn, upn"
            )
            connection.exec_driver_sql(figures, {"year": year})
        connection.exec_driver_sql(
            "INSERT INTO children (id, upn, school_urn, ehcp_status, looked_after, created_at, "
            "updated_at) SELECT 'c-' || upn, upn, school_urn, 'none', false, now(), now() "
            "FROM attendance_figures WHERE academic_year = 2025"
        )
        connection.exec_driver_sql(
            "INSERT INTO attendance_concerns (id, child_id, upn, school_urn, kind, "
            "academic_year, status, rule_id, policy_ref, figures, feed_id, raised_at) "
            "SELECT 'k-' || upn || academic_year, 'c-' || upn, upn, school_urn, "
            "'persistent_absence', academic_year, "
            "CASE WHEN academic_year = 2025 THEN 'open' ELSE 'resolved' END, "
            "'persistent_absence', 'p', '{}', 'feed', now() FROM attendance_figures"
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("attendance_marks", "attendance_figures", "attendance_concerns"):
            connection.exec_driver_sql(f"ANALYZE {table}")
    yield store
    engine.dispose()


def plans(store: Store, look_up: Callable[[UnitOfWork], Any]) -> list[dict[str, Any]]:
    """The plans of the SELECTs ``look_up`` runs, as EXPLAIN (FORMAT JSON) gives them."""
    seen: list[tuple[str, Any]] = []

    def capture(connection: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with store.unit_of_work() as uow:
        look_up(uow)
        sa.event.listen(store.engine, "before_cursor_execute", capture)
        try:
            look_up(uow)
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", capture)
        return [
            uow.connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).scalar_one()[0][
                "Plan"
            ]
            for sql, params in seen
            if "pg_advisory" not in sql and "to_regclass" not in sql
        ]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans(plan: dict[str, Any], table: str) -> list[tuple[str, str, str | None]]:
    """(node type, relation, index used or None) of each scan of a partition of ``table``."""
    found = []
    for node in nodes(plan):
        relation = str(node.get("Relation Name", ""))
        if relation.startswith(table):
            index = node.get("Index Name")
            if node["Node Type"] == "Bitmap Heap Scan":
                index = next((n["Index Name"] for n in nodes(node) if n.get("Index Name")), None)
            found.append((node["Node Type"], relation, index))
    return found


def assert_pruned_to_2025_by_index(plan: dict[str, Any], table: str) -> None:
    found = scans(plan, table)
    assert found, plan
    assert {relation for _, relation, _ in found} == {f"{table}_2025"}, found
    assert all(index is not None for _, _, index in found), found


def test_the_figures_of_the_pupils_judged_are_read_from_their_year_by_index(
    store: Store,
) -> None:
    pupils = {(SCHOOL, 2025, upn(3, n)) for n in range(5)}
    [plan] = plans(store, lambda uow: uow.attendance.figures_of_pupils(pupils))
    assert_pruned_to_2025_by_index(plan, "attendance_figures")


def test_the_marks_a_childs_figures_are_rebuilt_from_come_from_their_year_by_index(
    store: Store,
) -> None:
    [plan] = plans(store, lambda uow: uow.attendance.marks_of(SCHOOL, 2025, [upn(3, 7)]))
    assert_pruned_to_2025_by_index(plan, "attendance_marks")


def test_a_childs_figures_every_year_are_read_by_index(store: Store) -> None:
    """Every year the child may have figures in (no year to prune by), each through its
    partition's index on the UPN (a year with none held may be planned as it likes)."""
    [plan] = plans(store, lambda uow: uow.attendance.figures_of_child(upn(3, 7)))
    found = {
        relation: index
        for _, relation, index in scans(plan, "attendance_figures")
        if relation in ("attendance_figures_2024", "attendance_figures_2025")
    }
    assert found == {
        "attendance_figures_2024": "attendance_figures_2024_upn_idx",
        "attendance_figures_2025": "attendance_figures_2025_upn_idx",
    }, plan


def test_a_batch_is_judged_against_its_own_year_only(store: Store) -> None:
    day = dt.date(2025, 9, 29)
    marks = [(upn(3, n), day, "N", "N") for n in range(PUPILS)]

    def judge(uow: UnitOfWork) -> Any:
        staging = Staging(uow.connection, load_codes())
        staging.add_day(SCHOOL, 2025, day, 0, "feed-next", marks, known=False)
        staging.load()
        return staging.judge(load_thresholds())

    [plan] = [p for p in plans(store, judge) if scans(p, "attendance_figures")]
    assert_pruned_to_2025_by_index(plan, "attendance_figures")


def test_the_open_concerns_of_the_pupils_judged_are_read_by_index(store: Store) -> None:
    [plan] = plans(store, lambda uow: uow.attendance.open_concerns_of([upn(3, 7), upn(4, 8)]))
    [(_, _, index)] = scans(plan, "attendance_concerns")
    assert index == "ix_attendance_concerns_upn", plan
