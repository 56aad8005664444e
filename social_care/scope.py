"""Which cases a person may see and act on: one place, used by every page, action and feed.

An admin sees every case. A supervisor sees the cases of the teams they belong to
or supervise, and the cases no rule routed (someone has to route them). An agent
sees the cases of their teams and those assigned to them. Seeing is not acting:
acting on a case also needs authority over the account it came in on, and an
agent acts only on a case assigned to them (taking an unassigned one of their
team first). The conditions are SQL, so a page never loads what it may not show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, literal_column, or_, true
from sqlmodel import Session, col, select

from social_care.config.models import Config
from social_care.storage.tables import Case, Employee, Team, TeamMember

ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}


def is_supervisor(employee: Employee) -> bool:
    """A supervisor or an admin: someone who may act for their teams."""
    return ROLE_RANK.get(employee.role, -1) >= ROLE_RANK["supervisor"]


def team_names(session: Session, employee: Employee) -> list[str]:
    """The teams ``employee`` works in or supervises, by name; asked once per session (a request)."""
    key = ("team_names", employee.id)
    if key in session.info:
        return list(session.info[key])
    member = select(TeamMember.team_id).where(TeamMember.employee_id == employee.id)
    statement = select(Team.name).where(or_(col(Team.id).in_(member), col(Team.supervisor_id) == employee.id))
    names = sorted(session.exec(statement).all())
    session.info[key] = tuple(names)
    return names


def unindexed(session: Session, name: str) -> ColumnElement[Any]:
    """A case's column that SQLite must not take for its way into the table (unary ``+``).

    Without statistics SQLite takes any equality or IN as the narrowest path: the scope's
    teams (every case of them, a year of history) instead of what a page is about (the few
    thousand open cases, or the last two weeks in ``last_activity_at`` order). PostgreSQL
    weighs them itself and gets the column as it is."""
    if session.get_bind().dialect.name == "sqlite":
        return literal_column(f"+cases.{name}")
    column: ColumnElement[Any] = getattr(Case, name)
    return column


def visible_cases(session: Session, employee: Employee) -> ColumnElement[bool]:
    """The condition on ``Case`` that keeps the cases ``employee`` may see."""
    if not employee.active:
        return false()
    if employee.role == "admin":
        return true()
    teams = team_names(session, employee)
    team = unindexed(session, "team")
    mine = or_(team.in_(teams), unindexed(session, "assignee_id") == employee.id)
    if is_supervisor(employee):
        return or_(mine, team.is_(None))
    return mine


def may_see(session: Session, employee: Employee, case_id: int) -> bool:
    found = select(Case.id).where(Case.id == case_id, visible_cases(session, employee))
    return session.exec(found).first() is not None


def authorised_accounts(config: Config, employee: Employee) -> frozenset[str]:
    """The sources ``employee`` may answer from, by the configuration."""
    person = next((item for item in config.employees if item.email == employee.email), None)
    return frozenset(person.accounts) if person is not None else frozenset()


def may_act(config: Config, employee: Employee, case: Case) -> bool:
    """Whether ``employee`` may reply to, correct, close or hand on ``case`` (which they can see)."""
    if case.source_id not in authorised_accounts(config, employee):
        return False
    return is_supervisor(employee) or case.assignee_id == employee.id


def may_take(config: Config, employee: Employee, case: Case) -> bool:
    """Whether ``employee`` may take ``case`` for themselves: nobody has it, or they supervise."""
    if case.source_id not in authorised_accounts(config, employee) or case.assignee_id == employee.id:
        return False
    return case.assignee_id is None or is_supervisor(employee)
