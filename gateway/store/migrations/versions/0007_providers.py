"""Provider registers (GIAS establishments, the approved AP list) and placements.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "establishments",
        sa.Column("urn", sa.String(6), nullable=False),
        sa.Column("la_code", sa.String(3), nullable=False),
        sa.Column("la_name", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(60)),
        sa.Column("ukprn", sa.String(8)),
        sa.Column("postcode", sa.String(10)),
        sa.Column("opened_on", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("urn", name="pk_establishments"),
    )
    op.create_index("ix_establishments_ukprn", "establishments", ["ukprn"])
    op.create_table(
        "provider_imports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("errors", JSONDocument, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provider_imports"),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ukprn", sa.String(8)),
        sa.Column("urn", sa.String(6)),
        sa.Column("services", JSONDocument, nullable=False),
        sa.Column("registration", sa.String(1), nullable=False),
        sa.Column("safeguarding_contact", sa.String(200), nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("ukrlp_name", sa.String(200)),
        sa.Column("ukrlp_status", sa.String(40)),
        sa.Column("ukrlp_checked_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_providers"),
        sa.UniqueConstraint("ukprn", name="uq_providers_ukprn"),
        sa.UniqueConstraint("urn", name="uq_providers_urn"),
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("hours_per_week", sa.Float, nullable=False),
        sa.Column("venue", sa.String(20), nullable=False),
        sa.Column("risk_assessment_ref", sa.String(200)),
        sa.Column("school_code", sa.String(1), nullable=False),
        sa.Column("review_dates", JSONDocument, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_placements"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_placements_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name="fk_placements_child_id_children"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name="fk_placements_provider_id_providers"
        ),
    )
    op.create_index("ix_placements_case_id", "placements", ["case_id"])
    op.create_index("ix_placements_provider_id", "placements", ["provider_id"])


def downgrade() -> None:
    op.drop_table("placements")
    op.drop_table("providers")
    op.drop_table("provider_imports")
    op.drop_table("establishments")
