"""Slowing password guessing: a few wrong passwords for one account from one address, then a pause.

The count lives in the web process's memory: a restart forgets it, and with
several web processes each keeps its own, which multiplies the allowance but
still bounds it. It is kept per account *and* address, so someone guessing
cannot lock a colleague out from elsewhere.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_PRUNE_ABOVE = 10_000  # keys kept before stale ones are dropped, so guessing many emails cannot fill memory


class LoginThrottle:
    def __init__(self, *, max_failures: int = MAX_FAILURES, window: timedelta = WINDOW) -> None:
        self._max_failures = max_failures
        self._window = window
        self._failures: dict[tuple[str, str], list[datetime]] = {}
        self._lock = threading.Lock()

    def blocked_until(self, key: tuple[str, str], now: datetime) -> datetime | None:
        """When ``key`` may try again, or ``None`` when it may now."""
        with self._lock:
            recent = self._recent(key, now)
            return recent[0] + self._window if len(recent) >= self._max_failures else None

    def failed(self, key: tuple[str, str], now: datetime) -> None:
        with self._lock:
            if len(self._failures) > _PRUNE_ABOVE:
                for stale in [item for item in self._failures if not self._recent(item, now)]:
                    del self._failures[stale]
            self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str], now: datetime) -> list[datetime]:
        return [moment for moment in self._failures.get(key, []) if now - moment < self._window]
