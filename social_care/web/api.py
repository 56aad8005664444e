"""The JSON API: the queue's views and the case actions, for scripts and other tools, as the person
whose token it is.

It is an application of its own, mounted at ``/api``, so that it has its own OpenAPI
description (``/api/openapi.json``; no documentation page, which would load scripts
from elsewhere) and answers in JSON, refusals included. It shares the inbox's state
(configuration, database, clock, hand-off) and goes through the very functions the
pages do, so the rules are the same: the person's scope (:mod:`social_care.scope`),
404 for a case outside it, 403 for one they may see but not act on, 409 with what
changed when the case moved on since the client's ``seen``, 422 for what cannot be
done as asked.

Only ``Authorization: Bearer <token>`` opens it (:mod:`social_care.api_tokens`). The
inbox's session cookie does not, so a page elsewhere cannot make a signed-in browser
act through the API, and the API needs no CSRF token.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.datastructures import State

from social_care import api_tokens, lifecycle
from social_care.case_changes import latest_change
from social_care.corrections import Triage
from social_care.queue_views import QueueQuery, checked, counts, decode_cursor, fetch_page, views_for
from social_care.scope import may_see, may_take
from social_care.storage.tables import Case, Employee, OutboxEntry
from social_care.web import case_view
from social_care.web.api_models import (
    ActionOut,
    AssignIn,
    BulkIn,
    BulkOut,
    CaseDetailOut,
    CaseOut,
    CorrectIn,
    DismissIn,
    ErrorOut,
    MessageOut,
    NoteIn,
    QueueOut,
    QueueParams,
    QueueRowOut,
    ReopenIn,
    ReplyIn,
    SeenOnly,
    StaleOut,
    ViewOut,
)
from social_care.web.case_access import Stale, Unacceptable, acting_case, visible_case
from social_care.web.case_handling import assign_case, correct_case, release_case, take_case
from social_care.web.case_page import note_case, queue_person_reply, reopen_case
from social_care.web.queue import default_view
from social_care.web.queue_bulk import bulk_action, run_bulk
from social_care.web.security import DatabaseSession

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A person's API token: `social-care token create EMAIL --name NAME` prints it once.",
)
_UNAUTHORISED = "A valid API token is needed: Authorization: Bearer <token>."


def token_holder(
    request: Request,
    session: DatabaseSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Employee:
    """The person the request's bearer token belongs to; 401 alike for none, unknown, revoked or a
    holder who left, so a caller learns nothing about which."""
    now = request.app.state.clock()
    employee = api_tokens.holder(session, credentials.credentials, now) if credentials else None
    if employee is None:
        raise HTTPException(status_code=401, detail=_UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"})
    return employee


TokenHolder = Annotated[Employee, Depends(token_holder)]
_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid token"},
    422: {"model": ErrorOut, "description": "Not a request this can do, and why"},
}
_SEEING = _ANSWERS | {404: {"model": ErrorOut, "description": "No such case in your scope"}}
_ACTING = _SEEING | {
    403: {"model": ErrorOut, "description": "You may see the case but not do this to it"},
    409: {
        "model": StaleOut,
        "description": "The case changed since `seen` (what changed is listed), or its state refuses this",
    },
}
router = APIRouter(prefix="/v1", responses=_ANSWERS)


def create_api(state: State) -> FastAPI:
    """The API, sharing ``state`` (the inbox's) so both serve one desk the same way."""
    api = FastAPI(
        title="social-care API",
        version="1",
        summary="The care desk's queue and case actions, as the person whose token it is.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state = state
    api.include_router(router)
    api.add_exception_handler(Stale, _stale)
    api.add_exception_handler(lifecycle.Refused, _refused)
    api.add_exception_handler(Unacceptable, _unacceptable)
    api.add_exception_handler(RequestValidationError, _invalid)
    return api


async def _stale(_request: Request, error: Exception) -> JSONResponse:
    changes = error.changes if isinstance(error, Stale) else []
    detail = (
        "The case changed since the change you saw: nothing was done. Check what changed, then try again."
    )
    return JSONResponse({"detail": detail, "changes": changes}, status_code=409)


async def _refused(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error), "changes": []}, status_code=409)


async def _unacceptable(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=422)


