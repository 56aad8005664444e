"""Who has a case and what it is: taking it, handing it to a teammate, releasing it to the team's
queue, and correcting its triage, from the case page.

A person assigns a case only within its team, to someone who could take it now
(competent, authorised for the account, on shift, available); a correction may move
it to another team, where routing picks the assignee.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import State

from social_care import lifecycle
from social_care.case_states import CLOSED_STATES
from social_care.corrections import MAX_REASON_LENGTH, Triage, correct
from social_care.scope import may_see, may_take
from social_care.storage.tables import Case, Employee
from social_care.web.case_access import Stale, Unacceptable, acting_case
from social_care.web.case_page import Seen, refused_page
from social_care.web.case_view import teammates
from social_care.web.security import CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
Field = Annotated[str, Form()]


def _back(case_id: int) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def take_case(state: State, session: Session, employee: Employee, case: Case) -> None:
    """``employee`` takes ``case`` (one they may take, locked); refused while it is closed."""
    if case.status in CLOSED_STATES:
        raise lifecycle.Refused("Reopen the case before taking it.")
    state.handoff.assign_to(session, case, employee, by=employee, now=state.clock())


def assign_case(state: State, session: Session, employee: Employee, case: Case, assignee: int) -> None:
    """``employee`` gives ``case`` to ``assignee``, who must be of its team and able to take it now."""
    now = state.clock()
    if assignee not in {mate.id for mate in teammates(session, state.config, case, now)}:
        raise Unacceptable("Assign the case to someone of its team who can take it now.")
    state.handoff.assign_to(session, case, session.get_one(Employee, assignee), by=employee, now=now)


def release_case(state: State, session: Session, employee: Employee, case: Case) -> None:
    """Give the case back to its team's queue: someone else (never the releaser) takes it next."""
    if case.assignee_id is None:
        raise lifecycle.Refused("Nobody has this case.")
    lifecycle.release(session, case, state.clock(), by=employee.id, reason="")


def correct_case(
    state: State, session: Session, employee: Employee, case: Case, triage: Triage, *, reason: str
) -> None:
    """Correct the triage; :class:`Unacceptable` when ``triage`` is not one of this desk's, or no change."""
    try:
        correct(
            session,
            state.config,
            case,
            triage,
            employee=employee,
            at=state.clock(),
            handoff=state.handoff,
            reason=reason.strip()[:MAX_REASON_LENGTH],
        )
    except lifecycle.Refused as refused:
        raise Unacceptable(str(refused)) from None


@router.post("/cases/{case_id}/take", dependencies=[CsrfChecked], response_model=None)
def take(
    request: Request, employee: CurrentAgent, session: DatabaseSession, case_id: int, seen: Seen = 0
) -> Response:
    try:
        case = acting_case(request, session, employee, case_id, seen, allowed=may_take)
        take_case(request.app.state, session, employee, case)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    except lifecycle.Refused as refused:
        return refused_page(request, session, employee, case_id, error=str(refused))
    session.commit()
    return _back(case_id)


@router.post("/cases/{case_id}/assign", dependencies=[CsrfChecked], response_model=None)
def assign(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: Seen = 0,
    assignee: Annotated[int, Form()] = 0,
) -> Response:
    try:
        case = acting_case(request, session, employee, case_id, seen)
        assign_case(request.app.state, session, employee, case, assignee)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    except Unacceptable as problem:
        return refused_page(request, session, employee, case_id, error=str(problem), status_code=422)
    session.commit()
    return _back(case_id)


@router.post("/cases/{case_id}/release", dependencies=[CsrfChecked], response_model=None)
def release(
    request: Request, employee: CurrentAgent, session: DatabaseSession, case_id: int, seen: Seen = 0
) -> Response:
    """Give the case back to its team's queue: someone else (never the releaser) takes it next."""
    try:
        case = acting_case(request, session, employee, case_id, seen)
        release_case(request.app.state, session, employee, case)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    except lifecycle.Refused as refused:
        return refused_page(request, session, employee, case_id, error=str(refused))
    session.commit()
    return _back(case_id)


@router.post("/cases/{case_id}/correct", dependencies=[CsrfChecked], response_model=None)
def correct_triage(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: Seen = 0,
    category: Field = "",
    cluster: Field = "",
    priority: Field = "",
    product: Field = "",
    team: Field = "",
    reason: Field = "",
) -> Response:
    triage = Triage(category, cluster, priority, product, team)
    try:
        case = acting_case(request, session, employee, case_id, seen)
        correct_case(request.app.state, session, employee, case, triage, reason=reason)
    except Stale as stale:
        return refused_page(request, session, employee, case_id, stale=stale)
    except Unacceptable as problem:
        return refused_page(request, session, employee, case_id, error=str(problem), status_code=422)
    session.commit()
    if not may_see(session, employee, case_id):  # moved to a team the person is not in
        return RedirectResponse("/queue", status_code=303)
    return _back(case_id)
