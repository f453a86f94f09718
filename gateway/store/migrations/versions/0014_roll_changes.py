"""Deletions from and additions to schools' admission registers, and the enquiries into
children missing education they open (gateway/roll).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="section19")
        )
        batch.add_column(sa.Column("off_roll_since", sa.Date))
    op.create_table(
        "roll_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("child_id", sa.String(36), sa.ForeignKey("children.id"), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("change", sa.String(8), nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("ground", sa.String(64)),
        sa.Column("destination_urn", sa.String(6)),
        sa.Column("archive_id", sa.String(36), sa.ForeignKey("inbound_archive.id"), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id")),
        sa.Column("return_key", sa.String(100), nullable=False, unique=True),
    )
    op.create_index("ix_roll_changes_child_id", "roll_changes", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_roll_changes_child_id", "roll_changes")
    op.drop_table("roll_changes")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("off_roll_since")
        batch.drop_column("kind")
