"""Statutory clocks on cases.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clocks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("owner_team", sa.String(32)),
        sa.Column("calendar", sa.String(16), nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("policy_ref", sa.String(400), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("paused_at", UTCDateTime),
        sa.Column("pause_reason", sa.String(200)),
        sa.Column("met_at", UTCDateTime),
        sa.Column("cancelled_at", UTCDateTime),
        sa.Column("due_soon_sent_at", UTCDateTime),
        sa.Column("breach_sent_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_clocks"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_clocks_case_id_cases"),
    )
    op.create_index("ix_clocks_case_id", "clocks", ["case_id"])
    op.create_index("ix_clocks_state_due", "clocks", ["state", "due_at"])


def downgrade() -> None:
    op.drop_table("clocks")
