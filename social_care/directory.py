"""Bring the configured teams and employees into the database.

The configuration is the truth for who exists, their role and capacity; the
database keeps what changes while the service runs (availability, passwords)
and gives events and assignments rows to point at. People removed from the
configuration are deactivated, never deleted, so the audit trail keeps them.
"""

from __future__ import annotations

from sqlmodel import Session, delete, select

from social_care.config.models import Config
from social_care.storage import locks
from social_care.storage.tables import Employee, Team, TeamMember, saved_id


def sync_directory(session: Session, config: Config, *, commit: bool = True) -> None:
    """Write the configured people and teams; processes starting together take turns."""
    locks.hold(session, locks.DIRECTORY)
    people = _sync_employees(session, config)
    teams = _sync_teams(session, config, people)
    session.exec(delete(TeamMember))  # type: ignore[call-overload]
    for person in config.employees:
        for team in person.teams:
            session.add(TeamMember(team_id=saved_id(teams[team]), employee_id=saved_id(people[person.email])))
    if commit:
        session.commit()
    else:
        session.flush()


def _sync_employees(session: Session, config: Config) -> dict[str, Employee]:
    rows = {row.email: row for row in session.exec(select(Employee))}
    configured = {person.email for person in config.employees}
    for email, row in rows.items():
        row.active = email in configured
        session.add(row)
    for person in config.employees:
        row = rows.get(person.email) or Employee(
            email=person.email, name=person.name, available=person.available
        )
        row.name, row.role, row.capacity, row.active = person.name, person.role, person.capacity, True
        session.add(row)
        rows[person.email] = row
    session.flush()
    return rows


def _sync_teams(session: Session, config: Config, people: dict[str, Employee]) -> dict[str, Team]:
    rows = {row.name: row for row in session.exec(select(Team))}
    for team in config.teams:
        row = rows.get(team.name) or Team(name=team.name)
        row.strategy = team.strategy
        row.supervisor_id = people[team.supervisor].id if team.supervisor else None
        session.add(row)
        rows[team.name] = row
    session.flush()
    return rows
