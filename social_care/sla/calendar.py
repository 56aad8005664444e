"""Business time: adding and measuring minutes that only run inside opening hours.

A calendar is either 24/7 or a set of weekdays with daily opening hours in one
time zone, minus holidays. Hours are read in the calendar's local time, so a
day that gains or loses an hour to daylight saving still opens and closes at
its local times; instants are always compared in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from social_care.config.models import BusinessCalendar, Config

ALWAYS = "24/7"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar must open at least once in this many days; the models make sure it does.
_HORIZON_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """When the clock runs: ``hours`` of ``days`` in ``zone`` except ``holidays``; ``None`` hours = 24/7."""

    zone: ZoneInfo
    days: frozenset[int] = frozenset(range(7))
    opens: time | None = None
    closes: time | None = None
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls) -> Calendar:
        return cls(zone=ZoneInfo("UTC"))

    @classmethod
    def from_config(cls, calendar: BusinessCalendar) -> Calendar:
        return cls(
            zone=ZoneInfo(calendar.timezone),
            days=frozenset(_WEEKDAYS.index(day) for day in calendar.hours.days),
            opens=calendar.hours.start,
            closes=calendar.hours.end,
            holidays=frozenset(calendar.holidays),
        )

    @property
    def is_always_open(self) -> bool:
        return self.opens is None or self.closes is None

    def add(self, instant: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of business time has run from ``instant``."""
        if self.is_always_open:
            return instant + duration
        remaining = duration
        for opens, closes in self._open_spans(instant):
            start = max(opens, instant)
            if start + remaining <= closes:
                return start + remaining
            remaining -= closes - start
        raise ValueError("the calendar never opens")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """How much business time lies between ``start`` and ``end``."""
        if end <= start:
            return timedelta(0)
        if self.is_always_open:
            return end - start
        total = timedelta(0)
        for opens, closes in self._open_spans(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def _open_spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening spans in UTC, in order, from the one containing or following ``since``."""
        assert self.opens is not None and self.closes is not None
        day = since.astimezone(self.zone).date()
        for offset in range(_HORIZON_DAYS):
            current = day + timedelta(days=offset)
            if current.weekday() not in self.days or current in self.holidays:
                continue
            opens = datetime.combine(current, self.opens, self.zone).astimezone(UTC)
            closes = datetime.combine(current, self.closes, self.zone).astimezone(UTC)
            if closes > since:
                yield opens, closes


def calendar_named(config: Config, name: str) -> Calendar:
    """The calendar a policy names ("24/7" or one of the configured calendars)."""
    if name == ALWAYS:
        return Calendar.always()
    found = next((calendar for calendar in config.calendars if calendar.name == name), None)
    if found is None:
        raise ValueError(f"no calendar named {name!r}")
    return Calendar.from_config(found)
