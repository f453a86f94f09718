"""Engines for the two supported stores, with the settings each needs to be safe."""

from __future__ import annotations

import pathlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    # Bound parameters are child data (names, dates of birth): never in an error's text.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> sa.Engine:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        pathlib.Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Writers take the write lock up front: two writers then queue on busy_timeout
        # instead of one failing on lock upgrade; this is what makes outbox claims exclusive
        # on SQLite. Pure reads (read_only=True) begin deferred and never wait behind a writer.
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
