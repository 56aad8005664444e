"""A recipient's days: local midnight to local midnight, however long daylight saving makes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from social_care.metrics import Period

WEEK = 7


@dataclass(frozen=True)
class LocalDay:
    day: date
    zone: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day, time(0), self.zone)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), self.zone)

    @property
    def period(self) -> Period:
        return Period(self.starts_at, self.ends_at)

    @property
    def hours(self) -> int:
        """23, 24 or 25: a day the clocks change has one hour less or more."""
        return round((self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)).total_seconds() / 3600)

    def hour_starts(self) -> list[datetime]:
        """Where each of the day's hours starts, local time (counted in UTC: adding hours to a local
        time would step onto the hour the clocks skip, or miss the one they repeat). Hours are
        whole UTC hours, as the rollups keep them: in a zone half an hour off, the day's hours
        start at half past, from the hour its midnight falls in."""
        start = self.starts_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return [(start + timedelta(hours=number)).astimezone(self.zone) for number in range(self.hours)]

    def before(self, days: int = 1) -> LocalDay:
        return LocalDay(self.day - timedelta(days=days), self.zone)

    def week_before(self) -> list[LocalDay]:
        """The seven days before this one, the day before first."""
        return [self.before(days) for days in range(1, WEEK + 1)]


def yesterday(now: datetime, zone: ZoneInfo) -> LocalDay:
    """The local day before the one ``now`` falls in, in ``zone``."""
    return LocalDay(now.astimezone(zone).date() - timedelta(days=1), zone)
