"""Safeguarding overrides on information-sharing decisions.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_decisions") as batch:
        batch.add_column(
            sa.Column(
                "safeguarding_override", sa.Boolean, nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("override_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sharing_decisions") as batch:
        batch.drop_column("override_reason")
        batch.drop_column("safeguarding_override")
