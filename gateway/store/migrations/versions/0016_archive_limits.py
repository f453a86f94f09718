"""The raw archive's limits (gateway/store/archive.py): how many bytes of the body as received
each row holds (all of them, or the first KiB of a large body refused whole, marked
truncated).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_archive") as batch:
        batch.add_column(sa.Column("kept_bytes", sa.BigInteger))
        batch.add_column(
            sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false())
        )
    # Every body archived before this revision was kept whole.
    op.execute("UPDATE inbound_archive SET kept_bytes = size")
    with op.batch_alter_table("inbound_archive") as batch:
        batch.alter_column("kept_bytes", existing_type=sa.BigInteger, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_archive") as batch:
        batch.drop_column("truncated")
        batch.drop_column("kept_bytes")
