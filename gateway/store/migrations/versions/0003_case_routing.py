"""Routing kept: a case's panel and routing decision; what an attendance concern led to.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument, UTCDateTime

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
    op.create_table(
        "portal_notifications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("notification_id", sa.String(100), nullable=False),
        sa.Column("archive_id", sa.String(36), nullable=False),
        sa.Column("duplicate_key", sa.String(100), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("duplicate_of", sa.String(36)),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("exclusion_issued_at", UTCDateTime),
        sa.Column("notice_late", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_notifications"),
        sa.ForeignKeyConstraint(
            ["archive_id"],
            ["inbound_archive.id"],
            name="fk_portal_notifications_archive_id_inbound_archive",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_portal_notifications_case_id_cases"
        ),
    )
    op.create_index(
        "ix_portal_notifications_duplicate_key", "portal_notifications", ["duplicate_key"]
    )


def downgrade() -> None:
    op.drop_table("portal_notifications")
    with op.batch_alter_table("attendance_concerns") as batch:
        batch.drop_column("case_id")
        batch.drop_column("routing")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("routing")
        batch.drop_column("panel")
