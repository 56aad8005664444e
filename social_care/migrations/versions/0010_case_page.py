"""The case page: people's triage corrections (labels) and who has a case open.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = social_care.storage.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "triage_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("at", _WHEN(), nullable=False),
        sa.Column("reason", _TEXT(), nullable=False),
        sa.Column("category", _TEXT(), nullable=False),
        sa.Column("cluster", _TEXT(), nullable=False),
        sa.Column("priority", _TEXT(), nullable=False),
        sa.Column("product", _TEXT(), nullable=False),
        sa.Column("team", _TEXT(), nullable=False),
        sa.Column("language", _TEXT(), nullable=False),
        sa.Column("rules_category", _TEXT(), nullable=False),
        sa.Column("rules_cluster", _TEXT(), nullable=False),
        sa.Column("rules_priority", _TEXT(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_labels_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_triage_labels_mention_id"), ["mention_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_triage_labels_at"), ["at"], unique=False)
    op.create_table(
        "case_viewers",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("seen_until", _WHEN(), nullable=False),
        sa.Column("typing_until", _WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("case_id", "employee_id"),
    )


def downgrade() -> None:
    op.drop_table("case_viewers")
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_labels_at"))
        batch_op.drop_index(batch_op.f("ix_triage_labels_mention_id"))
        batch_op.drop_index(batch_op.f("ix_triage_labels_case_id"))
    op.drop_table("triage_labels")
