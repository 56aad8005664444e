"""The queue: the open cases a person may see, most urgent first."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement
from sqlalchemy import case as when
from sqlmodel import Session, col, func, select

from social_care.cases import OPEN_STATES
from social_care.crisis import current_crisis
from social_care.scope import visible_cases
from social_care.storage.tables import Author, Case, Employee, Mention, OutboxEntry, SourceState
from social_care.switches import current_pause
from social_care.web.rendering import render
from social_care.web.security import CurrentAgent, DatabaseSession

router = APIRouter()
QUEUE_LIMIT = 200
_PRIORITY_ORDER = when({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Case.priority, else_=4)


@dataclass(frozen=True)
class QueueRow:
    case: Case
    author: Author
    latest: Mention | None
    assignee: str
    mentions: int
    reply_state: str


@router.get("/queue", response_class=HTMLResponse)
def show_queue(request: Request, employee: CurrentAgent, session: DatabaseSession) -> HTMLResponse:
    rows = queue_rows(session, visible_cases(session, employee))
    sources = session.exec(select(SourceState).order_by(col(SourceState.source_id))).all()
    zone = ZoneInfo(request.app.state.config.service.timezone)
    return render(
        request,
        "queue.html",
        employee=employee,
        rows=rows,
        sources=sources,
        zone=zone,
        pause=current_pause(session),
        crisis=current_crisis(session),
    )


def queue_rows(session: Session, scope: ColumnElement[bool], limit: int = QUEUE_LIMIT) -> list[QueueRow]:
    """Open cases in ``scope``, the most urgent and the soonest due first; noise last."""
    statement = (
        select(Case, Author)
        .join(Author, col(Author.id) == col(Case.author_id))
        .where(col(Case.status).in_(OPEN_STATES), scope)
        .order_by(
            col(Case.category) == "other",
            _PRIORITY_ORDER,
            col(Case.ack_due_at).is_(None),
            col(Case.ack_due_at),
            col(Case.opened_at).desc(),
        )
        .limit(limit)
    )
    found = session.exec(statement).all()
    case_ids = [case.id for case, _ in found]
    latest = _latest_mentions(session, case_ids)
    counts = dict(
        session.exec(
            select(Mention.case_id, func.count())
            .where(col(Mention.case_id).in_(case_ids))
            .group_by(col(Mention.case_id))
        ).all()
    )
    in_order = select(OutboxEntry).where(col(OutboxEntry.case_id).in_(case_ids)).order_by(col(OutboxEntry.id))
    replies = {entry.case_id: entry.state for entry in session.exec(in_order)}  # the latest reply's state
    names = dict(session.exec(select(Employee.id, Employee.name)).all())
    return [
        QueueRow(
            case=case,
            author=author,
            latest=latest.get(case.id or 0),
            assignee=names.get(case.assignee_id, "") if case.assignee_id else "",
            mentions=counts.get(case.id, 0),
            reply_state=replies.get(case.id or 0, ""),
        )
        for case, author in found
    ]


def _latest_mentions(session: Session, case_ids: list[int | None]) -> dict[int, Mention]:
    newest = (
        select(func.max(Mention.id)).where(col(Mention.case_id).in_(case_ids)).group_by(col(Mention.case_id))
    )
    mentions = session.exec(select(Mention).where(col(Mention.id).in_(newest))).all()
    return {mention.case_id: mention for mention in mentions if mention.case_id is not None}
