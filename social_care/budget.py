"""Paying for reads: pace a source so that its monthly read quota lasts the month.

X bills every post read, so a source with ``monthly_read_quota`` is polled no
more often than its remaining reads allow until the end of the calendar month
(UTC), given how many posts a poll has recently cost. A source without a quota
is polled at its configured interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

SMOOTHING = 0.2  # weight of the latest poll in the running average of reads per poll


@dataclass(frozen=True)
class ReadBudget:
    quota: int
    used: int
    reads_per_poll: float

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)


def month_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


class CountsReads(Protocol):
    reads_month: str
    reads_used: int


def count_reads(state: CountsReads, reads: int, now: datetime) -> bool:
    """Add ``reads`` to this month's count (a new month starts from zero); whether it is the first
    count ever made for the source."""
    month, first = month_of(now), state.reads_month == ""
    if state.reads_month != month:
        state.reads_month, state.reads_used = month, 0
    state.reads_used += reads
    return first


def seconds_left_in_month(now: datetime) -> float:
    now = now.astimezone(UTC)
    first_of_next = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return (first_of_next - now).total_seconds()


def paced_interval(budget: ReadBudget, now: datetime, base_seconds: float) -> float:
    """Seconds to wait before the next poll: the configured interval, or longer
    when polling at that pace would spend the quota before the month ends."""
    left = seconds_left_in_month(now)
    if budget.remaining == 0:
        return left  # nothing left: wait for next month's quota
    affordable_polls = budget.remaining / max(budget.reads_per_poll, 1e-3)
    return max(base_seconds, left / affordable_polls)


def projected_spend(budget: ReadBudget, now: datetime, interval_seconds: float) -> int:
    """Reads used by the end of the month if polling goes on at ``interval_seconds``."""
    polls = seconds_left_in_month(now) / max(interval_seconds, 1.0)
    return min(budget.quota, round(budget.used + polls * budget.reads_per_poll))


def updated_average(previous: float, reads: int, first: bool) -> float:
    return float(reads) if first else (1 - SMOOTHING) * previous + SMOOTHING * reads
