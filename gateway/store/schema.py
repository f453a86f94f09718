"""The gateway's tables (SQLAlchemy Core). Migrations in ``migrations/`` must build exactly
this; ``tests/integration/test_migrations.py`` compares the two."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store.types import JSONDocument, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Id = sa.String(36)

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    # SHA-256 of a 256-bit random token: the token is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(500), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("expires_at", UTCDateTime),
)

children = sa.Table(
    "children",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("upn", sa.String(13), unique=True),
    sa.Column("nhs_number", sa.String(10), unique=True),
    sa.Column("mosaic_person_id", sa.String(64), unique=True),
    sa.Column("uln", sa.String(10), unique=True),
    sa.Column("given_name", sa.String(200), nullable=False),
    sa.Column("family_name", sa.String(200), nullable=False),
    sa.Column("preferred_name", sa.String(200)),
    sa.Column("date_of_birth", sa.Date, nullable=False),
    sa.Column("home_la", sa.String(3), nullable=False),
    sa.Column("school_urn", sa.String(6), index=True),
    sa.Column("ehcp_status", sa.String(16), nullable=False),
    sa.Column("looked_after", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False, index=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("lead_team", sa.String(32)),
    sa.Column("school_urn", sa.String(6)),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Each change bumps it; the next timeline entry takes this number.
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Index("ix_cases_opened", "opened_at", "id"),
    sa.Index("ix_cases_status_opened", "status", "opened_at"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("why", sa.Text),
    sa.Column("detail", JSONDocument, nullable=False),
    sa.UniqueConstraint("case_id", "seq"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("destination", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("payload", JSONDocument, nullable=False),
    sa.Column("case_id", Id),
    sa.Column("child_id", Id),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_outbox_destination_status", "destination", "status"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", Id, sa.ForeignKey("outbox.id"), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("worker", sa.String(100), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("client_id", Id, nullable=False),
    sa.Column("client_name", sa.String(100), nullable=False),
    sa.Column("child_id", Id, nullable=False, index=True),
    sa.Column("endpoint", sa.String(200), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
)
