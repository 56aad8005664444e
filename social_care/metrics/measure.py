"""The figures of one period for the cases matching some filters.

A period is half-open, ``since <= at < until``. Durations are wall-clock time,
as the customer lives them; SLA attainment uses each policy's own calendar,
through the due time stored on the event that met (or missed) it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from social_care.cases import OPEN_STATES
from social_care.config.models import Config, SlaPolicy
from social_care.metrics.summary import Durations
from social_care.sla import ACKNOWLEDGEMENT, RESOLUTION, RESPONSE, TARGETS, policy_for
from social_care.storage.tables import Case, CaseEvent, CsatResponse

UNROUTED = "unrouted"  # the team of the cases no rule routed (no team): a row of their own
CUSTOMER_MESSAGES = ("opened", "mention_added")
CYCLE_STARTS = ("opened", "reopened")
DISMISSED = ("spam", "ignored")
SATISFIED = 4


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise ValueError("the period must end after it starts")

    def __contains__(self, at: datetime) -> bool:
        return self.since <= at < self.until


@dataclass(frozen=True)
class Filters:
    """Only cases of this team, source and category; ``None`` does not constrain, and the team
    ``UNROUTED`` means the cases no rule routed."""

    team: str | None = None
    source: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class SlaAttainment:
    policy: str
    target: str
    met: int
    measured: int
    floor_percent: float

    @property
    def percent(self) -> float | None:
        return 100 * self.met / self.measured if self.measured else None

    @property
    def meets_floor(self) -> bool | None:
        return None if self.percent is None else self.percent >= self.floor_percent


@dataclass(frozen=True)
class Backlog:
    open_cases: int
    age: Durations
    oldest: timedelta | None


@dataclass(frozen=True)
class Csat:
    responses: int
    mean_score: float | None
    satisfied_percent: float | None


@dataclass(frozen=True)
class Report:
    period: Period
    filters: Filters
    acknowledgement: Durations
    first_response: Durations
    response: Durations
    resolution: Durations
    attainment: list[SlaAttainment]
    backlog: Backlog
    opened: int
    resolved_of_opened: int
    interactions_per_case: float | None
    volume_by_channel: dict[str, int]
    csat: Csat

    @property
    def resolution_rate(self) -> float | None:
        return 100 * self.resolved_of_opened / self.opened if self.opened else None


@dataclass
class _History:
    case: Case
    events: list[CaseEvent] = field(default_factory=list)

    @property
    def opened_at(self) -> datetime:
        return next(event.at for event in self.events if event.kind == "opened")

    def status_at(self, moment: datetime) -> str | None:
        statuses = [event.to_status for event in self.events if event.to_status and event.at < moment]
        return statuses[-1] if statuses else None


def measure(session: Session, config: Config, period: Period, filters: Filters = Filters()) -> Report:
    histories = _histories(session, period, filters)
    opened = [history for history in histories if history.opened_at in period]
    return Report(
        period=period,
        filters=filters,
        acknowledgement=Durations.of(_acknowledgement_times(histories, period)),
        first_response=Durations.of(_response_times(histories, period, first_only=True)),
        response=Durations.of(_response_times(histories, period, first_only=False)),
        resolution=Durations.of(_resolution_times(histories, period)),
        attainment=_attainment(config, histories, period),
        backlog=_backlog(histories, period.until),
        opened=sum(1 for history in opened if history.status_at(period.until) not in DISMISSED),
        resolved_of_opened=sum(1 for history in opened if history.status_at(period.until) == "resolved"),
        interactions_per_case=_interactions_per_case(histories, period),
        volume_by_channel=_volume_by_channel(histories, period),
        csat=_csat(session, period, {history.case.id for history in histories}),
    )


def measure_by(
    session: Session, config: Config, period: Period, dimension: str, filters: Filters = Filters()
) -> dict[str, Report]:
    """The figures once per team, source or category, within ``filters``.

    By team, every case has a row to count in, so the rows add up to the total:
    the configured teams, any team a case still names that the configuration no
    longer does, and ``UNROUTED``, always: its zero says every case reached a team.
    """
    groups = {
        "team": _teams(session, config),
        "source": [source.id for source in config.sources],
        "category": ["complaint", "inquiry", "praise", "other"],
    }
    if dimension not in groups:
        raise ValueError(f"figures are broken down by one of {', '.join(groups)}, not {dimension!r}")
    return {
        name: measure(session, config, period, replace(filters, **{dimension: name}))
        for name in groups[dimension]
        if getattr(filters, dimension) in (None, name)
    }


def _teams(session: Session, config: Config) -> list[str]:
    configured = [team.name for team in config.teams]
    named = session.exec(select(Case.team).where(col(Case.team).is_not(None)).distinct()).all()
    return [*configured, *sorted({name for name in named if name} - set(configured)), UNROUTED]


def _histories(session: Session, period: Period, filters: Filters) -> list[_History]:
    conditions: list[ColumnElement[bool]] = [
        col(column) == value
        for column, value in ((Case.source_id, filters.source), (Case.category, filters.category))
        if value is not None
    ]
    if filters.team is not None:
        team = col(Case.team)
        conditions.append(team.is_(None) if filters.team == UNROUTED else team == filters.team)
    statement = (
        select(Case, CaseEvent)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(col(CaseEvent.at) < period.until, *conditions)
        .order_by(col(Case.id), col(CaseEvent.at), col(CaseEvent.id))
    )
    histories: dict[int | None, _History] = {}
    for case, event in session.exec(statement):
        histories.setdefault(case.id, _History(case)).events.append(event)
    return [history for history in histories.values() if history.events[0].kind == "opened"]


def _acknowledgement(event: CaseEvent) -> dict[str, Any] | None:
    """What an event says about the acknowledgement clock: a person's first reply also acknowledges."""
    if event.kind == "acknowledged":
        return event.detail
    if event.kind == "responded" and "acknowledgement" in event.detail:
        return dict(event.detail["acknowledgement"])
    return None


