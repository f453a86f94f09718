"""EHC needs-assessment advice requests, their documents, and information-sharing decisions.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advice_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("adviser", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("performer", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("business_status", sa.String(200)),
        sa.Column("held_reason", sa.Text),
        sa.Column("status_reason", sa.Text),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("notes", JSONDocument, nullable=False),
        sa.Column("documents", JSONDocument, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_advice_requests"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_advice_requests_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name="fk_advice_requests_child_id_children"
        ),
    )
    op.create_index("ix_advice_requests_case_id", "advice_requests", ["case_id"])
    op.create_index(
        "ix_advice_requests_performer_status", "advice_requests", ["performer", "status"]
    )
    op.create_table(
        "advice_documents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("advice_request_id", sa.String(36), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200)),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_advice_documents"),
        sa.ForeignKeyConstraint(
            ["advice_request_id"],
            ["advice_requests.id"],
            name="fk_advice_documents_advice_request_id_advice_requests",
        ),
    )
    op.create_index(
        "ix_advice_documents_advice_request_id", "advice_documents", ["advice_request_id"]
    )
    op.create_table(
        "sharing_decisions",
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("agreed", sa.Boolean, nullable=False),
        sa.Column("categories", JSONDocument, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "agency", name="pk_sharing_decisions"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name="fk_sharing_decisions_child_id_children"
        ),
    )


def downgrade() -> None:
    op.drop_table("sharing_decisions")
    op.drop_table("advice_documents")
    op.drop_table("advice_requests")
