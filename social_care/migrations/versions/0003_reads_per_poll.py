"""Sources remember how many reads a poll costs on average, to pace a monthly quota.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reads_per_poll", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("source_states", schema=None) as batch_op:
        batch_op.drop_column("reads_per_poll")
