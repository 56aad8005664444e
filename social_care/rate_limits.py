"""A source's request limit, kept by every worker together.

``rate_limit = {requests = 2, per_seconds = 60}`` means at most two requests to
the platform from this source in any 60 seconds, whichever worker makes them:
polls, replies and the look-ups that settle a reply. The times of the latest
requests live in one database row per source; taking a request is one short
transaction that locks that row (``SELECT ... FOR UPDATE`` on PostgreSQL,
SQLite's write lock), drops the times that left the window and adds one when
there is room. When there is none, the poller waits for the oldest to leave the
window; the outbox puts its reply off until then instead of holding its thread.
When few requests are left in the window (half of them, or a handful), replies
go first: a customer is waiting for them, while a poll put off a few seconds
only finds its posts a little later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from social_care.clock import Clock
from social_care.storage.tables import RequestLog

Sleep = Callable[[float], None]
FEW_LEFT = 4


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: int


class RequestGate:
    """Call it before each request to the platform: it returns when the request may go, and counts it."""

    def __init__(
        self,
        engine: Engine,
        source_id: str,
        limit: Limit | None,
        *,
        clock: Clock,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._engine = engine
        self._source_id = source_id
        self._limit = limit
        self._clock = clock
        self._sleep = sleep

    @property
    def limited(self) -> bool:
        return self._limit is not None

    def __call__(self) -> None:
        while (wait := self._take()) > 0:
            self._sleep(wait)

    def free_at(self, session: Session | None = None) -> datetime | None:
        """When the next request may go, if not now; read in ``session`` when the caller has one open
        (on SQLite a second transaction would wait for the caller's)."""
        if self._limit is None:
            return None
        if session is None:
            with Session(self._engine) as own:
                return self.free_at(own)
        row = session.get(RequestLog, self._source_id)
        recent = self._in_window(row.sent if row else [], self._clock())
        if len(recent) < self._limit.requests:
            return None
        return _moment(recent[-self._limit.requests] + self._limit.per_seconds)

    def tight(self, session: Session) -> bool:
        """Whether few requests are left in the window: at most half of them, or at most a handful."""
        if self._limit is None:
            return False
        row = session.get(RequestLog, self._source_id)
        left = self._limit.requests - len(self._in_window(row.sent if row else [], self._clock()))
        return left <= max(self._limit.requests / 2, FEW_LEFT)

    def _take(self) -> float:
        """Count one request and return 0, or return how many seconds to wait for room."""
        if self._limit is None:
            return 0.0
        now = self._clock()
        with Session(self._engine) as session:
            row = self._locked_row(session)
            recent = self._in_window(row.sent, now)
            if len(recent) >= self._limit.requests:
                session.rollback()
                return max(recent[-self._limit.requests] + self._limit.per_seconds - now.timestamp(), 0.001)
            row.sent = [*recent, now.timestamp()]
            session.add(row)
            session.commit()
        return 0.0

    def _locked_row(self, session: Session) -> RequestLog:
        row = session.get(RequestLog, self._source_id, with_for_update=True)
        if row is not None:
            return row
        try:
            with session.begin_nested():
                session.add(RequestLog(source_id=self._source_id, sent=[]))
        except IntegrityError:
            pass  # another worker made it first
        return session.get_one(RequestLog, self._source_id, with_for_update=True)

    def _in_window(self, sent: list[float], now: datetime) -> list[float]:
        assert self._limit is not None
        start = now.timestamp() - self._limit.per_seconds
        return sorted(moment for moment in sent if moment > start)


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
