"""One case: its posts and history, and what a person does with it (reply, resolve, dismiss).

Only someone authorised for the case's source account may act on it, and an
agent only on a case assigned to them; supervisors and admins on any. Replies
leave through the outbox, so they are sent once; the reply that resolves a
case carries the satisfaction survey link.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from social_care import csat, lifecycle
from social_care.config.models import Config
from social_care.storage.tables import Author, Case, CaseEvent, Employee, Mention
from social_care.web.rendering import render
from social_care.web.security import ROLE_RANK, CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
MAX_REPLY_LENGTH = 2000


def _may_act(config: Config, employee: Employee, case: Case) -> bool:
    person = next((item for item in config.employees if item.email == employee.email), None)
    authorised = person is not None and case.source_id in person.accounts
    return authorised and (
        ROLE_RANK[employee.role] >= ROLE_RANK["supervisor"] or case.assignee_id == employee.id
    )


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="No such case.")
    return case


def _acting_on(request: Request, session: Session, employee: Employee, case_id: int) -> Case:
    case = _case(session, case_id)
    if not _may_act(request.app.state.config, employee, case):
        raise HTTPException(status_code=403, detail="You may not act on this case.")
    return case


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def show_case(
    request: Request, employee: CurrentAgent, session: DatabaseSession, case_id: int
) -> HTMLResponse:
    case = _case(session, case_id)
    mentions = session.exec(select(Mention).where(Mention.case_id == case_id).order_by(col(Mention.id))).all()
    history = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
    ).all()
    return render(
        request,
        "case.html",
        employee=employee,
        case=case,
        author=session.get_one(Author, case.author_id),
        mentions=mentions,
        history=history,
        may_act=_may_act(request.app.state.config, employee, case),
        zone=ZoneInfo(request.app.state.config.service.timezone),
        error="",
    )


@router.post("/cases/{case_id}/reply", dependencies=[CsrfChecked])
def reply(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    text: Annotated[str, Form()] = "",
    resolve: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    case = _acting_on(request, session, employee, case_id)
    text = text.strip()
    if not text or len(text) > MAX_REPLY_LENGTH:
        raise HTTPException(status_code=422, detail=f"A reply needs 1 to {MAX_REPLY_LENGTH} characters.")
    latest = session.exec(
        select(Mention).where(Mention.case_id == case_id).order_by(col(Mention.id).desc())
    ).first()
    if latest is None:
        raise HTTPException(status_code=409, detail="This case has no post to answer.")
    now, state = request.app.state.clock(), request.app.state
    if resolve:
        text = csat.resolution_reply(state.config, state.secret_key, case, text, now)
    lifecycle.queue_reply(
        session,
        case,
        text,
        now,
        employee_id=employee.id or 0,
        in_reply_to=latest.external_id,
        resolves=resolve,
    )
    session.commit()
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/dismiss", dependencies=[CsrfChecked])
def dismiss(
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    case = _acting_on(request, session, employee, case_id)
    if reason not in lifecycle.DISMISSALS:
        raise HTTPException(status_code=422, detail="A case is dismissed as spam or ignored.")
    lifecycle.dismiss(session, case, reason, request.app.state.clock(), employee_id=employee.id or 0)
    session.commit()
    return RedirectResponse("/queue", status_code=303)
