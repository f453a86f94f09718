"""What a client is bound to: an NHS team's ODS codes, a school MIS's URNs.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("bindings", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("bindings")
