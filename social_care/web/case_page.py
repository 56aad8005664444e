"""One case: its posts and history, and what a person does with it (reply, resolve, dismiss).

Only someone authorised for the case's source account may act on it, and an
agent only on a case assigned to them; supervisors and admins on any. Replies
leave through the outbox, so they are sent once; the reply that resolves a
case carries the satisfaction survey link.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from connectors.registry import connector_class
from social_care import csat, lifecycle
from social_care.config.models import Config
from social_care.storage.tables import Author, Case, CaseEvent, Employee, Mention
from social_care.web.rendering import render
from social_care.web.security import ROLE_RANK, CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
MAX_REPLY_LENGTH = 2000
_REPLY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


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
    return _page(request, session, employee, _case(session, case_id))


def _page(
    request: Request,
    session: Session,
    employee: Employee,
    case: Case,
    *,
    error: str = "",
    text: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The case page; after a refused reply, with why and the reply as written, so nothing is lost."""
    mentions = session.exec(select(Mention).where(Mention.case_id == case.id).order_by(col(Mention.id))).all()
    history = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    ).all()
    return render(
        request,
        "case.html",
        status_code=status_code,
        employee=employee,
        case=case,
        author=session.get_one(Author, case.author_id),
        mentions=mentions,
        history=history,
        may_act=_may_act(request.app.state.config, employee, case),
        zone=ZoneInfo(request.app.state.config.service.timezone),
        error=error,
        text=text,
        reply_key=secrets.token_urlsafe(16),
    )


def _reply_problem(config: Config, case: Case, text: str, final: str) -> str:
    """Why this reply cannot be sent, or an empty string."""
    if not text or len(text) > MAX_REPLY_LENGTH:
        return f"A reply needs 1 to {MAX_REPLY_LENGTH} characters."
    source = next((item for item in config.sources if item.id == case.source_id), None)
    platform = connector_class(source.platform) if source is not None and source.enabled else None
    if platform is None or platform.reply_max_length <= 0:
        return f"No reply can be sent from source {case.source_id}: answer the customer elsewhere."
    length, limit = platform.reply_length(final), platform.reply_max_length
    if length > limit:
        extra = " with the survey link" if final != text else ""
        return f"This reply is {length} characters{extra}; {case.platform} takes at most {limit}."
    return ""


@router.post("/cases/{case_id}/reply", dependencies=[CsrfChecked], response_model=None)
def reply(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    text: Annotated[str, Form()] = "",
    resolve: Annotated[bool, Form()] = False,
    reply_key: Annotated[str, Form()] = "",
) -> Response:
    """Queue the reply once per form: sending the same form again finds the reply already queued."""
    case = _acting_on(request, session, employee, case_id)
    text, now, state = text.strip(), request.app.state.clock(), request.app.state
    if not _REPLY_KEY.fullmatch(reply_key):
        raise HTTPException(status_code=422, detail="The form is out of date: open the case again.")
    latest = session.exec(
        select(Mention).where(Mention.case_id == case_id).order_by(col(Mention.id).desc())
    ).first()
    if latest is None:
        raise HTTPException(status_code=409, detail="This case has no post to answer.")
    final = csat.resolution_reply(state.config, state.secret_key, case, text, now) if resolve else text
    if problem := _reply_problem(state.config, case, text, final):
        return _page(request, session, employee, case, error=problem, text=text, status_code=422)
    try:
        lifecycle.queue_reply(
            session,
            case,
            final,
            now,
            employee_id=employee.id or 0,
            in_reply_to=latest.external_id,
            resolves=resolve,
            request_key=reply_key,
        )
        session.commit()
    except lifecycle.Refused as refused:
        return _page(request, session, employee, case, error=str(refused), text=text, status_code=409)
    except IntegrityError:  # the same form, sent twice at once: the other request queued it
        session.rollback()
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
