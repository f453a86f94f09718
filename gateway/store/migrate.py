"""Apply the Alembic migrations that ship inside the package (no alembic.ini needed)."""

from __future__ import annotations

import pathlib

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = pathlib.Path(__file__).with_name("migrations")


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def pending_revisions(engine: sa.Engine) -> bool:
    """True when the database is behind the code (readiness refuses traffic then)."""
    with engine.connect().execution_options(read_only=True) as connection:
        current = MigrationContext.configure(connection).get_current_heads()
        head = ScriptDirectory.from_config(alembic_config(connection)).get_heads()
    return set(current) != set(head)
