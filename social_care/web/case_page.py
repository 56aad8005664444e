"""One case: the page, and what a person writes on it (a reply, a note) or does to close or reopen it.

Replies leave through the outbox, so they are sent once; the reply that resolves
a case carries the satisfaction survey link. Every action comes with the id of
the latest change the page showed: one sent from a page that no longer shows the
case as it is (a new post, another person's reply) is refused with what changed,
and the person's draft is shown again.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.datastructures import State

from connectors.registry import connector_class
from social_care import csat, lifecycle
from social_care.config.models import Config
from social_care.sla.sweeper import refresh_clocks
from social_care.storage.tables import Case, Employee, Mention, OutboxEntry
from social_care.web.case_access import Draft, Stale, Unacceptable, acting_case, case_page, visible_case
from social_care.web.security import CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
MAX_REPLY_LENGTH = 2000
MAX_NOTE_LENGTH = 4000
MAX_REASON_LENGTH = 500
REPLY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

Seen = Annotated[int, Form()]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def show_case(
    request: Request, employee: CurrentAgent, session: DatabaseSession, case_id: int
) -> HTMLResponse:
    return case_page(request, session, employee, visible_case(session, employee, case_id))


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


def refused_page(
    request: Request,
    session: Session,
    employee: Employee,
    case_id: int,
    *,
    error: str = "",
    stale: Stale | None = None,
    draft: Draft | None = None,
    status_code: int = 409,
) -> HTMLResponse:
    """The page again after a refusal, read afresh: why, what changed, and the draft."""
    session.rollback()
    case = visible_case(session, employee, case_id)
    if stale is not None:
        error = (
            "This case changed while you were on it: nothing was done. Check what changed, then try again."
        )
    changed = stale.changes if stale else []
    return case_page(
        request, session, employee, case, error=error, changed=changed, draft=draft, status_code=status_code
    )


def queue_person_reply(
    state: State,
    session: Session,
    employee: Employee,
    case: Case,
    *,
    text: str,
    resolve: bool,
    reply_key: str,
) -> OutboxEntry | None:
    """Queue ``employee``'s reply to the latest post of ``case`` (a case they may act on, locked) and
    commit; once per ``reply_key``: the same form or request sent again finds the reply already queued.

    :class:`Unacceptable` when the reply cannot go out as written, :class:`lifecycle.Refused` when the
    case's state takes no such reply. None when a twin request queued it at the same moment.
    """
    now = state.clock()
    latest = session.exec(
        select(Mention).where(Mention.case_id == case.id).order_by(col(Mention.id).desc())
    ).first()
    if latest is None:
        raise HTTPException(status_code=409, detail="This case has no post to answer.")
    final = csat.resolution_reply(state.config, state.secret_key, case, text, now) if resolve else text
    if problem := _reply_problem(state.config, case, text, final):
        raise Unacceptable(problem)
    try:
        entry = lifecycle.queue_reply(
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
    except IntegrityError:  # the same form, sent twice at once: the other request queued it
        session.rollback()
        return None
    return entry


@router.post("/cases/{case_id}/reply", dependencies=[CsrfChecked], response_model=None)
def reply(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: Seen = 0,
    text: Annotated[str, Form()] = "",
    resolve: Annotated[bool, Form()] = False,
    reply_key: Annotated[str, Form()] = "",
) -> Response:
    """Queue the reply once per form: sending the same form again finds the reply already queued."""
    text = text.strip()
    draft = Draft(reply=text, resolve=resolve)
    if not REPLY_KEY.fullmatch(reply_key):
        raise HTTPException(status_code=422, detail="The form is out of date: open the case again.")
    try:
        case = acting_case(request, session, employee, case_id, seen)
        queue_person_reply(
            request.app.state, session, employee, case, text=text, resolve=resolve, reply_key=reply_key
        )
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale, draft=draft)
    except Unacceptable as problem:
        return refused_page(
            request, session, employee, case_id, error=str(problem), draft=draft, status_code=422
        )
    except lifecycle.Refused as refused:
        return refused_page(request, session, employee, case_id, error=str(refused), draft=draft)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def note_case(state: State, session: Session, employee: Employee, case: Case, text: str) -> None:
    """An internal note: anyone who sees the case may leave one, and it is never sent."""
    if not text or len(text) > MAX_NOTE_LENGTH:
        raise Unacceptable(f"A note needs 1 to {MAX_NOTE_LENGTH} characters.")
    lifecycle.add_note(session, case, state.clock(), employee_id=employee.id or 0, text=text)


@router.post("/cases/{case_id}/note", dependencies=[CsrfChecked], response_model=None)
def note(
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    text: Annotated[str, Form()] = "",
) -> Response:
    """An internal note: anyone who sees the case may leave one, and it is never sent."""
    text = text.strip()
    case = visible_case(session, employee, case_id)
    try:
        note_case(request.app.state, session, employee, case, text)
    except Unacceptable as problem:
        return refused_page(
            request, session, employee, case_id, error=str(problem), draft=Draft(note=text), status_code=422
        )
    session.commit()
    return RedirectResponse(f"/cases/{case_id}#timeline", status_code=303)


@router.post("/cases/{case_id}/dismiss", dependencies=[CsrfChecked], response_model=None)
def dismiss(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: Seen = 0,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Mark the case spam or ignored; the page then offers to undo it."""
    if reason not in lifecycle.DISMISSALS:
        raise HTTPException(status_code=422, detail="A case is dismissed as spam or ignored.")
    try:
        case = acting_case(request, session, employee, case_id, seen)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    lifecycle.dismiss(session, case, reason, request.app.state.clock(), employee_id=employee.id or 0)
    session.commit()
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def reopen_case(state: State, session: Session, employee: Employee, case: Case, *, reason: str) -> None:
    """Open a resolved, spam or ignored case again, its clocks computed afresh; undoing a dismissal is
    reopening it. :class:`lifecycle.Refused` when it is open."""
    reason = reason.strip()[:MAX_REASON_LENGTH]
    lifecycle.reopen(session, case, state.clock(), employee_id=employee.id or 0, reason=reason)
    refresh_clocks(session, state.config, case)


@router.post("/cases/{case_id}/reopen", dependencies=[CsrfChecked], response_model=None)
def reopen(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: Seen = 0,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Open a resolved, spam or ignored case again: undoing a dismissal is reopening it."""
    try:
        case = acting_case(request, session, employee, case_id, seen)
        reopen_case(request.app.state, session, employee, case, reason=reason)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    except lifecycle.Refused as refused:
        return refused_page(request, session, employee, case_id, error=str(refused))
    session.commit()
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
