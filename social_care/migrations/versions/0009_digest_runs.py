"""The daily digests made: one row per recipient and local day, with the mail kept for the archive.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", _TEXT(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", _TEXT(), nullable=False),
        sa.Column("reason", _TEXT(), nullable=False),
        sa.Column("made_at", social_care.storage.types.UtcDateTime(), nullable=False),
        sa.Column("made_by", _TEXT(), nullable=False),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("subject", _TEXT(), nullable=False),
        sa.Column("text", _TEXT(), nullable=False),
        sa.Column("html", _TEXT(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("chat", _TEXT(), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail_outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient", "day", name="uq_digest_runs_once"),
    )
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_runs_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_runs_day"))
    op.drop_table("digest_runs")
