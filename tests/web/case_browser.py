"""A desk whose cases the test makes, its inbox served by uvicorn on loopback, and people using it
in chromium, each in a browser context of their own (their own cookies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import Session, col, select

from social_care.runtime import open_database
from social_care.storage.tables import Author, Case, Classification, Employee, Mention, OutboxEntry, saved_id
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.browser import ServedApp
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD

SECRET_KEY = "case-page-browser-secret"
SUPERVISOR = "chiara.conti@velora.example"
LUCA = "luca.marino@velora.example"
SARA = "sara.greco@velora.example"
JAMES = "james.wright@velora.example"
PAOLA = "paola.ricci@velora.example"
PEOPLE = (SUPERVISOR, LUCA, SARA, JAMES, PAOLA)


class CaseDesk:
    """The example desk with an empty database, the inbox on a free port, its clock held still.

    The app and the test's :class:`Desk` share one :class:`FakeClock`, so the due times a page
    shows, the presence it reports and the cases the test makes agree on what time it is.
    """

    def __init__(self, tmp_path: Path, browser: Browser) -> None:
        self.config = demo_config(tmp_path)
        self.engine = open_database(self.config, {})
        self.clock = FakeClock()
        self.desk = Desk(self.engine, self.config, self.clock)
        for email in PEOPLE:
            set_employee_password(self.config, self.engine, email, DEMO_PASSWORD)
        self.served = ServedApp(create_app(self.config, self.engine, secret_key=SECRET_KEY, clock=self.clock))
        self.url = self.served.url
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def start(self) -> None:
        self.served.start()

    def stop(self) -> None:
        for context in self.contexts:  # first, so that the pages' event streams end
            context.close()
        self.served.stop()
        self.engine.dispose()

    # -- people ---------------------------------------------------------------------------------

    def signed_in(self, email: str, **context_options: Any) -> Page:
        """A new browser context (its own cookies) where ``email`` has signed in."""
        context = self.browser.new_context(**context_options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(8000)
        page.goto(f"{self.url}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{self.url}/queue")
        return page

    def open_case(self, email: str, case_id: int, **context_options: Any) -> Page:
        page = self.signed_in(email, **context_options)
        page.goto(f"{self.url}/cases/{case_id}")
        return page

    def employee(self, email: str) -> Employee:
        with Session(self.engine) as session:
            return session.exec(select(Employee).where(Employee.email == email)).one()

    def name_of(self, employee_id: int | None) -> str:
        with Session(self.engine) as session:
            return session.get_one(Employee, employee_id).name

    # -- cases ----------------------------------------------------------------------------------

    def case(self, case_id: int) -> Case:
        return self.desk.case(case_id)

    def assigned_case(self, email: str, *, team: str = "care-it", **post: Any) -> int:
        case_id = self.desk.post(**post)
        self.desk.assign(case_id, team, email)
        return case_id

    def queued_case(self, *, team: str, **post: Any) -> int:
        """A case waiting in ``team``'s queue, nobody's yet."""
        case_id = self.desk.post(**post)
        with Session(self.engine) as session:
            case = session.get_one(Case, case_id)
            case.team = team
            session.add(case)
            session.commit()
        return case_id

    def name_customer(self, case_id: int, name: str) -> None:
        with Session(self.engine) as session:
            author = session.get_one(Author, self.case(case_id).author_id)
            author.name = name
            session.add(author)
            session.commit()

    def rules_said(self, case_id: int, *, category: str, cluster: str, priority: str) -> int:
        """Record the rules' verdict on the case's first post, as triage would; the post's id."""
        language = self.case(case_id).language
        with Session(self.engine) as session:
            first = select(Mention).where(Mention.case_id == case_id).order_by(col(Mention.id))
            mention_id = saved_id(session.exec(first).first())
            verdict = Classification(
                mention_id=mention_id,
                category=category,
                cluster=cluster,
                priority=priority,
                sentiment=-0.2,
                language=language,
                confidence=0.6,
                decided_by="rules",
                decided_at=self.clock.now,
            )
            session.add(verdict)
            session.commit()
        return mention_id

    def outbox(self, case_id: int) -> list[OutboxEntry]:
        with Session(self.engine) as session:
            statement = select(OutboxEntry).where(OutboxEntry.case_id == case_id)
            return list(session.exec(statement.order_by(col(OutboxEntry.id))))

    def peoples_replies(self, case_id: int) -> list[str]:
        """The texts of the replies people queued on the case (not the automatic ones)."""
        return [entry.text for entry in self.outbox(case_id) if entry.created_by.startswith("employee:")]
