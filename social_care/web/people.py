"""People from the web: away and back (oneself, or a supervisor for their teams), the team page,
and a customer's opt-out and block, which supervisors set.

Someone away gets no new cases, and the hand-off's sweep returns their open ones
to their teams' queues; back, they are routed cases again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from social_care import audit
from social_care.config.models import Config
from social_care.routing import on_shift, open_loads
from social_care.scope import is_supervisor, team_names, visible_cases
from social_care.storage.tables import Author, Case, Employee, Team, TeamMember
from social_care.web.rendering import render
from social_care.web.security import (
    CsrfChecked,
    CurrentAgent,
    CurrentSupervisor,
    DatabaseSession,
    client_address,
)

router = APIRouter()


@dataclass(frozen=True)
class Member:
    employee: Employee
    teams: list[str]
    open_cases: int
    on_shift: bool


def _local_path(value: str, default: str) -> str:
    """A redirect target on this site only: "/cases/3", never "//evil.example" or "https://..."."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else default


@router.post("/me/availability", dependencies=[CsrfChecked])
def my_availability(
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    available: Annotated[bool, Form()] = False,
    next: Annotated[str, Form()] = "/queue",
) -> RedirectResponse:
    employee.available = available
    session.add(employee)
    session.commit()
    return RedirectResponse(_local_path(next, "/queue"), status_code=303)


def supervised(session: Session, config: Config, supervisor: Employee, now: datetime) -> list[Member]:
    """The people of the teams ``supervisor`` works in or runs (everyone, for an admin)."""
    teams = None if supervisor.role == "admin" else team_names(session, supervisor)
    statement = (
        select(Employee, Team.name)
        .join(TeamMember, col(TeamMember.employee_id) == col(Employee.id), isouter=True)
        .join(Team, col(Team.id) == col(TeamMember.team_id), isouter=True)
        .where(col(Employee.active))
        .order_by(col(Employee.name))
    )
    rows = session.exec(statement).all()
    config_people = {person.email: person for person in config.employees}
    loads = open_loads(session)
    members: dict[int, Member] = {}
    for person, team in rows:
        if teams is not None and team not in teams:
            continue
        member = members.get(person.id or 0)
        if member is None:
            configured = config_people.get(person.email)
            shift = configured is not None and on_shift(configured, now)
            member = members[person.id or 0] = Member(person, [], loads.get(person.id or 0, 0), shift)
        if team:
            member.teams.append(team)
    return list(members.values())


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, employee: CurrentSupervisor, session: DatabaseSession) -> HTMLResponse:
    state = request.app.state
    members = supervised(session, state.config, employee, state.clock())
    return render(request, "team.html", employee=employee, members=members)


@router.post("/people/{person_id}/availability", dependencies=[CsrfChecked])
def their_availability(
    request: Request,
    employee: CurrentSupervisor,
    session: DatabaseSession,
    person_id: int,
    available: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    state = request.app.state
    if person_id not in {
        member.employee.id for member in supervised(session, state.config, employee, state.clock())
    }:
        raise HTTPException(status_code=403, detail="You may set away or back only the people of your teams.")
    person = session.get_one(Employee, person_id)
    person.available = available
    session.add(person)
    session.commit()
    return RedirectResponse("/team", status_code=303)


@router.post("/authors/{author_id}/flags", dependencies=[CsrfChecked])
def author_flags(
    *,
    request: Request,
    employee: CurrentSupervisor,
    session: DatabaseSession,
    author_id: int,
    blocked: Annotated[bool, Form()] = False,
    opted_out: Annotated[bool, Form()] = False,
    next: Annotated[str, Form()] = "/queue",
) -> RedirectResponse:
    """Block a customer (no automatic reply ever) or record their opt-out, or undo either."""
    theirs = select(Case.id).where(Case.author_id == author_id, visible_cases(session, employee))
    author = session.get(Author, author_id)
    if author is None or not is_supervisor(employee) or session.exec(theirs).first() is None:
        raise HTTPException(status_code=404, detail="No such customer.")
    was = (author.blocked, author.opted_out_at is not None)
    author.blocked = blocked
    if opted_out != (author.opted_out_at is not None):
        author.opted_out_at = request.app.state.clock() if opted_out else None
    session.add(author)
    if was != (blocked, opted_out):
        audit.record(
            session,
            audit.AUTHOR_FLAGGED,
            at=request.app.state.clock(),
            actor=employee.email,
            employee_id=employee.id,
            subject=f"{author.platform} author #{author.id}",
            address=client_address(request),
            blocked=blocked,
            opted_out=opted_out,
        )
    session.commit()
    return RedirectResponse(_local_path(next, "/queue"), status_code=303)
