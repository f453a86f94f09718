"""Databases for the tests: SQLite always; PostgreSQL from GATEWAY_TEST_DATABASE_URL, else
from testcontainers when a Docker engine answers, else the PostgreSQL cases are skipped with a
note saying how to run them (and fail instead when GATEWAY_TEST_REQUIRE_POSTGRES is set, as CI
does)."""

from __future__ import annotations

import os
import pathlib
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from gateway.store.schema import metadata
from tests.support import ManualClock

HOW_TO = (
    "PostgreSQL tests need a server: set GATEWAY_TEST_DATABASE_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) or start a Docker engine"
)
_server: dict[str, object] = {}


def _postgres_server_url() -> str | None:
    """URL of a PostgreSQL server the suite may create databases on, found once."""
    if "url" in _server:
        return _server["url"]  # type: ignore[return-value]
    url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
    if not url:
        url = _start_container()
    _server["url"] = url
    return url


def _start_container() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]
        from testcontainers.community.postgres import PostgresContainer

        docker.from_env().ping()
    except Exception:
        return None
    container = PostgresContainer("postgres:16-alpine", driver="psycopg")
    container.start()
    _server["container"] = container
    return str(container.get_connection_url())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _leave_out_seed_tests_without_seeds(items)
    wanted = [item for item in items if "postgres" in item.keywords]
    if not wanted or _postgres_server_url() is not None:
        return
    if os.environ.get("GATEWAY_TEST_REQUIRE_POSTGRES"):
        raise pytest.UsageError("GATEWAY_TEST_REQUIRE_POSTGRES is set but " + HOW_TO)
    marker = pytest.mark.skip(reason=HOW_TO)
    for item in wanted:
        item.add_marker(marker)


def _leave_out_seed_tests_without_seeds(items: list[pytest.Item]) -> None:
    """The policy documents are the authorities' publications, kept outside the repository;
    a clone without them still runs everything else (CI requires them)."""
    from tests.unit.rules import SEEDS

    wanted = [item for item in items if "seeds" in item.keywords]
    if not wanted or SEEDS.is_dir():
        return
    why = (
        f"policy documents not found at {SEEDS}: {len(wanted)} quote checks left out "
        "(set GATEWAY_POLICY_SOURCES to the folder of seed texts)"
    )
    if os.environ.get("GATEWAY_TEST_REQUIRE_SEEDS"):
        raise pytest.UsageError("GATEWAY_TEST_REQUIRE_SEEDS is set but the " + why)
    marker = pytest.mark.skip(reason=why)
    for item in wanted:
        item.add_marker(marker)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    container = _server.get("container")
    if container is not None:
        container.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session, migrated, dropped at the end."""
    server = _postgres_server_url()
    assert server is not None, HOW_TO
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    name = f"gateway_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _truncate(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    _truncate(engine)
    engine.dispose()
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[Store]:
    engine = make_engine(database_url)
    yield Store(engine, clock)
    engine.dispose()
