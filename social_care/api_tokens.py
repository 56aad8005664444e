"""Per-person API tokens: made at the command line, shown once, kept only as a hash.

A token acts as the person it was made for, with exactly their scope
(:mod:`social_care.scope`): it opens nothing the inbox would not show them. The
secret is ``sc_`` and 43 random URL-safe characters; the database keeps its
SHA-256, so a copy of the table opens nothing, and a token is found by looking its
hash up (a hash lookup leaks no timing worth having, unlike comparing secrets). A
token stops working when it is revoked, or when its holder leaves the configuration
(their row turns inactive at the next start). Making and revoking one are in the
audit log, by number and holder.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care import audit
from social_care.config.models import Config
from social_care.directory import sync_directory
from social_care.storage.tables import ApiToken, Employee
from social_care.users import UnknownEmployee

PREFIX = "sc_"
MAX_NAME_LENGTH = 100
_MAX_SECRET_LENGTH = 200  # ours are 46 characters: anything far longer is not worth hashing
# How precisely "last used" is kept: a client calling every second writes it once a minute.
LAST_USED_PRECISION = timedelta(minutes=1)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    """What the table keeps of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, employee: Employee, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``employee`` named ``name`` (what it is for), and its secret, which is not
    kept: the caller shows it once."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A token needs a name of 1 to {MAX_NAME_LENGTH} characters (what it is for).")
    secret = new_secret()
    token = ApiToken(employee_id=employee.id or 0, name=name, token_hash=token_hash(secret), created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def holder(session: Session, secret: str, now: datetime) -> Employee | None:
    """The active person ``secret`` belongs to, or None: unknown, revoked and deactivated alike, so
    a caller cannot tell which.

    The token's ``last_used_at`` is kept to the minute, committed at once.
    """
    if not secret.startswith(PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    found = session.exec(
        select(ApiToken, Employee)
        .join(Employee, col(Employee.id) == col(ApiToken.employee_id))
        .where(
            ApiToken.token_hash == token_hash(secret),
            col(ApiToken.revoked_at).is_(None),
            col(Employee.active),
        )
    ).first()
    if found is None:
        return None
    token, employee = found
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return employee


# -- for the command line --------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    token: ApiToken
    email: str
    active: bool  # the holder is still in the configuration

    @property
    def state(self) -> str:
        if self.token.revoked_at is not None:
            return f"revoked {self.token.revoked_at:%Y-%m-%d %H:%M} UTC"
        return "works" if self.active else "stopped: its holder is no longer in the configuration"


def create_token(
    config: Config, engine: Engine, email: str, name: str, now: datetime, *, by: str
) -> tuple[ApiToken, str]:
    """A new token for the person ``email`` of the configuration, and its secret (shown once);
    the audit log says ``by`` made it."""
    with Session(engine) as session:
        sync_directory(session, config)
        employee = session.exec(select(Employee).where(Employee.email == email.strip().lower())).first()
        if employee is None or not employee.active:
            raise UnknownEmployee(f"No employee {email!r} in the configuration.")
        token, secret = issue(session, employee, name, now)
        audit.record(
            session, audit.TOKEN_CREATED, at=now, actor=by, subject=_named(token, employee.email), name=name
        )
        session.commit()
        session.refresh(token)
        return token, secret


def list_tokens(engine: Engine, email: str = "") -> list[Listed]:
    """Every token (``email``'s only, when given), oldest first; never a secret."""
    statement = (
        select(ApiToken, Employee.email, Employee.active)
        .join(Employee, col(Employee.id) == col(ApiToken.employee_id))
        .order_by(col(ApiToken.id))
    )
    if email:
        statement = statement.where(Employee.email == email.strip().lower())
    with Session(engine) as session:
        return [
            Listed(token, holder_email, active) for token, holder_email, active in session.exec(statement)
        ]


def revoke_token(engine: Engine, token_id: int, now: datetime, *, by: str) -> ApiToken | None:
    """Revoke token ``token_id`` from now on (revoking it again keeps the first time, and the audit
    log its first revocation, by ``by``); None if no such token."""
    with Session(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            return None
        if token.revoked_at is None:
            token.revoked_at = now
            session.add(token)
            email = session.get_one(Employee, token.employee_id).email
            audit.record(
                session, audit.TOKEN_REVOKED, at=now, actor=by, subject=_named(token, email), name=token.name
            )
            session.commit()
            session.refresh(token)
        return token


def _named(token: ApiToken, email: str) -> str:
    """A token as the audit log names it: its number and holder, never its secret."""
    return f"token #{token.id} of {email}"
