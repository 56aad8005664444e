"""Today so far for some teams: the figures a supervisor watches while the day runs.

The day is the service's, from local midnight to now. Every figure but the
backlog's ages is read from the rollups kept current in the transaction that
changes a case (:mod:`.rollups`), so the page costs today's rollup rows and the
open cases, never the history. Rollups count whole hours: "so far" runs to the
end of the current hour, since nothing can be recorded after now yet, while the
backlog is taken at now itself so its ages are not an hour too old.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from social_care.config.models import Config
from social_care.metrics.contributions import hour_of
from social_care.metrics.measure import (
    UNROUTED,
    Backlog,
    Filters,
    Period,
    Report,
    SlaAttainment,
    backlog_at,
    measure,
)
from social_care.metrics.rollups import HOUR
from social_care.sla import ACKNOWLEDGEMENT, RESPONSE, TARGETS
from social_care.storage.tables import MentionRollup

ONE_HOUR = timedelta(hours=1)
WATCHED = (ACKNOWLEDGEMENT, RESPONSE)  # the clocks a day decides; resolution is judged over days


@dataclass(frozen=True)
class HourVolume:
    """Customers' posts in one hour (starting at ``start``, UTC), by team; a future hour has ``None``."""

    start: datetime
    by_team: dict[str, int] | None

    @property
    def total(self) -> int:
        return sum((self.by_team or {}).values())


@dataclass(frozen=True)
class Today:
    since: datetime  # local midnight, in UTC
    now: datetime
    teams: tuple[str, ...] | None  # None: every case, those no rule routed included
    report: Report
    backlog: Backlog
    volume: list[HourVolume]  # every hour of the local day (23, 24 or 25 of them)

    @property
    def attainment(self) -> list[SlaAttainment]:
        """Acknowledgement and first response against each policy's floor, in the configuration's order."""
        return [item for item in self.report.attainment if item.target in WATCHED]

    @property
    def breaches(self) -> dict[str, int]:
        """Clocks missed today by target: breached, or met late before anyone noticed."""
        missed = dict.fromkeys(TARGETS, 0)
        for item in self.report.attainment:
            missed[item.target] += item.measured - item.met
        return missed

    @property
    def volume_teams(self) -> list[str]:
        """The series of the volume: the teams asked for, or, for every case, the teams that had
        posts today by name and then the cases no rule routed."""
        if self.teams is not None:
            return list(self.teams)
        wrote = {team for hour in self.volume for team, count in (hour.by_team or {}).items() if count}
        return [*sorted(wrote - {UNROUTED}), *([UNROUTED] if UNROUTED in wrote else [])]

    @property
    def posts(self) -> int:
        return sum(hour.total for hour in self.volume)


def day_so_far(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, Period]:
    """Local midnight and the next one (UTC), and the period the rollups read: to the end of this hour."""
    local = now.astimezone(zone).date()
    since = datetime.combine(local, time(0), tzinfo=zone).astimezone(UTC)
    tomorrow = datetime.combine(local + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return since, tomorrow, Period(since, hour_of(now.astimezone(UTC)) + ONE_HOUR)


def today(session: Session, config: Config, now: datetime, teams: tuple[str, ...] | None) -> Today:
    """The day so far for the cases of ``teams`` (``None``: every case)."""
    since, tomorrow, period = day_so_far(now, ZoneInfo(config.service.timezone))
    filters = Filters(teams=teams)
    report = measure(session, config, period, filters, backlog_ages=False)
    return Today(
        since=since,
        now=now,
        teams=teams,
        report=report,
        backlog=backlog_at(session, now, filters),
        volume=volume_by_hour(session, since, tomorrow, period.until, teams),
    )


def volume_by_hour(
    session: Session, since: datetime, until: datetime, known_until: datetime, teams: tuple[str, ...] | None
) -> list[HourVolume]:
    """Posts per hour and team from the mention rollups' hour rows: one query, today's rows only."""
    rollup = MentionRollup
    statement = (
        select(rollup.hour, rollup.team, func.sum(rollup.mentions))
        .where(
            col(rollup.grain) == HOUR,
            col(rollup.hour) >= hour_of(since),
            col(rollup.hour) < known_until,
        )
        .group_by(col(rollup.hour), col(rollup.team))
    )
    if teams is not None:
        statement = statement.where(col(rollup.team).in_(teams))
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    for start, team, mentions in session.exec(statement):
        counts[start][team or UNROUTED] = int(mentions or 0)
    hours, start = [], hour_of(since)
    while start < until:
        hours.append(HourVolume(start, counts.get(start, {}) if start < known_until else None))
        start += ONE_HOUR
    return hours
