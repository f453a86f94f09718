"""Cases keep their routing decision: the panel that hears them and why they went where.

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


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("routing")
        batch.drop_column("panel")
