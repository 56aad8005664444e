"""Reaching one case from a request: in the person's scope, allowed to act, and not changed under them.

Every case route goes through here, so the scope of :mod:`social_care.scope` is
applied the same way everywhere: a case outside it does not exist for the person
(404, never a hint that it does), one they may see but not act on is refused (403),
and an action sent from a page that no longer shows the case as it is raises
:class:`Stale` with what changed, for the page to show with the person's draft.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from social_care.case_changes import changes_since, locked_case
from social_care.config.models import Config
from social_care.scope import may_act, may_see
from social_care.storage.tables import Case, Employee
from social_care.web import case_view
from social_care.web.event_words import describe, names_of
from social_care.web.rendering import render


@dataclass
class Draft:
    """What the person had written, shown again when their action is refused."""

    reply: str = ""
    resolve: bool = False
    note: str = ""


@dataclass
class Stale(Exception):
    """The case changed since the page the action came from was shown."""

    changes: list[str] = field(default_factory=list)


class Unacceptable(Exception):
    """What the person asked cannot be done as asked (a reply too long, an assignee from another team):
    a 422, with why."""


def visible_case(session: Session, employee: Employee, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not may_see(session, employee, case_id):
        raise HTTPException(status_code=404, detail="No such case.")
    return case


def acting_case(
    request: Request,
    session: Session,
    employee: Employee,
    case_id: int,
    seen: int,
    *,
    allowed: Callable[[Config, Employee, Case], bool] = may_act,
) -> Case:
    """The case, locked, when ``employee`` may act on it (by ``allowed``) and nobody else changed it
    since ``seen``."""
    visible_case(session, employee, case_id)
    case = locked_case(session, case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="No such case.")
    check_fresh(session, employee, case, seen)  # first: a case handed on meanwhile says so, draft kept
    if not allowed(request.app.state.config, employee, case):
        raise HTTPException(status_code=403, detail="You may not act on this case.")
    return case


def check_fresh(session: Session, employee: Employee, case: Case, seen: int) -> None:
    changed = changes_since(session, case.id or 0, seen, employee_id=employee.id or 0)
    if changed:
        names = names_of(session)
        raise Stale([describe(event, names) for event in changed])


def case_page(
    request: Request,
    session: Session,
    employee: Employee,
    case: Case,
    *,
    error: str = "",
    changed: list[str] | None = None,
    draft: Draft | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The case page; after a refusal, with why, what changed and the person's draft, so nothing is lost."""
    state = request.app.state
    view = case_view.build(
        session, state.config, employee, case, now=state.clock(), secret_key=state.secret_key
    )
    return render(
        request,
        "case.html",
        status_code=status_code,
        employee=employee,
        view=view,
        case=case,
        zone=case_view.viewer_zone(state.config, employee),
        now=state.clock(),
        error=error,
        changed=changed or [],
        draft=draft or Draft(),
        reply_key=secrets.token_urlsafe(16),
        back_to=f"/cases/{case.id}",  # the page may sit at an action's address after a refusal
    )
