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
    # "ods:RVR urn:120501": what the client is bound to (gateway/model/client.py).
    sa.Column("bindings", sa.String(500)),
    # Declared by the deployment (`gateway client ensure`, migration 0011): pruned when it is
    # no longer declared.
    sa.Column("provisioned", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Tokens taken out of use (revoked, or rotated away), never accepted again (migration 0011).
retired_tokens = sa.Table(
    "retired_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_name", sa.String(100), nullable=False),
    sa.Column("retired_at", UTCDateTime, nullable=False),
)

children = sa.Table(
    "children",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("upn", sa.String(13), unique=True),
    sa.Column("nhs_number", sa.String(10), unique=True),
    sa.Column("mosaic_person_id", sa.String(64), unique=True),
    sa.Column("uln", sa.String(10), unique=True),
    # A child first seen in an attendance feed is known by UPN and school only.
    sa.Column("given_name", sa.String(200)),
    sa.Column("family_name", sa.String(200)),
    sa.Column("preferred_name", sa.String(200)),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("home_la", sa.String(3)),
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
    # The routing decision (gateway/rules): panel, rule, policy reference, reason (0003).
    sa.Column("panel", sa.String(32)),
    sa.Column("routing", JSONDocument),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    # When the authority received the request; earlier than opened_at when it arrived late (0013).
    sa.Column("received_at", UTCDateTime, nullable=False),
    # A Section 19 case, or an enquiry into a child missing education opened by a deletion
    # from a school's roll, with the date the child went off roll (0014).
    sa.Column("kind", sa.String(16), nullable=False, server_default="section19"),
    sa.Column("off_roll_since", sa.Date),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Each change bumps it; the next timeline entry takes this number.
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Index("ix_cases_opened", "opened_at", "id"),
    sa.Index("ix_cases_status_opened", "status", "opened_at"),
)

timeline_events = sa.Table(
    "timeline_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False, index=True),
    # Set for entries about a case; seq numbers a case's entries 1, 2, 3...
    sa.Column("case_id", Id, sa.ForeignKey("cases.id")),
    sa.Column("seq", sa.Integer),
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
    # Enqueue order, which is the order a child's messages reach each destination in: an
    # identity on PostgreSQL, max + 1 on SQLite (whose writers are serialised).
    sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_outbox_destination_status", "destination", "status"),
    sa.Index("ix_outbox_child_order", "destination", "child_id", "position"),
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

# --- attendance (migration 0002) -------------------------------------------------------------

inbound_archive = sa.Table(
    "inbound_archive",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("client_id", Id, nullable=False),
    # zlib-compressed exactly as received: feeds compress about tenfold.
    sa.Column("body", sa.LargeBinary, nullable=False),
    # Bytes of the body as received that ``body`` holds: ``size``, or, for a body refused
    # whole and larger than the rules keep whole, its first KiB (``truncated``; migration
    # 0016, gateway/store/archive.py). Each client's daily archive budget sums these.
    sa.Column("kept_bytes", sa.BigInteger, nullable=False),
    sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false()),
    # Each client's bytes since midnight UTC, summed before each body is archived (0017).
    sa.Index("ix_inbound_archive_client_received", "client_id", "received_at"),
)

