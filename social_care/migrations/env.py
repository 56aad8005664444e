"""Alembic environment: the engine comes from the caller, never from a file of ours.

Several processes may start at once on a new database. Each takes the
migration lock (:mod:`social_care.storage.locks`) before Alembic reads the
schema's version: the first process migrates; the others wait, then find the
schema current and go on.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import social_care.storage.tables  # noqa: F401  (registers the tables on the metadata)
from social_care.storage import locks

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    locks.hold(connection, locks.MIGRATIONS)
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
