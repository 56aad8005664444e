"""Every route of the app, and of the API mounted in it, has a stated rule, and keeps to it for everyone.

The routes come from the app itself, so a new route without a rule in :data:`RULES`
fails here. Each route is then asked by a stranger, an agent of another team, an
agent of the case's team, a supervisor and an admin, with a valid CSRF token (so
what answers is the authorisation, not the form check): a stranger is sent to the
login (the API answers 401), an agent gets 403 on a supervisor's route, a case of
another team does not exist for them (404), and whoever the rule allows gets past
it (no 401, 403, 404, nor the login).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.routing import BaseRoute, Mount

from social_care import api_tokens, csat
from social_care.case_changes import latest_change
from social_care.config import Config
from social_care.storage.tables import Case, DigestRun, MailEntry
from social_care.users import set_employee_password
from social_care.web import live, queue
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, csrf_of, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it: the team of every case tried here
SARA = "sara.greco@velora.example"  # agent, care-it and care-en: whom cases are assigned to
PAOLA = "paola.ricci@velora.example"  # agent, payments: outside the cases' team
CHIARA = "chiara.conti@velora.example"  # supervisor of every team
ADMIN = "admin@velora.example"
SECRET_KEY = "authorisation-test-secret"

Who = Literal["public", "agent", "supervisor", "admin", "api-token"]
CaseKind = Literal["", "mine", "unassigned", "closed"]


@dataclass(frozen=True)
class Rule:
    """Who may use a route; a case-scoped route is tried on a fresh case of care-it: Luca's
    ("mine"), nobody's ("unassigned", to be taken) or Luca's and resolved ("closed", to be reopened)."""

    who: Who
    case: CaseKind = ""


RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/static/{path}"): Rule("public"),
    ("GET", "/"): Rule("agent"),
    ("GET", "/login"): Rule("public"),
    ("POST", "/login"): Rule("public"),
    ("POST", "/logout"): Rule("public"),  # signing out needs no session: it ends whatever there is
    ("GET", "/queue"): Rule("agent"),
    ("GET", "/queue/live"): Rule("agent"),
    ("POST", "/queue/bulk"): Rule("agent"),  # each case is checked on its own, refusals listed
    ("GET", "/cases/{case_id}"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/reply"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/note"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/dismiss"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/reopen"): Rule("agent", "closed"),
    ("POST", "/cases/{case_id}/take"): Rule("agent", "unassigned"),
    ("POST", "/cases/{case_id}/assign"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/release"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/correct"): Rule("agent", "mine"),
    ("POST", "/cases/{case_id}/presence"): Rule("agent", "mine"),
    ("GET", "/cases/{case_id}/live"): Rule("agent", "mine"),
    ("POST", "/me/availability"): Rule("agent"),
    ("GET", "/team"): Rule("supervisor"),
    ("POST", "/people/{person_id}/availability"): Rule("supervisor"),
    ("POST", "/authors/{author_id}/flags"): Rule("supervisor"),
    ("GET", "/csat/{token}"): Rule("public"),
    ("POST", "/csat/{token}"): Rule("public"),
    ("GET", "/digests"): Rule("supervisor"),
    ("GET", "/digests/{run_id}"): Rule("supervisor"),
    ("GET", "/digests/{run_id}/mail"): Rule("supervisor"),
    ("GET", "/dashboard"): Rule("supervisor"),
    ("GET", "/audit"): Rule("admin"),
    ("GET", "/personal-data"): Rule("admin"),
    ("POST", "/personal-data/export"): Rule("admin"),
    ("POST", "/personal-data/forget"): Rule("admin"),
    ("GET", "/api/openapi.json"): Rule("public"),
    ("GET", "/api/v1/queue"): Rule("api-token"),
    ("POST", "/api/v1/bulk"): Rule("api-token"),
    ("GET", "/api/v1/cases/{case_id}"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/reply"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/note"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/take"): Rule("api-token", "unassigned"),
    ("POST", "/api/v1/cases/{case_id}/assign"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/release"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/correct"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/dismiss"): Rule("api-token", "mine"),
    ("POST", "/api/v1/cases/{case_id}/reopen"): Rule("api-token", "closed"),
}

Role = Literal["anonymous", "agent of another team", "agent of the team", "supervisor", "admin"]
ROLES: dict[Role, str] = {
    "anonymous": "",
    "agent of another team": PAOLA,
    "agent of the team": LUCA,
    "supervisor": CHIARA,
    "admin": ADMIN,
}
RANK = {"agent": 0, "supervisor": 1, "admin": 2}
ROLE_RANK: dict[Role, int] = {"agent of another team": 0, "agent of the team": 0, "supervisor": 1, "admin": 2}
ALLOWED = "allowed"
LOGIN = "the login"


def expected(rule: Rule, role: Role) -> int | str:
    """What ``role`` gets from a route under ``rule``: a status, the login, or past the check."""
    if rule.who == "public":
        return ALLOWED
    if role == "anonymous":
        return 401 if rule.who == "api-token" else LOGIN
    needed = RANK.get(rule.who, 0)  # an API token opens what its holder's role does
    if ROLE_RANK[role] < needed:
        return 403
    if rule.case and role == "agent of another team":
        return 404
    return ALLOWED


# -- the routes, from the app --------------------------------------------------------------------


def every_route(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers and mounted applications."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, Mount):
            inside = route.routes
            yield from (
                every_route(inside, prefix + route.path)
                if inside
                else [("GET", f"{prefix}{route.path}/{{path}}")]
            )
            continue
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, prefix + str(context.path)


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """Signing out last: it ends every session of the person, so nothing after it would be theirs."""
    return sorted(dict.fromkeys(every_route(app.routes)), key=lambda route: route == ("POST", "/logout"))


def test_every_route_has_a_rule_and_every_rule_a_route(config: Config, engine: Engine) -> None:
    routes = set(routes_of(create_app(config, engine, secret_key=SECRET_KEY)))
    assert sorted(routes - set(RULES)) == [], "routes without a rule: add them to RULES"
    assert sorted(set(RULES) - routes) == [], "rules of routes that are gone"


# -- the desk the routes are tried on ------------------------------------------------------------


class Trial:
    """One app, one desk, and a signed-in client (or a token) for every role."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.app = create_app(desk.config, desk.engine, secret_key=SECRET_KEY, clock=desk.clock)
        self.cookies: dict[Role, httpx.Cookies] = {}
        self.csrf: dict[Role, str] = {}
        self.tokens: dict[Role, str] = {}
        for role, email in ROLES.items():
            client = TestClient(self.app)
            if email:
                set_employee_password(desk.config, desk.engine, email, DEMO_PASSWORD)
                log_in(client, email)
                _, self.tokens[role] = api_tokens.create_token(
                    desk.config, desk.engine, email, "authorisation test", desk.clock.now, by=ADMIN
                )
            self.csrf[role] = csrf_of(client.get("/login").text)
            self.cookies[role] = client.cookies
        self.sequence = itertools.count()
        self.author_id = self.desk.case(self.case("mine")).author_id
        self.digest_id = self._digest()

    def case(self, kind: CaseKind) -> int:
        """A fresh care-it case: Luca's, nobody's, or Luca's and resolved."""
        case_id = self.desk.post(handle=f"customer{next(self.sequence)}", language="it", text="Il Pulse?")
        if kind == "unassigned":
            with Session(self.desk.engine) as session:
                case = session.get_one(Case, case_id)
                case.team = "care-it"
                session.add(case)
                session.commit()
        else:
            self.desk.assign(case_id, "care-it", LUCA)
        if kind == "closed":
            self.desk.resolve(case_id, LUCA)
        return case_id

    def _digest(self) -> int:
        now = self.desk.clock.now
        with Session(self.desk.engine) as session:
            mail = MailEntry(
                idempotency_key="digest:authorisation",
                purpose="digest",
                recipients=[CHIARA],
                subject="Velora yesterday",
                text="Quiet.",
                html="<p>Quiet.</p>",
                created_at=now,
                next_attempt_at=now,
            )
            session.add(mail)
            session.flush()
            run = DigestRun(
                recipient=CHIARA,
                day=now.date(),
                state="queued",
                made_at=now,
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                mail_id=mail.id,
            )
            session.add(run)
            session.commit()
            return run.id or 0

    def ask(self, role: Role, method: str, path: str, case_id: int) -> httpx.Response:
        """``role`` sends what the route expects, its latest change and CSRF token included."""
        values = {
            "case_id": case_id,
            "person_id": self.desk.employee(SARA),
            "author_id": self.author_id,
            "run_id": self.digest_id,
            "token": csat.survey_token(SECRET_KEY, case_id or 1, self.desk.clock.now),
            "path": "inbox.css",
        }
        url = path.format(**values)
        client = TestClient(self.app, cookies=self.cookies[role], follow_redirects=False)
        if path.startswith("/api/"):
            headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}
            body = self._fields(path, case_id) if method == "POST" else None
            return client.request(method, url, json=body, headers=headers)
        if method == "GET":
            return client.get(url)
        form = {"csrf": self.csrf[role], **self._fields(path, case_id)}
        if "reply_key" not in form and "request_key" in form:
            form["reply_key"] = form.pop("request_key")
        return client.post(url, data=form)

    def _fields(self, path: str, case_id: int) -> dict[str, Any]:
        with Session(self.desk.engine) as session:
            seen = latest_change(session, case_id)
        action = path.rsplit("/", 1)[-1]
        key = f"request-key-{next(self.sequence):08d}"
        by_action: dict[str, dict[str, Any]] = {
            "login": {"email": LUCA, "password": DEMO_PASSWORD},
            "bulk": {"action": "take", "cases": [f"{case_id}:{seen}"]}
            if not path.startswith("/api/")
            else {"action": "take", "cases": [{"id": case_id, "seen": seen}]},
            "reply": {"seen": seen, "text": "Ciao!", "request_key": key},
            "note": {"text": "Checked the logs"},
            "dismiss": {"seen": seen, "reason": "spam"},
            "reopen": {"seen": seen, "reason": "the customer wrote elsewhere"},
            "take": {"seen": seen},
            "assign": {"seen": seen, "assignee": self.desk.employee(SARA)},
            "release": {"seen": seen},
            "correct": {"seen": seen, "priority": "high"},
            "availability": {"available": "true"},
            "flags": {"blocked": "false"},
            "{token}": {"score": "5"},
        }
        fields = by_action.get(action, {})
        if action == "correct" and not path.startswith("/api/"):  # the page's form sends the whole triage
            fields = fields | {
                "category": "complaint",
                "cluster": "not_working",
                "product": "",
                "team": "care-it",
            }
        return fields


@pytest.fixture
def trial(engine: Engine, config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Trial:
    for module in (live, queue):  # a live feed answers its first lines and ends, rather than a minute later
        monkeypatch.setattr(module, "STREAM_SECONDS", 0)
    return Trial(Desk(engine, config, clock))


def outcome(response: httpx.Response) -> int | str:
    if response.status_code == 303 and response.headers["location"] == "/login":
        return LOGIN
    return response.status_code


def test_every_route_keeps_to_its_rule_for_every_role(trial: Trial) -> None:
    wrong = []
    for method, path in routes_of(trial.app):
        rule = RULES[(method, path)]
        for role in ROLES:  # each on a case of their own, so that what one did is not in another's way
            case_id = (
                trial.case(rule.case) if rule.case else (trial.case("unassigned") if "bulk" in path else 0)
            )
            got, want = outcome(trial.ask(role, method, path, case_id)), expected(rule, role)
            refusals = (
                (401, 403, 404) if rule.who == "public" else (401, 403, 404, LOGIN)
            )  # signing out ends there
            passed = got not in refusals if want == ALLOWED else got == want
            if not passed:
                wrong.append(f"{method} {path} as {role}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
