"""Hourly rollups of the care and reputation figures, each case's share of them, and posts by time.

The rows are derived from the events; after this migration they are empty
until ``social-care rollups rebuild`` fills them from the history (the service
runs it at start when a database has cases but no rollups yet).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentions_posted_at"), ["posted_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_last_activity_at"), ["last_activity_at"], unique=False)
    op.create_table(
        "care_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", _TEXT(), nullable=False),
        sa.Column("hour", social_care.storage.types.UtcDateTime(), nullable=False),
        *(sa.Column(name, _TEXT(), nullable=False) for name in ("brand", "source_id", "platform")),
        *(sa.Column(name, _TEXT(), nullable=False) for name in ("category", "priority", "team")),
        *_counts("opened", "opened_dismissed", "opened_resolved", "went_open", "went_closed"),
        *_counts("messages", "replies", "csat_answers", "csat_score_sum", "csat_satisfied"),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "grain", "hour", "brand", "source_id", "category", "priority", "team", name="uq_care_rollups"
        ),
    )
    op.create_index("ix_care_rollups_hour", "care_rollups", ["hour"], unique=False)
    op.create_table(
        "mention_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", _TEXT(), nullable=False),
        sa.Column("hour", social_care.storage.types.UtcDateTime(), nullable=False),
        *(
            sa.Column(name, _TEXT(), nullable=False)
            for name in ("brand", "source_id", "platform", "category")
        ),
        *(sa.Column(name, _TEXT(), nullable=False) for name in ("cluster", "product", "language", "team")),
        *_counts("mentions"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "grain",
            "hour",
            "brand",
            "source_id",
            "category",
            "cluster",
            "product",
            "language",
            "team",
            name="uq_mention_rollups",
        ),
    )
    op.create_index("ix_mention_rollups_hour", "mention_rollups", ["hour"], unique=False)
    op.create_table(
        "case_contributions",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_last_activity_at"))
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_posted_at"))
    op.drop_table("case_contributions")
    op.drop_index("ix_mention_rollups_hour", table_name="mention_rollups")
    op.drop_table("mention_rollups")
    op.drop_index("ix_care_rollups_hour", table_name="care_rollups")
    op.drop_table("care_rollups")
