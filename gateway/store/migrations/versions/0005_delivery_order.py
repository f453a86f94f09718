"""Delivery order per child (parked deliveries need no column: a status).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Existing rows are numbered by the identity as the column is added.
        op.add_column("outbox", sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False))
    else:
        with op.batch_alter_table("outbox") as batch:
            batch.add_column(sa.Column("position", sa.BigInteger))
        op.execute("UPDATE outbox SET position = rowid")
        with op.batch_alter_table("outbox") as batch:
            batch.alter_column("position", existing_type=sa.BigInteger, nullable=False)
    op.create_index("ix_outbox_child_order", "outbox", ["destination", "child_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_outbox_child_order", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("position")
