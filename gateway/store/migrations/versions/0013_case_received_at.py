"""When the authority received a case's request, kept apart from when the gateway opened it:
statutory clocks run from receipt (gateway/cases/receipt.py).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("received_at", UTCDateTime))
    # Cases opened before this revision were received when they were opened.
    op.execute("UPDATE cases SET received_at = opened_at")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("received_at", existing_type=UTCDateTime, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("received_at")
