"""Named locks for the few steps every process takes at start: migrating, syncing the directory.

Several processes may start at once on one database. Each such step runs in
one transaction that first takes its lock: on PostgreSQL a transaction-level
advisory lock (released at commit or rollback), on SQLite the database's write
lock, which our engine takes with a transaction's first statement
(``BEGIN IMMEDIATE``). The second process waits, then finds the work done.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlmodel import Session

# Any numbers of ours: PostgreSQL names advisory locks by 64-bit integers.
MIGRATIONS = 0x5C_0C_A4_E0
DIRECTORY = 0x5C_0C_D1_2E
ROLLUPS = 0x5C_0C_20_11


def hold(target: Session | Connection, key: int) -> None:
    """Take lock ``key`` until the transaction of ``target`` ends."""
    bind = target.get_bind() if isinstance(target, Session) else target
    if bind.dialect.name == "postgresql":
        target.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        target.execute(text("SELECT 1"))  # begins the transaction, and with it SQLite's write lock