def _acknowledgement_times(histories: list[_History], period: Period) -> list[timedelta]:
    times = []
    for history in histories:
        first = next((event for event in history.events if _acknowledgement(event) is not None), None)
        if first is not None and first.at in period:
            times.append(first.at - history.opened_at)
    return times


def _response_times(histories: list[_History], period: Period, *, first_only: bool) -> list[timedelta]:
    times = []
    for history in histories:
        for event in history.events:
            if (
                event.kind != "responded"
                or event.at not in period
                or (first_only and not event.detail["first"])
            ):
                continue
            if first_only:
                times.append(event.at - history.opened_at)
            elif "waiting_since" in event.detail:
                times.append(event.at - datetime.fromisoformat(event.detail["waiting_since"]))
    return times


def _resolution_times(histories: list[_History], period: Period) -> list[timedelta]:
    times = []
    for history in histories:
        started = history.opened_at
        for event in history.events:
            if event.kind in CYCLE_STARTS:
                started = event.at
            elif event.kind == "resolved" and event.at in period:
                times.append(event.at - started)
    return times


def _clock_outcomes(history: _History, period: Period) -> list[tuple[str, bool]]:
    """(target, met) for every clock of the case that concluded in the period.

    A clock concludes when its goal is reached, or when the sweeper records its
    breach; a late answer to a clock already counted as breached is not counted again.
    """
    breached = {
        (event.detail["target"], event.detail["due_at"])
        for event in history.events
        if event.kind == "sla_breached"
    }
    outcomes = [
        (event.detail["target"], False)
        for event in history.events
        if event.kind == "sla_breached" and event.at in period
    ]
    for event in history.events:
        if event.at not in period:
            continue
        measured = [
            (ACKNOWLEDGEMENT, _acknowledgement(event)),
            (RESPONSE, event.detail if event.kind == "responded" else None),
            (RESOLUTION, event.detail if event.kind == "resolved" else None),
        ]
        for target, detail in measured:
            if (
                detail
                and "due_at" in detail
                and (detail["met"] or (target, detail["due_at"]) not in breached)
            ):
                outcomes.append((target, bool(detail["met"])))
    return outcomes


def _attainment(config: Config, histories: list[_History], period: Period) -> list[SlaAttainment]:
    """Every configured policy and target, measured or not, in the configuration's order."""
    tally: dict[tuple[str, str], Counter[bool]] = defaultdict(Counter)
    for history in histories:
        policy = policy_for(config, history.case.category, history.case.priority)
        if policy is not None:
            for target, met in _clock_outcomes(history, period):
                tally[(policy.name, target)][met] += 1
    rows = []
    for policy in config.sla:
        for target, minutes in zip(TARGETS, _targets(policy), strict=True):
            if minutes:
                counts = tally[(policy.name, target)]
                measured = counts[True] + counts[False]
                rows.append(SlaAttainment(policy.name, target, counts[True], measured, policy.floor_percent))
    return rows


def _targets(policy: SlaPolicy) -> tuple[int | None, ...]:
    return (
        policy.acknowledge_within_minutes,
        policy.first_response_within_minutes,
        policy.resolve_within_minutes,
    )


def _backlog(histories: list[_History], moment: datetime) -> Backlog:
    ages = [moment - history.opened_at for history in histories if history.status_at(moment) in OPEN_STATES]
    return Backlog(len(ages), Durations.of(ages), max(ages, default=None))


def _interactions_per_case(histories: list[_History], period: Period) -> float | None:
    """Customer messages and our replies that reached them, per case with any in the period."""
    counts = [
        sum(
            1
            for event in history.events
            if event.at in period and (event.kind in (*CUSTOMER_MESSAGES, "acknowledged", "responded"))
        )
        for history in histories
    ]
    active = [count for count in counts if count]
    return sum(active) / len(active) if active else None


def _volume_by_channel(histories: list[_History], period: Period) -> dict[str, int]:
    volume: Counter[str] = Counter()
    for history in histories:
        volume[history.case.platform] += sum(
            1 for event in history.events if event.kind in CUSTOMER_MESSAGES and event.at in period
        )
    return {channel: count for channel, count in sorted(volume.items()) if count}


def _csat(session: Session, period: Period, case_ids: set[int | None]) -> Csat:
    statement = select(CsatResponse).where(
        col(CsatResponse.answered_at) >= period.since, col(CsatResponse.answered_at) < period.until
    )
    scores = [row.score for row in session.exec(statement) if row.case_id in case_ids]
    if not scores:
        return Csat(0, None, None)
    satisfied = sum(1 for score in scores if score >= SATISFIED)
    return Csat(len(scores), sum(scores) / len(scores), 100 * satisfied / len(scores))
