"""Per-person tokens for the JSON API, kept as the SHA-256 of their secret.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = social_care.storage.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("name", _TEXT(), nullable=False),
        sa.Column("token_hash", _TEXT(), nullable=False),
        sa.Column("created_at", _WHEN(), nullable=False),
        sa.Column("last_used_at", _WHEN(), nullable=True),
        sa.Column("revoked_at", _WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_employee_id"))
    op.drop_table("api_tokens")
