"""Telling a crisis from a busy hour: complaint volume against its own recent baseline.

The last hour's new complaint cases are compared with the hourly counts of the
``baseline_days`` before it (quiet hours count as zero). A crisis starts when
the count is more than ``sigmas`` standard deviations above the mean and at
least ``min_complaints_per_hour``, and ends when a later check finds it below
again. The baseline only changes when the hour does, so it is computed once
per hour, not once per post.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from social_care.config.models import CrisisPolicy
from social_care.storage.tables import Case, Crisis

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Baseline:
    mean: float
    deviation: float
    spike_above: float  # mean + sigmas x deviation
    minimum: int

    @property
    def threshold(self) -> float:
        return max(self.spike_above, float(self.minimum))

    def spiking(self, complaints: int) -> bool:
        return complaints > self.spike_above and complaints >= self.minimum


@dataclass(frozen=True)
class Observation:
    crisis: Crisis | None
    started: bool = False


def current_crisis(session: Session) -> Crisis | None:
    return session.exec(select(Crisis).where(col(Crisis.ongoing).is_(True))).first()


class CrisisMonitor:
    def __init__(self, policy: CrisisPolicy) -> None:
        self._policy = policy
        self._baselines: dict[datetime, Baseline] = {}

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
        return Observation(crisis)

    def baseline(self, session: Session, now: datetime) -> Baseline:
        hour = now.replace(minute=0, second=0, microsecond=0)
        if hour not in self._baselines:
            self._baselines = {hour: self._compute(session, hour)}
        return self._baselines[hour]

    def _compute(self, session: Session, end: datetime) -> Baseline:
        hours = self._policy.baseline_days * 24
        start = end - hours * HOUR
        opened = session.exec(
            select(Case.opened_at).where(
                Case.category == "complaint",
                col(Case.status).not_in(DISMISSED),
                Case.opened_at >= start,
                Case.opened_at < end,
            )
        ).all()
        counts = [0] * hours
        for moment in opened:
            counts[int((moment - start) / HOUR)] += 1
        mean, deviation = statistics.fmean(counts), statistics.pstdev(counts)
        return Baseline(
            mean=mean,
            deviation=deviation,
            spike_above=mean + self._policy.sigmas * deviation,
            minimum=self._policy.min_complaints_per_hour,
        )


# A wave of spam dressed as complaints is not a crisis, before or after someone marks it.
DISMISSED = ("spam", "ignored")


def _complaints_between(session: Session, start: datetime, end: datetime) -> int:
    statement = select(func.count()).where(
        Case.category == "complaint",
        col(Case.status).not_in(DISMISSED),
        Case.opened_at > start,
        Case.opened_at <= end,
    )
    return session.exec(statement).one()
