"""SLA clocks: the reply clock, reopening, the sweeper's next alert, alerts made once, one CSAT per case.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import social_care.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = social_care.storage.types.UtcDateTime
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_reply_since", when(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", when(), nullable=True))
        batch_op.add_column(sa.Column("sla_next_alert_at", when(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_sla_next_alert_at"), ["sla_next_alert_at"], unique=False)
    # Cases opened before this revision wait for a reply from when they were opened.
    op.execute(
        "UPDATE cases SET awaiting_reply_since = opened_at "
        "WHERE first_response_at IS NULL AND status IN ('new', 'acknowledged', 'assigned')"
    )
    op.create_table(
        "sla_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("due_at", when(), nullable=False),
        sa.Column("made_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "target", "level", "due_at", name="uq_sla_alerts_once"),
    )
    with op.batch_alter_table("sla_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_alerts_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_csat_responses_case_id", ["case_id"])


def downgrade() -> None:
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.drop_constraint("uq_csat_responses_case_id", type_="unique")
    with op.batch_alter_table("sla_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_alerts_case_id"))
    op.drop_table("sla_alerts")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_sla_next_alert_at"))
        batch_op.drop_column("sla_next_alert_at")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("awaiting_reply_since")
