"""How many times a worker took back a feed whose reading stalled, to read it again from its
archive (gateway/intake/feed_resume.py): a feed that stops every time is failed, not read
for ever.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendance_feeds") as batch:
        batch.add_column(
            sa.Column("parse_attempts", sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("attendance_feeds") as batch:
        batch.drop_column("parse_attempts")
