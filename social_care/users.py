"""Sign-in credentials for the people in the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config.models import Config
from social_care.directory import sync_directory
from social_care.storage.tables import Employee
from social_care.web.passwords import generate_password, hash_password

MIN_PASSWORD_LENGTH = 10


class UnknownEmployee(LookupError):
    pass


def set_employee_password(config: Config, engine: Engine, email: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    with Session(engine) as session:
        sync_directory(session, config)
        employee = session.exec(select(Employee).where(Employee.email == email.strip().lower())).first()
        if employee is None or not employee.active:
            raise UnknownEmployee(f"No employee {email!r} in the configuration.")
        employee.password_hash = hash_password(password)
        employee.session_version += 1
        session.add(employee)
        session.commit()


def set_availability(config: Config, engine: Engine, email: str, *, available: bool) -> None:
    """Mark someone away (their open cases go back to the pool at the next sweep) or back."""
    with Session(engine) as session:
        sync_directory(session, config)
        employee = session.exec(select(Employee).where(Employee.email == email.strip().lower())).first()
        if employee is None or not employee.active:
            raise UnknownEmployee(f"No employee {email!r} in the configuration.")
        employee.available = available
        session.add(employee)
        session.commit()


@dataclass(frozen=True)
class FirstSignIn:
    """Whether anyone can sign in, and the first admin's password if it was generated just now."""

    admin: str  # the first admin in the configuration
    ready: bool  # someone could already sign in
    password: str | None = None  # generated now: to be shown once, on a terminal, never logged


def first_admin_password(config: Config, engine: Engine, *, generate: bool = True) -> FirstSignIn | None:
    """When nobody can sign in yet, give the first admin a generated password (with ``generate``).

    ``None`` when the configuration names no admin. A process that cannot show the
    password to a person (its output is not a terminal, or it serves no inbox) passes
    ``generate=False``: nobody is given a password, and the admin sets one.
    """
    admins = [person.email for person in config.employees if person.role == "admin"]
    if not admins:
        return None
    with Session(engine) as session:
        sync_directory(session, config, commit=False)  # under its lock until the password is set
        ready = session.exec(
            select(Employee).where(col(Employee.active), col(Employee.password_hash).is_not(None))
        ).first()
        if ready is not None or not generate:
            session.commit()
            return FirstSignIn(admins[0], ready=ready is not None)
        admin = session.exec(select(Employee).where(Employee.email == admins[0])).one()
        password = generate_password()
        admin.password_hash = hash_password(password)
        session.add(admin)
        session.commit()
    return FirstSignIn(admins[0], ready=False, password=password)
