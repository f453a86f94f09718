"""Initial schema: clients, children, cases, the timeline, outbox, attempts, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
        sa.UniqueConstraint("name", name="uq_clients_name"),
        sa.UniqueConstraint("token_hash", name="uq_clients_token_hash"),
    )
    op.create_table(
        "children",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("upn", sa.String(13)),
        sa.Column("nhs_number", sa.String(10)),
        sa.Column("mosaic_person_id", sa.String(64)),
        sa.Column("uln", sa.String(10)),
        sa.Column("given_name", sa.String(200)),
        sa.Column("family_name", sa.String(200)),
        sa.Column("preferred_name", sa.String(200)),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("home_la", sa.String(3)),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("ehcp_status", sa.String(16), nullable=False),
        sa.Column("looked_after", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_children"),
        sa.UniqueConstraint("upn", name="uq_children_upn"),
        sa.UniqueConstraint("nhs_number", name="uq_children_nhs_number"),
        sa.UniqueConstraint("mosaic_person_id", name="uq_children_mosaic_person_id"),
        sa.UniqueConstraint("uln", name="uq_children_uln"),
    )
    op.create_index("ix_children_school_urn", "children", ["school_urn"])
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("lead_team", sa.String(32)),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name="fk_cases_child_id_children"),
    )
    op.create_index("ix_cases_child_id", "cases", ["child_id"])
    op.create_index("ix_cases_opened", "cases", ["opened_at", "id"])
    op.create_index("ix_cases_status_opened", "cases", ["status", "opened_at"])
    op.create_table(
        "timeline_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36)),
        sa.Column("seq", sa.Integer),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("why", sa.Text),
        sa.Column("detail", JSONDocument, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timeline_events"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name="fk_timeline_events_child_id_children"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_timeline_events_case_id_cases"),
        sa.UniqueConstraint("case_id", "seq", name="uq_timeline_events_case_id_seq"),
    )
    op.create_index("ix_timeline_events_child_id", "timeline_events", ["child_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("payload", JSONDocument, nullable=False),
        sa.Column("case_id", sa.String(36)),
        sa.Column("child_id", sa.String(36)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_destination_status", "outbox", ["destination", "status"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["outbox.id"], name="fk_delivery_attempts_delivery_id_outbox"
        ),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("client_name", sa.String(100), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_child_id", "audit_log", ["child_id"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "delivery_attempts",
        "outbox",
        "timeline_events",
        "cases",
        "children",
        "clients",
    ):
        op.drop_table(table)
