"""Each client's daily archive budget (gateway/store/archive.py): the bytes the archive holds
of what a client sent since midnight UTC are summed before each body it sends is archived,
by client and time of receipt.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_archive_client_received", "inbound_archive", ["client_id", "received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_archive_client_received", "inbound_archive")
