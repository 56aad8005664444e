"""Slowing password guessing: a few wrong passwords, then a pause, counted three ways.

- per account and address: five wrong passwords for one account from one
  address, and that address waits before trying that account again;
- per account: twenty from any addresses (guessing spread over many
  addresses), and the account waits, whoever asks;
- per address: twenty for any accounts (one password tried on many
  accounts), and that address waits, whichever account it names.

The address is the one that connected, or the one a configured proxy names in
``X-Forwarded-For`` (``[service] trusted_proxies``); nobody else's header is
believed. A right password clears its account's counts, never its address's,
so signing in to one's own account does not buy more guesses at others'.

The counts live in the web process's memory: a restart forgets them, and with
several web processes each keeps its own, which multiplies the allowance but
still bounds it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PER_ACCOUNT_AND_ADDRESS = 5
PER_ACCOUNT = 20
PER_ADDRESS = 20
_PRUNE_ABOVE = 10_000  # keys kept before stale ones are dropped, so guessing many emails cannot fill memory


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: the account named and the address it came from."""

    account: str
    address: str

    def counters(self) -> tuple[tuple[str, str], ...]:
        """The counts this attempt adds to: its account's from its address, its account's, its address's."""
        pair = f"{self.account}\n{self.address}"
        return (("pair", pair), ("account", self.account), ("address", self.address))


class LoginThrottle:
    def __init__(
        self,
        *,
        per_account_and_address: int = PER_ACCOUNT_AND_ADDRESS,
        per_account: int = PER_ACCOUNT,
        per_address: int = PER_ADDRESS,
        window: timedelta = WINDOW,
    ) -> None:
        self._limits = {"pair": per_account_and_address, "account": per_account, "address": per_address}
        self._window = window
        self._failures: dict[tuple[str, str], list[datetime]] = {}
        self._lock = threading.Lock()

    def blocked_until(self, attempt: Attempt, now: datetime) -> datetime | None:
        """When this attempt may be made, or ``None`` when it may be now."""
        with self._lock:
            until = [
                recent[-self._limits[key[0]]] + self._window
                for key in attempt.counters()
                if len(recent := self._recent(key, now)) >= self._limits[key[0]]
            ]
        return max(until, default=None)

    def failed(self, attempt: Attempt, now: datetime) -> None:
        with self._lock:
            if len(self._failures) > _PRUNE_ABOVE:
                for stale in [key for key in self._failures if not self._recent(key, now)]:
                    del self._failures[stale]
            for key in attempt.counters():
                self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, attempt: Attempt) -> None:
        with self._lock:
            for key in attempt.counters()[:2]:  # the pair's and the account's counts, not the address's
                self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str], now: datetime) -> list[datetime]:
        return [moment for moment in self._failures.get(key, []) if now - moment < self._window]
