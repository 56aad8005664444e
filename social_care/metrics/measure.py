"""The figures of one period for the cases matching some filters, read from the hourly rollups.

A period is half-open, ``since <= at < until``, in whole hours (a boundary
inside an hour counts from that hour's start). Durations are wall-clock time,
as the customer lives them; SLA attainment uses each policy's own calendar,
through the due time stored on the event that met (or missed) it. A period
costs a day row per UTC day and a few hour rows at its edges, whatever the
history (:mod:`.spans`): only the backlog's ages read the cases open at its end
(and those closed since).

"Opened" and "resolved of opened" count a period's new cases by what they are
now (a case marked spam later no longer counts as opened), so a report run
again later may say a little more than it did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func
from sqlalchemy import select as sql_select  # plain rows of a whole table
from sqlmodel import Session, col, select

from social_care.case_states import OPEN_STATES
from social_care.config.models import Config, SlaPolicy
from social_care.metrics.rollups import day_of
from social_care.metrics.spans import pieces, rows_of, sign_of
from social_care.metrics.summary import Durations
from social_care.sla import TARGETS, policy_for
from social_care.storage.tables import CareRollup, Case, CaseEvent

UNROUTED = "unrouted"  # the team of the cases no rule routed (no team): a row of their own
DURATIONS = ("acknowledgement_seconds", "first_response_seconds", "response_seconds", "resolution_seconds")
COUNTS = ("opened", "opened_dismissed", "opened_resolved", "messages", "replies")
CSAT = ("csat_answers", "csat_score_sum", "csat_satisfied")
EVER_AFTER = timedelta(days=36_500)  # "since a moment" as a period: every row after it
CHUNK = 5000  # case ids per IN list: well under every driver's limit on parameters


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
    brand: str | None = None
    teams: tuple[str, ...] | None = None  # any of these teams (a digest scoped to some teams)


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


def measure(
    session: Session,
    config: Config,
    period: Period,
    filters: Filters = Filters(),
    *,
    backlog_ages: bool = True,
) -> Report:
    """The period's figures; without ``backlog_ages`` the backlog is counted from the rollups alone."""
    rows = _rows(session, period, filters)
    sums = {name: sum(sign * getattr(row, name) for row, sign in rows) for name in (*COUNTS, *CSAT)}
    active = {case_id for case_id, times in _samples(rows, "active").items() if times > 0}
    channels: Counter[str] = Counter()
    for row, sign in rows:
        channels[row.platform] += sign * row.messages
    return Report(
        period=period,
        filters=filters,
        acknowledgement=_durations(rows, "acknowledgement_seconds"),
        first_response=_durations(rows, "first_response_seconds"),
        response=_durations(rows, "response_seconds"),
        resolution=_durations(rows, "resolution_seconds"),
        attainment=_attainment(config, rows),
        backlog=backlog_at(session, period.until, filters, ages=backlog_ages),
        opened=sums["opened"] - sums["opened_dismissed"],
        resolved_of_opened=sums["opened_resolved"],
        interactions_per_case=(sums["messages"] + sums["replies"]) / len(active) if active else None,
        volume_by_channel={channel: count for channel, count in sorted(channels.items()) if count},
        csat=Csat(
            sums["csat_answers"],
            sums["csat_score_sum"] / sums["csat_answers"] if sums["csat_answers"] else None,
            100 * sums["csat_satisfied"] / sums["csat_answers"] if sums["csat_answers"] else None,
        ),
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
        name: measure(session, config, period, _narrowed(filters, dimension, name))
        for name in groups[dimension]
        if getattr(filters, dimension) in (None, name)
    }


def _narrowed(filters: Filters, dimension: str, name: str) -> Filters:
    if dimension == "team":
        return replace(filters, team=name)
    if dimension == "source":
        return replace(filters, source=name)
    return replace(filters, category=name)


def _teams(session: Session, config: Config) -> list[str]:
    configured = [team.name for team in config.teams]
    named = session.exec(select(Case.team).where(col(Case.team).is_not(None)).distinct()).all()
    return [*configured, *sorted({name for name in named if name} - set(configured)), UNROUTED]


def _care_filters(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        col(column) == value
        for column, value in (
            (CareRollup.source_id, filters.source),
            (CareRollup.category, filters.category),
            (CareRollup.brand, filters.brand),
        )
        if value is not None
    ]
    if filters.team is not None:
        conditions.append(col(CareRollup.team) == ("" if filters.team == UNROUTED else filters.team))
    if filters.teams is not None:
        conditions.append(col(CareRollup.team).in_(filters.teams))
    return conditions


def _rows(session: Session, period: Period, filters: Filters) -> list[tuple[Row[Any], int]]:
    """The period's rollup rows as plain rows, each with how many times it counts (1 or -1):
    UTC days whole, a few hours added or taken away at the edges (see :mod:`.spans`)."""
    found = pieces(period.since, period.until)
    if not found:
        return []
    statement = sql_select(*CareRollup.__table__.columns).where(  # type: ignore[attr-defined]
        rows_of(found, col(CareRollup.grain), col(CareRollup.hour)), *_care_filters(filters)
    )
    return [(row, sign_of(found, row.grain, row.hour)) for row in session.execute(statement)]


