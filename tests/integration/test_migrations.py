"""The migrations build exactly the schema the code declares, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.model.delivery import OutboundMessage
from gateway.store import Store
from gateway.store.migrate import pending_revisions
from gateway.store.schema import is_partition, metadata


def test_migrated_database_matches_the_declared_schema(store: Store) -> None:
    """A year's partition of a partitioned table (PostgreSQL) is part of the declared table."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: (
                    not (kind == "table" and is_partition(str(name)))
                ),
            },
        )
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert pending_revisions(store.engine) is False


def test_existing_messages_are_numbered_in_the_order_they_were_written(store: Store) -> None:
    """0005 on a database with messages: one updated since it was written (a failed attempt)
    is still numbered before the one written after it, so it still goes first."""
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from gateway.store.migrate import alembic_config, upgrade
    from gateway.store.schema import outbox

    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    before = sa.Table(
        "outbox",
        sa.MetaData(),
        *[sa.Column(c.name, c.type) for c in outbox.c if c.name != "position"],
    )
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    with store.engine.begin() as connection:
        for n, key in enumerate(["m1", "m2"]):
            at = start + dt.timedelta(seconds=n)
            connection.execute(
                before.insert().values(
                    id=f"id-{key}",
                    destination="mosaic",
                    kind="k",
                    idempotency_key=key,
                    payload={},
                    child_id="child-1",
                    status="pending",
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE outbox SET attempts = 1 WHERE idempotency_key = 'm1'"))
    upgrade(store.engine)
    with store.unit_of_work() as uow:
        claimed = uow.outbox.claim(
            "w", start + dt.timedelta(minutes=5), dt.timedelta(minutes=5), 10
        )
        uow.outbox.enqueue(
            [
                OutboundMessage(
                    destination="mosaic",
                    kind="k",
                    idempotency_key="m3",
                    payload={},
                    child_id="child-2",
                )
            ],
            uow.now,
        )
    assert [m.idempotency_key for m in claimed] == ["m1"]
    with store.engine.connect() as connection:
        positions = dict(
            connection.execute(sa.select(outbox.c.idempotency_key, outbox.c.position)).all()
        )
    assert positions["m1"] < positions["m2"] < positions["m3"]  # the identity carries on after


def test_tokens_revoked_before_0011_stay_out_of_use(store: Store) -> None:
    """0011 retires the tokens of clients revoked earlier, so `client ensure` cannot bring a
    revoked token back."""
    import datetime as dt

    import pytest
    from alembic import command

    from gateway.errors import Conflict
    from gateway.security.clients import create_client, provision_client
    from gateway.security.tokens import token_hash
    from gateway.store.migrate import alembic_config, upgrade

    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0010")
    import sqlalchemy as sa

    token = "t" * 40
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO clients (id, name, token_hash, scopes, created_at, revoked_at) "
                "VALUES ('c1', 'old-team', :hash, 'nhs', :at, :at)"
            ),
            {"hash": token_hash(token), "at": dt.datetime(2026, 1, 5, 9, 0)},
        )
    upgrade(store.engine)
    with pytest.raises(Conflict, match="taken out of use"):
        provision_client(store, "old-team", ("nhs",), token)
    create_client(store, "another", ("nhs",))  # the table works as declared after it
