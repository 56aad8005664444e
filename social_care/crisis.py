"""Telling a crisis from a busy hour: complaint volume against its own recent baseline.

The last hour's new complaint cases are compared with the hourly counts of the
hours before it that the desk was watching, at most ``baseline_days`` of them
(quiet hours count as zero). A crisis starts when the count is more than
``sigmas`` spreads above the mean and at least ``min_complaints_per_hour``, and
ends when a later check finds it below again. Until the desk has watched for
``min_history_days`` there is no baseline and so no crisis: a fresh database
would otherwise measure its first busy hour against nothing ("0.0 usually").
The baseline only changes when the hour does, so it is computed once per hour,
not once per post.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from social_care.config.models import CrisisPolicy
from social_care.storage.tables import Case, Crisis, Mention

HOUR = timedelta(hours=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Baseline:
    mean: float
    deviation: float  # as measured; the threshold uses spread(mean, deviation)
    spike_above: float  # mean + sigmas x spread
    minimum: int
    hours: int  # the hours of history behind the mean
    hours_needed: int  # min_history_days in hours

    @property
    def enough_history(self) -> bool:
        return self.hours >= self.hours_needed

    @property
    def threshold(self) -> float:
        return max(self.spike_above, float(self.minimum))

    def above(self, complaints: int) -> bool:
        return complaints > self.spike_above and complaints >= self.minimum

    def spiking(self, complaints: int) -> bool:
        return self.enough_history and self.above(complaints)


@dataclass(frozen=True)
class Observation:
    crisis: Crisis | None
    started: bool = False
    no_crisis_because: str = ""  # set when the volume spiked but the history is too short to judge it


@dataclass(frozen=True)
class Episode:
    """A crisis as the digest tells it: when it ran, and its worst hour within the period asked."""

    started_at: datetime
    ended_at: datetime | None  # None while it lasts
    peak_hour: datetime | None  # start of the (UTC) hour with the most new complaint cases; None if none
    peak_complaints: int


def spread(mean: float, deviation: float) -> float:
    """The deviation a spike is measured in: the measured one, but never below sqrt(mean) nor one.

    Complaints arrive one by one from independent people, so even a perfectly
    steady brand's hourly counts scatter at least like a Poisson count, whose
    standard deviation is sqrt(mean): a history that happened to be flat
    (deviation 0) would otherwise make one complaint more than usual a crisis.
    Below one complaint an hour sqrt(mean) shrinks under a single complaint and
    stops protecting: at 0.1 an hour, two complaints in one hour would be three
    deviations out and happen about every nine days; with a spread of at least
    one complaint, three deviations above 0.1 take four.
    """
    return max(deviation, math.sqrt(mean), 1.0)


def current_crisis(session: Session) -> Crisis | None:
    return session.exec(select(Crisis).where(col(Crisis.ongoing).is_(True))).first()


def watching_since(session: Session) -> datetime | None:
    """When the desk stored its first post: where the complaint history it saw whole begins.

    Not the first case's opening: a case opens when the customer wrote, and a
    first poll reads posts of hours or days before (a feed's old items, a
    search's newest page), a partial sample that would pass for a quiet history.
    The first row by id is one index lookup, and posts are stored in fetch order.
    """
    statement = select(Mention.fetched_at).order_by(col(Mention.id)).limit(1)
    return session.exec(statement).first()


class CrisisMonitor:
    def __init__(self, policy: CrisisPolicy) -> None:
        self._policy = policy
        self._baselines: dict[datetime, Baseline] = {}
        self._told: datetime | None = None  # the hour whose spike without history was last logged

    def observe(self, session: Session, now: datetime) -> Observation:
        """Start or end the crisis as the last hour's complaints say; the crisis in force after."""
        crisis = current_crisis(session)
        complaints = _complaints_between(session, now - HOUR, now)
        baseline = self.baseline(session, now)
        spiking = baseline.spiking(complaints)
        if crisis is not None and not spiking:
            crisis.ended_at, crisis.ongoing = now, None
            session.add(crisis)
            return Observation(None)
        if crisis is None and spiking:
            crisis = Crisis(
                started_at=now,
                ongoing=True,
                complaints_last_hour=complaints,
                threshold=baseline.threshold,
                baseline_mean=baseline.mean,
                baseline_deviation=baseline.deviation,
            )
            session.add(crisis)
            session.flush()
            return Observation(crisis, started=True)
        return Observation(crisis, no_crisis_because=self._why_no_crisis(baseline, complaints, now))

    def baseline(self, session: Session, now: datetime) -> Baseline:
        hour = _hour(now)
        if hour not in self._baselines:
            self._baselines = {hour: self._compute(session, hour)}
        return self._baselines[hour]

    def _compute(self, session: Session, end: datetime) -> Baseline:
        hours = min(self._policy.baseline_days * 24, _hours_watched(watching_since(session), end))
        counts = _hourly_complaints(session, end, hours)
        mean = statistics.fmean(counts) if counts else 0.0
        deviation = statistics.pstdev(counts) if counts else 0.0
        return Baseline(
            mean=mean,
            deviation=deviation,
            spike_above=mean + self._policy.sigmas * spread(mean, deviation),
            minimum=self._policy.min_complaints_per_hour,
            hours=hours,
            hours_needed=self._policy.min_history_days * 24,
        )

    def _why_no_crisis(self, baseline: Baseline, complaints: int, now: datetime) -> str:
        """Why a volume that would be a crisis is not one; logged once an hour, not once per post."""
        if baseline.enough_history or not baseline.above(complaints):
            return ""
        reason = (
            f"{complaints} complaints in the last hour, but no crisis: the baseline covers "
            f"{baseline.hours} of the {baseline.hours_needed} hours of history it needs "
            "(acknowledgement.crisis.min_history_days)"
        )
        if self._told != _hour(now):
            self._told = _hour(now)
            log.info("%s", reason)
        return reason


def episodes(session: Session, policy: CrisisPolicy, since: datetime, until: datetime) -> list[Episode]:
    """The crises overlapping ``since <= t < until`` that were real by ``policy``, oldest first.

    A crisis declared with too little history or inside the spread's floor (a
    fresh database's "0.0 usually", before those rules) is left out: a manager
    reads only what the rule stands behind. The peak is counted per whole hour
    the episode touches, within the period, so a day's figures do not change
    when the crisis goes on the next day; it costs one indexed query per episode.
    """
    statement = (
        select(Crisis)
        .where(Crisis.started_at < until, or_(col(Crisis.ended_at).is_(None), col(Crisis.ended_at) > since))
        .order_by(col(Crisis.started_at))
    )
    first = watching_since(session)
    crises = [crisis for crisis in session.exec(statement) if _was_real(crisis, policy, first)]
    return [_episode(session, crisis, since, until) for crisis in crises]


def _was_real(crisis: Crisis, policy: CrisisPolicy, watching_from: datetime | None) -> bool:
    """Whether the rule in force would have declared the crisis from the figures it was declared on."""
    if _hours_watched(watching_from, _hour(crisis.started_at)) < policy.min_history_days * 24:
        return False
    mean, volume = crisis.baseline_mean, crisis.complaints_last_hour
    spike_above = mean + policy.sigmas * spread(mean, crisis.baseline_deviation)
    return volume > spike_above and volume >= policy.min_complaints_per_hour


def _episode(session: Session, crisis: Crisis, since: datetime, until: datetime) -> Episode:
    touched_from = _hour(crisis.started_at)
    touched_until = _hour_end(crisis.ended_at) if crisis.ended_at else until
    openings = _complaint_openings(session, max(touched_from, since), min(touched_until, until))
    per_hour = Counter(_hour(moment) for moment in openings)
    peak = max(sorted(per_hour.items()), key=lambda item: item[1], default=None)
    return Episode(
        started_at=crisis.started_at,
        ended_at=crisis.ended_at,
        peak_hour=peak[0] if peak else None,
        peak_complaints=peak[1] if peak else 0,
    )


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_end(moment: datetime) -> datetime:
    """The end of the hour ``moment`` falls in; a moment on the hour ends the hour before."""
    return moment if moment == _hour(moment) else _hour(moment) + HOUR


def _hours_watched(since: datetime | None, end: datetime) -> int:
    """Whole hours from ``since`` to ``end``: the first, partly watched hour does not count."""
    return 0 if since is None else max(0, math.floor((end - since) / HOUR))


def _hourly_complaints(session: Session, end: datetime, hours: int) -> list[int]:
    start = end - hours * HOUR
    counts = [0] * hours
    for moment in _complaint_openings(session, start, end):
        counts[int((moment - start) / HOUR)] += 1
    return counts


# A wave of spam dressed as complaints is not a crisis, before or after someone marks it.
DISMISSED = ("spam", "ignored")


def _complaint_openings(session: Session, start: datetime, end: datetime) -> list[datetime]:
    """When each complaint case opened in ``start <= t < end``."""
    statement = select(Case.opened_at).where(
        Case.category == "complaint",
        col(Case.status).not_in(DISMISSED),
        Case.opened_at >= start,
        Case.opened_at < end,
    )
    return list(session.exec(statement).all())


def _complaints_between(session: Session, start: datetime, end: datetime) -> int:
    statement = select(func.count()).where(
        Case.category == "complaint",
        col(Case.status).not_in(DISMISSED),
        Case.opened_at > start,
        Case.opened_at <= end,
    )
    return session.exec(statement).one()
