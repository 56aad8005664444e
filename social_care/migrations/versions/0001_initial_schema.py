"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:42:36.583227
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "external_id"),
    )
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "rejected_payloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("received_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejected_payloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_payloads_source_id"), ["source_id"], unique=False)

    op.create_table(
        "source_states",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("next_poll_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("reads_month", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reads_used", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lease_expires_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("thread_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("suggested_reply", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("opened_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("last_activity_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("acknowledged_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("assigned_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("first_response_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("resolved_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("ack_due_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("response_due_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("resolution_due_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_cases_queue", ["status", "response_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_source_id"), ["source_id"], unique=False)
        batch_op.create_index("ix_cases_team_status", ["team", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_thread_key"), ["thread_key"], unique=False)

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("strategy", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("last_assigned_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_assigned_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["employees.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "csat_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csat_responses_case_id"), ["case_id"], unique=False)

    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("posted_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("fetched_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("parent_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.Column("is_retweet", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("deleted_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "external_id"),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentions_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentions_processed_at"), ["processed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentions_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentions_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("in_reply_to", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lease_expires_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("platform_reply_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", social_care.storage.types.UtcDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_outbox_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
        ),
        sa.PrimaryKeyConstraint("team_id", "employee_id"),
    )
    op.create_table(
        "classifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classifications_mention_id"), ["mention_id"], unique=False)

    op.create_table(
        "term_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("term", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("matched_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("term_matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_term_matches_mention_id"), ["mention_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("term_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_term_matches_mention_id"))

    op.drop_table("term_matches")
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classifications_mention_id"))

    op.drop_table("classifications")
    op.drop_table("team_members")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_case_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_thread_id"))
        batch_op.drop_index(batch_op.f("ix_mentions_source_id"))
        batch_op.drop_index(batch_op.f("ix_mentions_processed_at"))
        batch_op.drop_index(batch_op.f("ix_mentions_case_id"))
        batch_op.drop_index(batch_op.f("ix_mentions_author_id"))

    op.drop_table("mentions")
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csat_responses_case_id"))

    op.drop_table("csat_responses")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_events_at"))

    op.drop_table("case_events")
    op.drop_table("teams")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_thread_key"))
        batch_op.drop_index("ix_cases_team_status")
        batch_op.drop_index(batch_op.f("ix_cases_source_id"))
        batch_op.drop_index("ix_cases_queue")
        batch_op.drop_index(batch_op.f("ix_cases_author_id"))
        batch_op.drop_index("ix_cases_assignee_status")

    op.drop_table("cases")
    op.drop_table("source_states")
    with op.batch_alter_table("rejected_payloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_payloads_source_id"))

    op.drop_table("rejected_payloads")
    op.drop_table("employees")
    op.drop_table("authors")
