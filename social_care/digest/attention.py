"""What needs someone today, read as the digest is made: overdue and soon-due cases, cases nobody
was given, sources that stopped, read budgets running out, and the kill switch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from social_care.case_states import OPEN_STATES
from social_care.config.models import Config
from social_care.digest.model import Attention, CaseLine, SourceTrouble
from social_care.digest.reputation import Scope
from social_care.source_health import FAILING
from social_care.storage.tables import Case, SourceState
from social_care.switches import current_pause

LISTED = 5
SOON = timedelta(hours=2)
BUDGET_WARNING = 0.8  # a read budget is "near its quota" from this share on


def attention(session: Session, config: Config, scope: Scope, now: datetime, public_url: str) -> Attention:
    due = func.coalesce(Case.ack_due_at, Case.response_due_at, Case.resolution_due_at)
    pause = current_pause(session)
    return Attention(
        breached=_cases(session, scope, public_url, _overdue(now), due),
        due_soon=_cases(session, scope, public_url, and_(_any_due_before(now + SOON), ~_overdue(now)), due),
        unrouted=_cases(
            session,
            scope,
            public_url,
            and_(col(Case.team).is_(None), col(Case.category) != "other"),
            Case.opened_at,
        ),
        failing_sources=_failing(session, config, scope),
        read_budgets=_budgets(session, config, scope, now),
        paused=(pause.reason or "no reason given") if pause else None,
    )


def _any_due_before(moment: datetime) -> ColumnElement[bool]:
    """Some clock of the case falls due before ``moment`` (written so that its negation is never NULL)."""
    dues = (col(Case.ack_due_at), col(Case.response_due_at), col(Case.resolution_due_at))
    return or_(*(and_(due.is_not(None), due < moment) for due in dues))


def _overdue(now: datetime) -> ColumnElement[bool]:
    return _any_due_before(now)


def _cases(
    session: Session, scope: Scope, public_url: str, condition: ColumnElement[bool], order: object
) -> list[CaseLine]:
    statement = (
        select(Case)
        .where(col(Case.brand) == scope.brand, col(Case.status).in_(OPEN_STATES), condition)
        .order_by(order, col(Case.id))  # type: ignore[arg-type]
        .limit(LISTED)
    )
    if scope.teams:
        statement = statement.where(col(Case.team).in_(list(scope.teams)))
    return [case_line(case, public_url) for case in session.execute(statement).scalars()]


def case_line(case: Case, public_url: str) -> CaseLine:
    dues = [moment for moment in (case.ack_due_at, case.response_due_at, case.resolution_due_at) if moment]
    return CaseLine(
        reference=case.reference,
        url=f"{public_url.rstrip('/')}/cases/{case.id}",
        category=case.category,
        priority=case.priority,
        status=case.status,
        team=case.team or "",
        opened_at=case.opened_at,
        due_at=min(dues, default=None),
    )


def _brand_sources(config: Config, scope: Scope) -> Sequence[str]:
    return [source.id for source in config.sources if source.enabled and source.brand == scope.brand]


def _failing(session: Session, config: Config, scope: Scope) -> list[SourceTrouble]:
    states = session.execute(
        select(SourceState).where(
            col(SourceState.source_id).in_(_brand_sources(config, scope)), col(SourceState.status) == FAILING
        )
    ).scalars()
    return [SourceTrouble(state.source_id, state.last_error or "failing") for state in states]


def _budgets(session: Session, config: Config, scope: Scope, now: datetime) -> list[SourceTrouble]:
    month = now.strftime("%Y-%m")
    troubles = []
    for source in config.sources:
        if source.id not in _brand_sources(config, scope) or not source.monthly_read_quota:
            continue
        state = session.get(SourceState, source.id)
        used = state.reads_used if state is not None and state.reads_month == month else 0
        if used >= BUDGET_WARNING * source.monthly_read_quota:
            share = 100 * used / source.monthly_read_quota
            troubles.append(
                SourceTrouble(source.id, f"{used:,} of {source.monthly_read_quota:,} reads ({share:.0f}%)")
            )
    return troubles
