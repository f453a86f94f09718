"""Clients a deployment declares (`gateway client ensure`) are marked, so that one it stops
declaring can be revoked (`gateway client prune`); and the hash of every token taken out of
use (revoked or rotated away) is kept, so that it can never be brought back.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("provisioned", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "retired_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("client_name", sa.String(100), nullable=False),
        sa.Column("retired_at", UTCDateTime, nullable=False),
    )
    # Tokens of clients revoked before this revision are retired too.
    op.execute(
        "INSERT INTO retired_tokens (token_hash, client_name, retired_at) "
        "SELECT token_hash, name, revoked_at FROM clients WHERE revoked_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("retired_tokens")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("provisioned")
