"""Take work by claiming rows atomically with a lease.

One statement marks the rows as ours and returns them, so two workers, in one
process or on many machines, never take the same row. On PostgreSQL the inner
select skips rows another worker holds (``FOR UPDATE SKIP LOCKED``); SQLite has
no row locks, but its transactions here begin ``IMMEDIATE`` and so never
interleave. A lease that expires (a worker that died) makes the row claimable
again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_, select, update
from sqlmodel import Session


def claim(
    session: Session,
    table: Any,
    *,
    ready: ColumnElement[bool],
    order_by: Any,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 1,
) -> list[Any]:
    """Claim up to ``limit`` ready rows of ``table`` for ``owner`` and return their keys.

    The caller commits; until then the claim is invisible to others on PostgreSQL
    and holds the write lock on SQLite.
    """
    key = next(iter(table.__table__.primary_key.columns))
    free = or_(table.lease_expires_at.is_(None), table.lease_expires_at <= now)
    candidates = (
        select(key)
        .where(ready, free)
        .order_by(order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(table)
        .where(key.in_(candidates))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(key)
    )
    return list(session.execute(statement).scalars())


def claim_next(
    engine: Engine,
    table: Any,
    *,
    ready: ColumnElement[bool],
    order_by: Any,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> Any | None:
    """Claim the next ready row of ``table`` in a transaction of its own; its key, or None."""
    with Session(engine) as session:
        claimed = claim(session, table, ready=ready, order_by=order_by, owner=owner, now=now, lease=lease)
        session.commit()
    return claimed[0] if claimed else None


def release(session: Session, table: Any, key: Any, owner: str) -> None:
    """Give up a claim early (work done or abandoned) so others need not wait for the lease."""
    primary = next(iter(table.__table__.primary_key.columns))
    session.execute(
        update(table)
        .where(primary == key, table.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