async def _invalid(_request: Request, error: Exception) -> JSONResponse:
    """One readable line (``text: String should have at least 1 character``), never an echo of the input."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    words = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or problem['loc'][0]}: {problem['msg']}"
        for problem in problems
    )
    return JSONResponse({"detail": words or "Not a valid request."}, status_code=422)


# -- the queue -------------------------------------------------------------------------------------


@router.get("/queue")
def queue(
    request: Request, employee: TokenHolder, session: DatabaseSession, params: Annotated[QueueParams, Query()]
) -> QueueOut:
    """One page of a view of the queue, filtered and searched, with every view's count.

    A filter that is not this desk's (or a view that is not the person's) is refused
    rather than dropped: a script acting on what it lists must not get more than it asked.
    """
    state = request.app.state
    asked = QueueQuery.from_params(params.model_dump() | {"view": params.view or default_view(employee)})
    query, _ = checked(state.config, employee, asked)
    dropped = [
        f"{item.name} {getattr(asked, item.name)!r}"
        for item in fields(QueueQuery)
        if getattr(asked, item.name) != getattr(query, item.name)
    ]
    if dropped or (query.after and decode_cursor(query.after) is None):
        raise Unacceptable(f"Not one of this desk's, or not yours: {', '.join(dropped) or 'after'}.")
    now = state.clock()
    page = fetch_page(session, employee, query, now=now, zone=case_view.viewer_zone(state.config, employee))
    sizes = counts(session, employee, now=now)
    return QueueOut(
        view=query.view,
        order=query.order,
        views=[ViewOut.of(view, sizes[view.name]) for view in views_for(employee)],
        rows=[QueueRowOut.of(row) for row in page.rows],
        next=page.next_cursor,
    )


# -- one case --------------------------------------------------------------------------------------


@router.get("/cases/{case_id}", responses=_SEEING)
def show_case(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int
) -> CaseDetailOut:
    """The case as its page shows it: the conversation, notes and events, deadlines, what you may do."""
    state = request.app.state
    case = visible_case(session, employee, case_id)
    view = case_view.build(
        session, state.config, employee, case, now=state.clock(), secret_key=state.secret_key
    )
    return CaseDetailOut.of(view)


def _acted(session: Session, employee: Employee, case_id: int, reply: OutboxEntry | None = None) -> ActionOut:
    """Commit, and answer with the case as it is now (None when the person no longer sees it)."""
    session.commit()
    case = session.get(Case, case_id) if may_see(session, employee, case_id) else None
    assignee = session.get(Employee, case.assignee_id) if case and case.assignee_id else None
    return ActionOut(
        case=CaseOut.of(case, assignee.name if assignee else "") if case else None,
        seen=latest_change(session, case_id),
        reply=MessageOut(id=reply.id or 0, state=reply.state) if reply else None,
    )


@router.post("/cases/{case_id}/reply", responses=_ACTING)
def reply(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: ReplyIn
) -> ActionOut:
    """Queue a reply to the customer's latest post, once per `request_key`: the same request sent
    again (a retry after a timeout) finds the reply already queued."""
    case = acting_case(request, session, employee, case_id, body.seen)
    entry = queue_person_reply(
        request.app.state,
        session,
        employee,
        case,
        text=body.text,
        resolve=body.resolve,
        reply_key=body.request_key,
    )
    return _acted(session, employee, case_id, reply=entry)


@router.post("/cases/{case_id}/note", responses=_SEEING)
def note(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: NoteIn
) -> ActionOut:
    """An internal note, never sent: anyone who sees the case may leave one."""
    case = visible_case(session, employee, case_id)
    note_case(request.app.state, session, employee, case, body.text)
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/take", responses=_ACTING)
def take(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: SeenOnly
) -> ActionOut:
    """Take the case: an unassigned one of your team, or anyone's for a supervisor."""
    case = acting_case(request, session, employee, case_id, body.seen, allowed=may_take)
    take_case(request.app.state, session, employee, case)
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/assign", responses=_ACTING)
def assign(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: AssignIn
) -> ActionOut:
    """Give the case to someone of its team who can take it now (the case's `teammates`)."""
    case = acting_case(request, session, employee, case_id, body.seen)
    assign_case(request.app.state, session, employee, case, body.assignee)
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/release", responses=_ACTING)
def release(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: SeenOnly
) -> ActionOut:
    """Give the case back to its team's queue; someone else takes it next."""
    case = acting_case(request, session, employee, case_id, body.seen)
    release_case(request.app.state, session, employee, case)
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/correct", responses=_ACTING)
def correct(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: CorrectIn
) -> ActionOut:
    """Correct the triage (what is left out stays); a move to another team routes the case there."""
    case = acting_case(request, session, employee, case_id, body.seen)
    given = body.model_dump(include={item.name for item in fields(Triage)}, exclude_none=True)
    correct_case(
        request.app.state, session, employee, case, replace(Triage.of(case), **given), reason=body.reason
    )
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/dismiss", responses=_ACTING)
def dismiss(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: DismissIn
) -> ActionOut:
    """Mark the case spam or ignored: no clock runs on it and no automatic reply goes to it."""
    case = acting_case(request, session, employee, case_id, body.seen)
    lifecycle.dismiss(session, case, body.reason, request.app.state.clock(), employee_id=employee.id or 0)
    return _acted(session, employee, case_id)


@router.post("/cases/{case_id}/reopen", responses=_ACTING)
def reopen(
    request: Request, employee: TokenHolder, session: DatabaseSession, case_id: int, body: ReopenIn
) -> ActionOut:
    """Open a resolved, spam or ignored case again (undoing a dismissal is reopening it)."""
    case = acting_case(request, session, employee, case_id, body.seen)
    reopen_case(request.app.state, session, employee, case, reason=body.reason)
    return _acted(session, employee, case_id)


# -- many cases ------------------------------------------------------------------------------------


@router.post("/bulk")
def bulk(request: Request, employee: TokenHolder, session: DatabaseSession, body: BulkIn) -> BulkOut:
    """Do one action to many cases, each on its own as from its page; what could not be done is listed
    with why, the rest goes through."""
    act, allowed, _ = bulk_action(request, employee, body.action, body.value)
    selected = list({item.id: item.seen for item in body.cases}.items())
    outcome = run_bulk(request, session, employee, selected, act=act, allowed=allowed)
    return BulkOut.of(outcome, {case_id: latest_change(session, case_id) for case_id in outcome.done})
