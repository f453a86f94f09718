"""Attendance: archived payloads, feeds, school registers by day and their corrections,
running figures per school year, enrolments, concerns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.types import JSONDocument, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "inbound_archive",
        sa.Column("id", Id, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("client_id", Id, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_archive"),
    )
    op.create_index("ix_inbound_archive_sha256", "inbound_archive", ["sha256"])
    op.create_table(
        "attendance_feeds",
        sa.Column("id", Id, nullable=False),
        sa.Column("archive_id", Id, nullable=False),
        sa.Column("client_id", Id, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("academic_year", sa.Integer),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("records_received", sa.Integer, nullable=False),
        sa.Column("records_accepted", sa.Integer, nullable=False),
        sa.Column("records_rejected", sa.Integer, nullable=False),
        sa.Column("marks_changed", sa.Integer, nullable=False),
        sa.Column("concerns_raised", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("notes", JSONDocument, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("staged", sa.LargeBinary),
        sa.PrimaryKeyConstraint("id", name="pk_attendance_feeds"),
        sa.ForeignKeyConstraint(
            ["archive_id"],
            ["inbound_archive.id"],
            name="fk_attendance_feeds_archive_id_inbound_archive",
        ),
    )
    op.create_index("ix_attendance_feeds_sha256", "attendance_feeds", ["sha256"])
    op.create_index(
        "ix_attendance_feeds_status_received", "attendance_feeds", ["status", "received_at"]
    )
    op.create_table(
        "feed_rejections",
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("locator", sa.String(200), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("feed_id", "seq", name="pk_feed_rejections"),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["attendance_feeds.id"],
            name="fk_feed_rejections_feed_id_attendance_feeds",
        ),
    )
    op.create_table(
        "register_days",
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("marks", sa.LargeBinary, nullable=False),
        sa.Column("pupils", sa.Integer, nullable=False),
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("school_urn", "date", name="pk_register_days"),
    )
    op.create_table(
        "attendance_mark_changes",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("old_am", sa.String(2), nullable=False),
        sa.Column("old_pm", sa.String(2), nullable=False),
        sa.Column("new_am", sa.String(2), nullable=False),
        sa.Column("new_pm", sa.String(2), nullable=False),
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attendance_mark_changes"),
    )
    op.create_index("ix_attendance_mark_changes_upn", "attendance_mark_changes", ["upn"])
    op.create_table(
        "school_years",
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("states", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("school_urn", "academic_year", name="pk_school_years"),
    )
    op.create_table(
        "pupil_enrolments",
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("upn", "school_urn", "academic_year", name="pk_pupil_enrolments"),
    )
    op.create_table(
        "attendance_concerns",
        sa.Column("id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("upn", sa.String(13), nullable=False),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("term", sa.String(8)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("policy_ref", sa.String(300), nullable=False),
        sa.Column("figures", JSONDocument, nullable=False),
        sa.Column("feed_id", Id, nullable=False),
        sa.Column("raised_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_attendance_concerns"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name="fk_attendance_concerns_child_id_children"
        ),
    )
    op.create_index("ix_attendance_concerns_child_id", "attendance_concerns", ["child_id"])
    op.create_index("ix_attendance_concerns_upn", "attendance_concerns", ["upn"])
    op.create_index("ix_attendance_concerns_status_kind", "attendance_concerns", ["status", "kind"])

    op.create_index(
        "ix_attendance_concerns_school_open",
        "attendance_concerns",
        ["school_urn", "academic_year", "status"],
    )

    if op.get_bind().dialect.name == "postgresql":
        # The registers and figures are msgpack, rewritten on every feed: compressing them
        # on each write costs more than the space it saves.
        for table, column in (("register_days", "marks"), ("school_years", "states")):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    for table in (
        "attendance_concerns",
        "pupil_enrolments",
        "school_years",
        "attendance_mark_changes",
        "register_days",
        "feed_rejections",
        "attendance_feeds",
        "inbound_archive",
    ):
        op.drop_table(table)
