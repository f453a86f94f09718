"""Alembic environment: always run with a connection handed in by gateway.store.migrate."""

from __future__ import annotations

from alembic import context

from gateway.store.schema import is_partition, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # Each year's partition of a partitioned table belongs to the table declared.
    include_name=lambda name, kind, parent: not (kind == "table" and is_partition(str(name))),
)
with context.begin_transaction():
    context.run_migrations()
