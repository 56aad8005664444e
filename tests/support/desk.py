"""A care desk driven through the core's own operations at times the test chooses.

Cases are threaded, assigned and answered by the same functions the service
uses; replies leave through the real outbox sender and the demo platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from responders.acknowledger import PURPOSE, idempotency_key
from social_care import lifecycle
from social_care.cases import thread_into_case
from social_care.classify import Verdict
from social_care.config import Config
from social_care.runtime import Service, build_service
from social_care.sla.sweeper import LogNotifier, Notifier, refresh_clocks
from social_care.storage.tables import Author, Case, Employee, Mention, OutboxEntry, saved_id
from tests.support.clock import FakeClock


class Desk:
    def __init__(
        self, engine: Engine, config: Config, clock: FakeClock, notifier: Notifier | None = None
    ) -> None:
        self.engine, self.config, self.clock = engine, config, clock
        notifier = notifier or LogNotifier()  # no SMTP server unless the test brings one
        self.service: Service = build_service(config, engine, clock=clock, notifier=notifier)
        self._posts = 0

    def employee(self, email: str) -> int:
        with Session(self.engine) as session:
            return saved_id(session.exec(select(Employee).where(Employee.email == email)).one())

    def post(
        self,
        *,
        handle: str = "anna_b",
        category: str = "complaint",
        priority: str = "normal",
        reply_to: str | None = None,
        source: str = "demo",
        language: str = "en",
        text: str = "Velora Pulse",
    ) -> int:
        """A customer's post at the clock's time; the id of the case it opened or joined."""
        now, self._posts = self.clock.now, self._posts + 1
        with Session(self.engine) as session:
            author = session.exec(select(Author).where(Author.handle == handle)).first()
            if author is None:
                author = Author(platform="demo", external_id=f"id-{handle}", handle=handle)
                session.add(author)
                session.flush()
            mention = Mention(
                source_id=source,
                platform="demo",
                external_id=f"post-{self._posts}",
                author_id=saved_id(author),
                text=text,
                posted_at=now,
                fetched_at=now,
                thread_id=reply_to,
                parent_id=reply_to,
                processed_at=now,
            )
            session.add(mention)
            session.flush()
            verdict = Verdict(category, 0.9, "not_working", -0.5, language, priority, reasons=[])
            case, _ = thread_into_case(
                session, mention, verdict, brand="Velora", product="", now=now, window=_NO_WINDOW
            )
            refresh_clocks(session, self.config, case)
            session.commit()
            return saved_id(case)

    def assign(self, case_id: int, team: str, email: str) -> None:
        employee_id = self.employee(email)
        with self._case(case_id) as (session, case):
            lifecycle.assign(session, case, self.clock.now, team=team, employee_id=employee_id, rule="test")

    def acknowledge(self, case_id: int) -> None:
        """Our automatic acknowledgement, queued and sent through the outbox now."""
        self.queue_acknowledgement(case_id)
        self._send()

    def queue_acknowledgement(self, case_id: int, *, text: str = "We are on it.") -> None:
        """Our automatic acknowledgement, queued in the outbox and left there: nothing here sends it."""
        with self._case(case_id) as (session, case):
            session.add(
                OutboxEntry(
                    idempotency_key=idempotency_key(case, PURPOSE),
                    case_id=case_id,
                    source_id=case.source_id,
                    purpose=PURPOSE,
                    in_reply_to=case.thread_key,
                    text=text,
                    created_at=self.clock.now,
                    next_attempt_at=self.clock.now,
                )
            )

    def reply(
        self, case_id: int, email: str, *, resolves: bool = False, text: str = "Thanks, fixed."
    ) -> None:
        """A person's reply, queued and sent through the outbox now."""
        employee_id = self.employee(email)
        with self._case(case_id) as (session, case):
            lifecycle.queue_reply(
                session,
                case,
                text,
                self.clock.now,
                employee_id=employee_id,
                in_reply_to=case.thread_key,
                resolves=resolves,
                request_key=f"desk-{uuid.uuid4().hex}",
            )
        self._send()

    def resolve(self, case_id: int, email: str) -> None:
        """Closed by a person without a reply (the customer was answered elsewhere)."""
        employee_id = self.employee(email)
        with self._case(case_id) as (session, case):
            lifecycle.resolve(session, case, self.clock.now, employee_id=employee_id)

    def dismiss(self, case_id: int, reason: str, email: str) -> None:
        employee_id = self.employee(email)
        with self._case(case_id) as (session, case):
            lifecycle.dismiss(session, case, reason, self.clock.now, employee_id=employee_id)

    def case(self, case_id: int) -> Case:
        with Session(self.engine) as session:
            return session.get_one(Case, case_id)

    def _send(self) -> None:
        report = self.service.sender.run_once()
        assert report.sent >= 1, report

    @contextmanager
    def _case(self, case_id: int) -> Iterator[tuple[Session, Case]]:
        with Session(self.engine) as session:
            yield session, session.get_one(Case, case_id)
            session.commit()


_NO_WINDOW = timedelta(0)


def acknowledged_case(session: Session) -> tuple[Case, int]:
    """The case of the one acknowledgement in the outbox, and someone of the desk to act on it."""
    case = session.get_one(Case, session.exec(select(OutboxEntry)).one().case_id)
    return case, saved_id(session.exec(select(Employee)).first())
