"""Triage that learns: imported labels beside the inbox's corrections, and trained models.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = social_care.storage.types.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", _TEXT(), nullable=False, server_default="inbox"))
        batch_op.add_column(sa.Column("external_id", _TEXT(), nullable=True))
        batch_op.add_column(sa.Column("text", _TEXT(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("imported_from", _TEXT(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("imported_by", _TEXT(), nullable=False, server_default=""))
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("employee_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint("uq_triage_labels_external_id", ["external_id"])
    op.create_table(
        "triage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", _TEXT(), nullable=False),
        sa.Column("created_at", _WHEN(), nullable=False),
        sa.Column("created_by", _TEXT(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("labels_through", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Boolean(), nullable=False),
        sa.Column("model_macro_f1", sa.Float(), nullable=False),
        sa.Column("rules_macro_f1", sa.Float(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("activated_at", _WHEN(), nullable=True),
        sa.Column("retired_at", _WHEN(), nullable=True),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("labels_through"),
    )
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_models_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_models_status"))
    op.drop_table("triage_models")
    op.execute("DELETE FROM triage_labels WHERE source <> 'inbox'")
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.drop_constraint("uq_triage_labels_external_id", type_="unique")
        batch_op.alter_column("employee_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("imported_by")
        batch_op.drop_column("imported_from")
        batch_op.drop_column("text")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
