"""How well the desk answered a brand's customers over a day: the service figures the report
computes, for the day, the day before and each of the seven days before it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from social_care.case_states import OPEN_STATES
from social_care.config.models import Config
from social_care.digest.attention import case_line
from social_care.digest.days import LocalDay
from social_care.digest.model import Care, CaseLine, Figure, Named
from social_care.digest.reputation import Scope
from social_care.metrics import Durations, Filters, Report, measure
from social_care.storage.tables import Case

OLDEST = 5


def care(session: Session, config: Config, scope: Scope, day: LocalDay, public_url: str) -> Care:
    filters = Filters(brand=scope.brand, teams=tuple(scope.teams) or None)
    today = measure(session, config, day.period, filters, backlog_ages=True)
    week = [
        measure(session, config, other.period, filters, backlog_ages=False) for other in day.week_before()
    ]

    def figure(read: Callable[[Report], float | None]) -> Figure:
        known = [value for value in map(read, week) if value is not None]
        return Figure(read(today), read(week[0]), sum(known) / len(known) if known else None)

    return Care(
        acknowledgement_median=figure(lambda report: _seconds(report.acknowledgement, "median")),
        acknowledgement_p90=figure(lambda report: _seconds(report.acknowledgement, "p90")),
        first_response_median=figure(lambda report: _seconds(report.first_response, "median")),
        first_response_p90=figure(lambda report: _seconds(report.first_response, "p90")),
        attainment=today.attainment,
        backlog=figure(lambda report: report.backlog.open_cases),
        backlog_oldest=today.backlog.oldest,
        oldest_open=oldest_open(session, scope, public_url),
        resolved_share=figure(lambda report: report.resolution_rate),
        interactions_per_case=figure(lambda report: report.interactions_per_case),
        csat_answers=figure(lambda report: report.csat.responses),
        csat_mean=figure(lambda report: report.csat.mean_score),
        messages_by_channel=_channels(today, week),
    )


def _seconds(durations: Durations, which: str) -> float | None:
    value: timedelta | None = getattr(durations, which)
    return value.total_seconds() if value is not None else None


def _channels(today: Report, week: Sequence[Report]) -> list[Named]:
    names = sorted(today.volume_by_channel, key=lambda name: (-today.volume_by_channel[name], name))
    return [
        Named(
            name,
            Figure(
                today.volume_by_channel[name],
                week[0].volume_by_channel.get(name, 0),
                sum(report.volume_by_channel.get(name, 0) for report in week) / len(week),
            ),
        )
        for name in names
    ]


def oldest_open(session: Session, scope: Scope, public_url: str) -> list[CaseLine]:
    """The cases waiting longest now, oldest first."""
    statement = (
        select(Case)
        .where(col(Case.brand) == scope.brand, col(Case.status).in_(OPEN_STATES))
        .order_by(col(Case.opened_at), col(Case.id))
        .limit(OLDEST)
    )
    if scope.teams:
        statement = statement.where(col(Case.team).in_(list(scope.teams)))
    return [case_line(case, public_url) for case in session.execute(statement).scalars()]
