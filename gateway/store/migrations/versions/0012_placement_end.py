"""When and why a placement ended (POST /api/v1/placements/{id}/end).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        batch.add_column(sa.Column("ended_on", sa.Date))
        batch.add_column(sa.Column("end_reason", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        batch.drop_column("end_reason")
        batch.drop_column("ended_on")
