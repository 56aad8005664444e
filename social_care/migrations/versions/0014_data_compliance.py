"""Data and compliance: what became of a post, when it was last checked, and the audit log.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = social_care.storage.types.UtcDateTime


# What the retention purge looks for, without reading again the rows it already blanked.
_PARTIAL_INDEXES = [
    ("ix_mentions_text_kept", "mentions", "posted_at", "removed = ''"),
    ("ix_mentions_raw_kept", "mentions", "posted_at", "raw_dropped_at IS NULL"),
    ("ix_authors_profile_kept", "authors", "id", "erased_at IS NULL"),
]


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed", _TEXT(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("checked_at", _WHEN(), nullable=True))
        batch_op.add_column(sa.Column("raw_dropped_at", _WHEN(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mentions_checked_at"), ["checked_at"], unique=False)
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", _WHEN(), nullable=True))
    for name, table, column, where in _PARTIAL_INDEXES:
        op.create_index(name, table, [column], sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _WHEN(), nullable=False),
        sa.Column("kind", _TEXT(), nullable=False),
        sa.Column("actor", _TEXT(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("subject", _TEXT(), nullable=False),
        sa.Column("address", _TEXT(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_kind"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
    op.drop_table("audit_events")
    for name, table, _, _ in _PARTIAL_INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_checked_at"))
        batch_op.drop_column("raw_dropped_at")
        batch_op.drop_column("checked_at")
        batch_op.drop_column("removed")
