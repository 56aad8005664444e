"""The web application: login, logout, the queue of cases and the public satisfaction survey.

Signing in, being refused and signing out are written to the audit log with the client's address.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from responders.handoff import HandOff
from social_care import audit
from social_care.clock import Clock, system_clock
from social_care.config.models import Config
from social_care.mail import MailTemplates
from social_care.resources import bundled
from social_care.storage.tables import Employee
from social_care.web import (
    audit_log,
    case_handling,
    case_page,
    csat,
    dashboard,
    digests,
    live,
    people,
    person_requests,
    queue,
    queue_bulk,
)
from social_care.web.api import create_api
from social_care.web.passwords import verify_password
from social_care.web.rendering import render
from social_care.web.security import (
    CsrfChecked,
    CurrentAgent,
    DatabaseSession,
    LoginRequired,
    client_address,
    signed_in,
)
from social_care.web.throttle import Attempt, LoginThrottle

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
MAX_TYPED_EMAIL = 200  # of a refused sign-in's email, kept as typed in the audit log
# What a refused sign-in's email must look like to be kept: a password typed in the wrong field is not.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")
NOT_AN_EMAIL = "(not an e-mail address)"
# Served over https, browsers are told to come back only over https, for a year (no subdomains: the
# company's other hosts are not ours to decide for).
_HSTS = {"Strict-Transport-Security": "max-age=31536000"}


def create_app(
    config: Config,
    engine: Engine,
    *,
    secret_key: str,
    templates_dir: Path | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    app = FastAPI(title="social-care", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.engine = engine
    app.state.secret_key = secret_key
    app.state.clock = clock
    app.state.login_throttle = LoginThrottle()
    app.state.handoff = HandOff(config, MailTemplates(bundled("templates") / "mail"))
    folder = templates_dir or bundled("templates") / "web"
    app.mount("/static", StaticFiles(directory=folder / "static"), name="static")
    environment = Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        undefined=StrictUndefined,
    )
    app.state.templates = Jinja2Templates(env=environment)
    https = config.service.public_url.startswith("https://")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="social_care_session",
        same_site="lax",
        https_only=https,
        max_age=12 * 3600,
    )

    if config.service.trusted_proxies:  # from here on, a proxy's request has its client's address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.service.trusted_proxies))

    headers_sent = {**_SECURITY_HEADERS, **(_HSTS if https else {})}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in headers_sent.items():  # a page may set a stricter policy
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def as_page(request: Request, error: StarletteHTTPException) -> Response:
        """A refusal is a page, not JSON: people, and customers on the survey page, read it."""
        page = _error_page(request, error.status_code, str(error.detail))
        page.headers.update(error.headers or {})
        return page

    @app.exception_handler(RequestValidationError)
    async def invalid_as_page(request: Request, _error: RequestValidationError) -> Response:
        """A mangled address or form (``/cases/abc``) gets the same page, never the raw details."""
        return _error_page(request, 422, "This address or form is not valid: open it again from the queue.")

    _add_login_routes(app)
    app.include_router(queue.router)
    app.include_router(queue_bulk.router)
    app.include_router(case_page.router)
    app.include_router(case_handling.router)
    app.include_router(live.router)
    app.include_router(people.router)
    app.include_router(csat.router)
    app.include_router(digests.router)
    app.include_router(dashboard.router)
    app.include_router(audit_log.router)
    app.include_router(person_requests.router)
    app.mount("/api", create_api(app.state))
    return app


def _error_page(request: Request, status: int, detail: str) -> Response:
    """The refusal in the inbox's frame: a signed-in person keeps the header and their way back."""
    survey = request.url.path.startswith("/csat/")
    employee = None if survey else signed_in(request)
    return render(
        request,
        "error.html",
        status_code=status,
        status=status,
        detail=detail,
        survey=survey,
        employee=employee,
    )


def _add_login_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home(_employee: CurrentAgent) -> RedirectResponse:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return render(request, "login.html", error="")

    @app.post("/login", response_class=HTMLResponse, dependencies=[CsrfChecked])
    def login(
        request: Request,
        session: DatabaseSession,
        email: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        email, now = email.strip().lower(), request.app.state.clock()
        attempt = Attempt(email, client_address(request))
        throttle: LoginThrottle = request.app.state.login_throttle
        if until := throttle.blocked_until(attempt, now):
            _refused(session, attempt, now, "throttled")
            wait = f"Too many wrong passwords: try again in {_minutes(until - now)} minutes."
            return render(request, "login.html", status_code=429, error=wait)
        found = session.exec(select(Employee).where(Employee.email == email)).first()
        employee = found if found is not None and found.active else None
        if not verify_password(password, employee.password_hash if employee else None) or employee is None:
            throttle.failed(attempt, now)
            _refused(session, attempt, now, "wrong email or password")
            return render(request, "login.html", status_code=401, error="Wrong email or password.")
        throttle.succeeded(attempt)
        _record(session, audit.SIGNED_IN, employee, request, now)
        session.commit()
        request.session.clear()
        request.session["employee_id"] = employee.id
        request.session["version"] = employee.session_version
        return RedirectResponse("/queue", status_code=303)

    @app.post("/logout", dependencies=[CsrfChecked])
    def logout(request: Request, session: DatabaseSession) -> RedirectResponse:
        """End this session and every copy of it: sessions are signed cookies, so the
        employee's session version moves on and older cookies stop working."""
        employee_id = request.session.get("employee_id")
        employee = session.get(Employee, employee_id) if isinstance(employee_id, int) else None
        if employee is not None:
            employee.session_version += 1
            session.add(employee)
            _record(session, audit.SIGNED_OUT, employee, request, request.app.state.clock())
            session.commit()
        request.session.clear()
        return RedirectResponse("/login", status_code=303)


def _record(session: Session, kind: str, employee: Employee, request: Request, now: datetime) -> None:
    audit.record(
        session, kind, at=now, actor=employee.email, employee_id=employee.id, address=client_address(request)
    )


def _refused(session: Session, attempt: Attempt, now: datetime, reason: str) -> None:
    """A refused sign-in in the audit log, committed at once: the refusal is the whole action.

    The email is as typed (cut to a length a page can show), since there may be no such person."""
    audit.record(
        session,
        audit.SIGN_IN_REFUSED,
        at=now,
        actor=attempt.account[:MAX_TYPED_EMAIL] if EMAIL_SHAPE.fullmatch(attempt.account) else NOT_AN_EMAIL,
        address=attempt.address,
        reason=reason,
    )
    session.commit()


def _minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))