def _samples(rows: Sequence[tuple[Row[Any], int]], name: str) -> Counter[Any]:
    """The values of one sample list over signed rows, each as many times as it is left counted."""
    gained: list[Any] = []
    lost: list[Any] = []
    for row, sign in rows:
        (gained if sign > 0 else lost).extend(row.samples.get(name, []))
    values = Counter(gained)  # counted in C: a month holds hundreds of thousands
    values.subtract(lost)
    return values


def _durations(rows: Sequence[tuple[Row[Any], int]], name: str) -> Durations:
    return Durations.of_seconds(list(_samples(rows, name).elements()))


def _attainment(config: Config, rows: Sequence[tuple[Row[Any], int]]) -> list[SlaAttainment]:
    """Every configured policy and target, measured or not, in the configuration's order."""
    tally: dict[tuple[str, str], Counter[bool]] = defaultdict(Counter)
    for row, sign in rows:
        policy = policy_for(config, row.category, row.priority)
        if policy is not None:
            for target, (met, missed) in row.samples.get("sla", {}).items():
                tally[(policy.name, target)][True] += sign * met
                tally[(policy.name, target)][False] += sign * missed
    attainment = []
    for policy in config.sla:
        for target, minutes in zip(TARGETS, _targets(policy), strict=True):
            if minutes:
                counts = tally[(policy.name, target)]
                measured = counts[True] + counts[False]
                attainment.append(
                    SlaAttainment(policy.name, target, counts[True], measured, policy.floor_percent)
                )
    return attainment


def _targets(policy: SlaPolicy) -> tuple[int | None, ...]:
    return (
        policy.acknowledge_within_minutes,
        policy.first_response_within_minutes,
        policy.resolve_within_minutes,
    )


def _case_filters(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        col(column) == value
        for column, value in (
            (Case.source_id, filters.source),
            (Case.category, filters.category),
            (Case.brand, filters.brand),
        )
        if value is not None
    ]
    if filters.team is not None:
        team = col(Case.team)
        conditions.append(team.is_(None) if filters.team == UNROUTED else team == filters.team)
    if filters.teams is not None:
        conditions.append(col(Case.team).in_(filters.teams))
    return conditions


def backlog_at(
    session: Session, moment: datetime, filters: Filters = Filters(), *, ages: bool = True
) -> Backlog:
    """The cases open at ``moment``: counted as the cases open now less the openings and plus the
    closings since (rollup rows since), or, with ``ages``, found with their ages."""
    if ages:
        return _backlog_with_ages(session, moment, filters)
    open_now = session.exec(
        select(func.count()).where(col(Case.status).in_(OPEN_STATES), *_case_filters(filters))
    ).one()
    found = pieces(moment, day_of(moment) + EVER_AFTER)
    grain, hour = col(CareRollup.grain), col(CareRollup.hour)
    sign = case(*((rows_of([piece], grain, hour), piece.sign) for piece in found), else_=0)
    moved = session.exec(
        select(func.coalesce(func.sum(sign * (CareRollup.went_open - CareRollup.went_closed)), 0)).where(
            rows_of(found, grain, hour), *_care_filters(filters)
        )
    ).one()
    return Backlog(int(open_now) - int(moved), Durations.of([]), None)


def _backlog_with_ages(session: Session, moment: datetime, filters: Filters) -> Backlog:
    """The cases open at ``moment`` and how long each had been open: those opened before it that
    are open now or changed since, each judged by its last change of state before it."""
    opened_at: dict[int, datetime] = {}
    for changed in (col(Case.status).in_(OPEN_STATES), col(Case.last_activity_at) >= moment):
        found = session.exec(
            select(Case.id, Case.opened_at).where(
                col(Case.opened_at) < moment, changed, *_case_filters(filters)
            )
        ).all()
        opened_at.update((case_id, opened) for case_id, opened in found if case_id is not None)
    last: dict[int, tuple[datetime, int, str]] = {}
    candidates = list(opened_at)
    for start in range(0, len(candidates), CHUNK):
        # Only by case: given the time too, SQLite walks every event before it by its index on time.
        for case_id, event_id, at, to_status in session.exec(
            select(CaseEvent.case_id, CaseEvent.id, CaseEvent.at, CaseEvent.to_status).where(
                col(CaseEvent.case_id).in_(candidates[start : start + CHUNK]),
                col(CaseEvent.to_status).is_not(None),
            )
        ):
            if at < moment and (case_id not in last or (at, event_id) > last[case_id][:2]):
                last[case_id] = (at, event_id or 0, str(to_status))
    status = {case_id: to_status for case_id, (_, _, to_status) in last.items()}
    age_list = [moment - opened_at[case_id] for case_id, state in status.items() if state in OPEN_STATES]
    return Backlog(len(age_list), Durations.of(age_list), max(age_list, default=None))
