"""Routing kept: a case's panel and routing decision; what an attendance concern led to.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("panel", sa.String(32)))
        batch.add_column(sa.Column("routing", JSONDocument))
    with op.batch_alter_table("attendance_concerns") as batch:
        batch.add_column(sa.Column("routing", JSONDocument))
        batch.add_column(sa.Column("case_id", sa.String(36)))


def downgrade() -> None:
    with op.batch_alter_table("attendance_concerns") as batch:
        batch.drop_column("case_id")
        batch.drop_column("routing")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("routing")
        batch.drop_column("panel")