attendance_feeds = sa.Table(
    "attendance_feeds",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("archive_id", Id, sa.ForeignKey("inbound_archive.id"), nullable=False),
    sa.Column("client_id", Id, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
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
    # The validated records waiting for the applier (gateway/intake/feed_applier.py).
    sa.Column("staged", sa.LargeBinary),
    # Times a worker took the feed back to read it again from its archive after its reading
    # stalled (migration 0015; gateway/intake/feed_resume.py).
    sa.Column("parse_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_attendance_feeds_status_received", "status", "received_at"),
)

feed_rejections = sa.Table(
    "feed_rejections",
    metadata,
    sa.Column("feed_id", Id, sa.ForeignKey("attendance_feeds.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("locator", sa.String(200), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(300), nullable=False),
)

# An attendance table this large is range-partitioned by academic year on PostgreSQL, one
# partition a year named ``<table>_<year>`` (migration 0018; the applier creates a year's
# partitions the first time a feed brings it: gateway/store/attendance.py). SQLite keeps
# plain tables.
PARTITIONED_BY_YEAR = ("attendance_marks", "attendance_figures")


# Every pupil's figures row is rewritten by each day's feed: with half of each page left free,
# the new version of every row fits beside the old one, and no index is touched (a HOT update).
PARTITION_STORAGE = {"attendance_figures": " WITH (fillfactor = 50)"}


def partition_name(table: str, academic_year: int) -> str:
    return f"{table}_{academic_year:d}"


def partition_ddl(table: str, academic_year: int) -> str:
    """The statement that creates one year's partition of ``table`` (PostgreSQL)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(table, academic_year)} PARTITION OF "
        f"{table} FOR VALUES FROM ({academic_year:d}) TO ({academic_year + 1:d})"
        f"{PARTITION_STORAGE.get(table, '')}"
    )


def is_partition(name: str) -> bool:
    """Whether a table found in the database is one year's partition of a declared table."""
    table, _, year = name.rpartition("_")
    return table in PARTITIONED_BY_YEAR and year.isdigit()


attendance_marks = sa.Table(
    "attendance_marks",
    metadata,
    # One pupil's two marks on one date at one school, as the last feed that changed them
    # sent them ("" for a session sent without a mark). Keyed date before pupil: a day's feed
    # writes one run of the index per school, not one page per pupil.
    sa.Column("academic_year", sa.Integer, primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("upn", sa.String(13), primary_key=True),
    sa.Column("am", sa.String(2), nullable=False),
    sa.Column("pm", sa.String(2), nullable=False),
    sa.Column("feed_id", Id, nullable=False),
    postgresql_partition_by="RANGE (academic_year)",
)

attendance_mark_changes = sa.Table(
    "attendance_mark_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("upn", sa.String(13), nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("old_am", sa.String(2), nullable=False),
    sa.Column("old_pm", sa.String(2), nullable=False),
    sa.Column("new_am", sa.String(2), nullable=False),
    sa.Column("new_pm", sa.String(2), nullable=False),
    sa.Column("feed_id", Id, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
)

attendance_figures = sa.Table(
    "attendance_figures",
    metadata,
    # One pupil's running figures for one enrolment (school and academic year), one column per
    # figure of gateway.attendance.statistics.PupilYear (gateway/store/attendance_figures.py
    # maps the two), as the DfE's absence statistics count them per enrolment. ``first_date``
    # is the first date a feed brought for the enrolment.
    sa.Column("academic_year", sa.Integer, primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("upn", sa.String(13), primary_key=True),
    sa.Column("first_date", sa.Date, nullable=False),
    sa.Column("last_date", sa.Date),
    # Sessions by category of their code (gateway.model.attendance.CodeCategory).
    sa.Column("present_sessions", sa.SmallInteger, nullable=False),
    sa.Column("approved_education_sessions", sa.SmallInteger, nullable=False),
    sa.Column("authorised_sessions", sa.SmallInteger, nullable=False),
    sa.Column("unauthorised_sessions", sa.SmallInteger, nullable=False),
    sa.Column("not_possible_sessions", sa.SmallInteger, nullable=False),
    sa.Column("possible", sa.SmallInteger, nullable=False),
    sa.Column("attended", sa.SmallInteger, nullable=False),
    # The same two per statistics term (gateway.attendance.terms).
    sa.Column("autumn_possible", sa.SmallInteger, nullable=False),
    sa.Column("autumn_attended", sa.SmallInteger, nullable=False),
    sa.Column("spring_possible", sa.SmallInteger, nullable=False),
    sa.Column("spring_attended", sa.SmallInteger, nullable=False),
    sa.Column("summer_possible", sa.SmallInteger, nullable=False),
    sa.Column("summer_attended", sa.SmallInteger, nullable=False),
    sa.Column("unexplained_run_days", sa.SmallInteger, nullable=False),
    sa.Column("unexplained_run_start", sa.Date),
    sa.Column("illness_sessions", sa.SmallInteger, nullable=False),
    sa.Column("illness_run_days", sa.SmallInteger, nullable=False),
    sa.Column("illness_run_start", sa.Date),
    sa.Column("illness_longest_run_days", sa.SmallInteger, nullable=False),
    sa.Column("part_time_sessions", sa.SmallInteger, nullable=False),
    sa.Column("part_time_first_date", sa.Date),
    sa.Column("suspension_sessions", sa.SmallInteger, nullable=False),
    sa.Column("suspension_episodes", sa.SmallInteger, nullable=False),
    sa.Column("in_suspension_episode", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # A child's figures, every school and year (GET /children/{id}/attendance).
    sa.Index("ix_attendance_figures_upn", "upn"),
    postgresql_partition_by="RANGE (academic_year)",
)

attendance_concerns = sa.Table(
    "attendance_concerns",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False, index=True),
    sa.Column("upn", sa.String(13), nullable=False, index=True),
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
    # What the authority's pack did with it (0003): lead told, or the case it opened.
    sa.Column("routing", JSONDocument),
    sa.Column("case_id", Id),
    sa.Index("ix_attendance_concerns_status_kind", "status", "kind"),
    sa.Index("ix_attendance_concerns_school_open", "school_urn", "academic_year", "status"),
)

# --- portal notifications (migration 0003) --------------------------------------------------

portal_notifications = sa.Table(
    "portal_notifications",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("notification_id", sa.String(100), nullable=False),
    sa.Column("archive_id", Id, sa.ForeignKey("inbound_archive.id"), nullable=False),
    # school URN | UPN | type | date: the same notice again attaches to the same case.
    sa.Column("duplicate_key", sa.String(100), nullable=False, index=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("duplicate_of", Id),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("exclusion_issued_at", UTCDateTime),
    sa.Column("notice_late", sa.Boolean, nullable=False),
)

# --- admission register returns (migration 0014) ---------------------------------------------

roll_changes = sa.Table(
    "roll_changes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False, index=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("change", sa.String(8), nullable=False),  # deletion | addition
    sa.Column("on_date", sa.Date, nullable=False),
    sa.Column("ground", sa.String(64)),
    sa.Column("destination_urn", sa.String(6)),
    sa.Column("archive_id", Id, sa.ForeignKey("inbound_archive.id"), nullable=False),
    sa.Column("client_id", Id, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    # The enquiry a deletion opened; an addition closes the child's open ones.
    sa.Column("case_id", Id, sa.ForeignKey("cases.id")),
    # school | child | change | date: the same return again changes nothing.
    sa.Column("return_key", sa.String(100), nullable=False, unique=True),
)

# --- statutory clocks (migration 0004) -------------------------------------------------------

clocks = sa.Table(
    "clocks",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False, index=True),
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
    sa.Index("ix_clocks_state_due", "state", "due_at"),
)

# EHC needs-assessment advice: one row per adviser asked (gateway/model/advice.py); its id is
# the FHIR ServiceRequest's and Task's id on the facade.
advice_requests = sa.Table(
    "advice_requests",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False),
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
    sa.Index("ix_advice_requests_performer_status", "performer", "status"),
)

advice_documents = sa.Table(
    "advice_documents",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column(
        "advice_request_id", Id, sa.ForeignKey("advice_requests.id"), nullable=False, index=True
    ),
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("author", sa.String(200)),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# What a family agreed may be shared with each agency (004 "tell us once"); the latest word.
sharing_decisions = sa.Table(
    "sharing_decisions",
    metadata,
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), primary_key=True),
    sa.Column("agency", sa.String(32), primary_key=True),
    sa.Column("agreed", sa.Boolean, nullable=False),
    sa.Column("categories", JSONDocument, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("safeguarding_override", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("override_reason", sa.Text),
)

# The GIAS establishment extract, every row kept (closed schools marked, never deleted).
establishments = sa.Table(
    "establishments",
    metadata,
    sa.Column("urn", sa.String(6), primary_key=True),
    sa.Column("la_code", sa.String(3), nullable=False),
    sa.Column("la_name", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("phase", sa.String(60)),
    sa.Column("ukprn", sa.String(8), index=True),
    sa.Column("postcode", sa.String(10)),
    sa.Column("opened_on", sa.Date),
    sa.Column("closed_on", sa.Date),
    sa.Column("imported_at", UTCDateTime, nullable=False),
)

provider_imports = sa.Table(
    "provider_imports",
    metadata,
    sa.Column("id", Id, primary_key=True),
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
)

# The authority's approved alternative-provision list (Essex 002 §13, §17).
providers = sa.Table(
    "providers",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("ukprn", sa.String(8), unique=True),
    sa.Column("urn", sa.String(6), unique=True),
    sa.Column("services", JSONDocument, nullable=False),
    sa.Column("registration", sa.String(1), nullable=False),
    sa.Column("safeguarding_contact", sa.String(200), nullable=False),
    sa.Column("capacity", sa.Integer),
    sa.Column("approved", sa.Boolean, nullable=False),
    sa.Column("ukrlp_name", sa.String(200)),
    sa.Column("ukrlp_status", sa.String(40)),
    sa.Column("ukrlp_checked_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

placements = sa.Table(
    "placements",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("child_id", Id, sa.ForeignKey("children.id"), nullable=False),
    sa.Column("provider_id", Id, sa.ForeignKey("providers.id"), nullable=False, index=True),
    sa.Column("school_urn", sa.String(6)),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("hours_per_week", sa.Float, nullable=False),
    sa.Column("venue", sa.String(20), nullable=False),
    sa.Column("risk_assessment_ref", sa.String(200)),
    sa.Column("school_code", sa.String(1), nullable=False),
    sa.Column("review_dates", JSONDocument, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ended_on", sa.Date),  # migration 0012
    sa.Column("end_reason", sa.String(500)),
)
