"""Alembic environment: the engine comes from the caller, never from a file of ours.

Several processes may start at once on a new database. Each takes the
migration lock before Alembic reads the schema's version: a PostgreSQL
advisory lock held until the transaction ends, or SQLite's write lock, which
our engine takes with the transaction's first statement (``BEGIN IMMEDIATE``).
The first process migrates; the others wait, then find the schema current and
go on.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import social_care.storage.tables  # noqa: F401  (registers the tables on the metadata)

MIGRATION_LOCK = 0x5C_0C_A4_E0  # any number of ours; PostgreSQL's advisory locks are named by numbers

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        connection.execute(text("SELECT 1"))  # begins the transaction, and with it the write lock
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
