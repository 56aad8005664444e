"""Who is asking, whether they may, and whether a form really came from our page.

Sessions are signed cookies (Starlette's ``SessionMiddleware``) holding only
the employee id and a CSRF token. Every state-changing request carries that
token in a hidden field; it is compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from sqlmodel import Session

from social_care.scope import ROLE_RANK
from social_care.storage.tables import Employee


class LoginRequired(Exception):
    """Raised for a page that needs a signed-in person; answered with a redirect to the login."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(expected), csrf):
        raise HTTPException(status_code=403, detail="The form expired or did not come from this site.")


def client_address(request: Request) -> str:
    """The client's address as the login throttle counts it and the audit log records it: the one a
    configured proxy names (``[service] trusted_proxies``), else the one that connected."""
    return request.client.host if request.client else ""


def database(request: Request):  # type: ignore[no-untyped-def]
    with Session(request.app.state.engine) as session:
        yield session


DatabaseSession = Annotated[Session, Depends(database)]


def current_employee(request: Request, session: DatabaseSession) -> Employee:
    employee_id = request.session.get("employee_id")
    employee = session.get(Employee, employee_id) if isinstance(employee_id, int) else None
    if employee is None or not employee.active or request.session.get("version") != employee.session_version:
        request.session.clear()
        raise LoginRequired()
    return employee


def signed_in(request: Request) -> Employee | None:
    """The person signed in, or None: for pages anyone may see, such as an error."""
    employee_id = request.session.get("employee_id") if "session" in request.scope else None
    if not isinstance(employee_id, int):
        return None
    with Session(request.app.state.engine) as session:
        employee = session.get(Employee, employee_id)
        if (
            employee is None
            or not employee.active
            or request.session.get("version") != employee.session_version
        ):
            return None
        session.expunge(employee)
        return employee


def requires(role: str):  # type: ignore[no-untyped-def]
    def check(employee: Annotated[Employee, Depends(current_employee)]) -> Employee:
        if ROLE_RANK.get(employee.role, -1) < ROLE_RANK[role]:
            raise HTTPException(status_code=403, detail="Your role does not allow this.")
        return employee

    return check


CurrentAgent = Annotated[Employee, Depends(requires("agent"))]
CurrentSupervisor = Annotated[Employee, Depends(requires("supervisor"))]
CurrentAdmin = Annotated[Employee, Depends(requires("admin"))]
CsrfChecked = Depends(check_csrf)
