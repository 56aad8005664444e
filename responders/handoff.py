"""Handing a case to a person: choose them, tell them, and take it back when it waits.

The choice itself is routing's (competent, authorised, on shift, available,
under capacity, by the team's strategy). This module acts on it: it records
the assignment, queues the assignee's e-mail with the case summary, or, when
nobody can take the case, leaves it in the team's queue and alerts the team's
supervisor. Its sweeper reassigns a case whose assignee has not answered in
time, and returns to the pool a case whose assignee became unavailable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from responders.mailer import queue_mail
from social_care import events, lifecycle
from social_care.cases import OPEN_STATES
from social_care.config.models import Config
from social_care.mail import MailTemplates
from social_care.routing import CaseFacts, choose_assignee
from social_care.storage.tables import Author, Case, CaseEvent, Employee, Mention, Team, saved_id


@dataclass
class SweepReport:
    reassigned: int = 0
    returned: int = 0
    assigned: int = 0  # from a team's queue


class HandOff:
    def __init__(self, config: Config, templates: MailTemplates, rng: random.Random | None = None) -> None:
        self._config = config
        self._policy = config.handoff
        self._templates = templates
        self._rng = rng or random.Random()  # noqa: S311 (spreading work, not secrecy)

    def assign(self, session: Session, case: Case, facts: CaseFacts, *, rule: str, now: datetime) -> None:
        """Give ``case`` (already routed to its team) to someone eligible, or leave it to the team."""
        team = case.team or ""
        person = self._choose(session, case, facts, now)
        if person is None:
            events.record(session, case, "queued_for_team", at=now, team=team, rule=rule)
            self._alert_supervisor(session, case, now, why="no one eligible")
            return
        lifecycle.assign(session, case, now, team=team, employee_id=saved_id(person), rule=rule)
        self._tell_assignee(session, case, person, now)

    def assign_to(
        self, session: Session, case: Case, person: Employee, *, by: Employee, now: datetime
    ) -> None:
        """A person gives ``case`` to ``person`` (themselves, when they take it); the assignee is told
        by e-mail unless they took it."""
        lifecycle.assign(
            session,
            case,
            now,
            team=case.team,
            employee_id=saved_id(person),
            rule="taken" if person.id == by.id else "assigned by a person",
            by=by.id,
        )
        if person.id != by.id:
            self._tell_assignee(session, case, person, now)

    def _choose(
        self,
        session: Session,
        case: Case,
        facts: CaseFacts,
        now: datetime,
        exclude: frozenset[int] = frozenset(),
    ) -> Employee | None:
        """Someone of the case's team who may take it now, by the team's strategy."""
        return choose_assignee(
            session, self._config, case.team or "", facts, now=now, rng=self._rng, exclude=exclude
        )

    def sweep(self, session: Session, now: datetime) -> SweepReport:
        """Reassign cases left unanswered too long, and those whose assignee became unavailable;
        then give waiting cases of the team queues to whoever can take them now (a shift began)."""
        report = SweepReport()
        for case, reason in self._cases_to_take_back(session, now):
            self._take_back(session, case, reason, now, report)
        session.flush()
        for case in self._waiting_in_team_queues(session):
            self._take_from_queue(session, case, now, report)
        session.commit()
        return report

    def _waiting_in_team_queues(self, session: Session) -> list[Case]:
        waiting = (
            select(Case)
            .where(
                col(Case.assignee_id).is_(None),
                col(Case.team).is_not(None),
                col(Case.status).in_(("new", "acknowledged")),
                Case.category != "other",
            )
            .order_by(col(Case.id))
            .with_for_update(skip_locked=True)
        )
        return list(session.exec(waiting))

    def _take_from_queue(self, session: Session, case: Case, now: datetime, report: SweepReport) -> None:
        """Someone eligible takes the case, never a person who already let it wait."""
        let_go = session.exec(
            select(CaseEvent.detail).where(
                CaseEvent.case_id == case.id, col(CaseEvent.kind).in_(("reassigned", "returned_to_team"))
            )
        ).all()
        exclude = frozenset(int(detail["from_id"]) for detail in let_go if detail.get("from_id"))
        person = self._choose(session, case, CaseFacts.of(case), now, exclude)
        if person is None:
            return
        lifecycle.assign(session, case, now, team=case.team or "", employee_id=saved_id(person), rule="")
        self._tell_assignee(session, case, person, now)
        report.assigned += 1

    def _cases_to_take_back(self, session: Session, now: datetime) -> list[tuple[Case, str]]:
        held = (
            select(Case, Employee)
            .join(Employee, col(Employee.id) == col(Case.assignee_id))
            .where(col(Case.status).in_(OPEN_STATES), col(Case.team).is_not(None))
            .order_by(col(Case.id))
            .with_for_update(skip_locked=True, of=Case)  # PostgreSQL: two sweepers never take one case
        )
        found = []
        minutes = self._policy.reassign_after_minutes
        for case, person in session.exec(held):
            if not (person.available and person.active):
                found.append((case, "the assignee is unavailable"))
            elif (
                minutes
                and case.status == "assigned"
                and case.first_response_at is None
                and case.assigned_at is not None
                and case.assigned_at <= now - timedelta(minutes=minutes)
                and not lifecycle.person_reply_on_its_way(session, case)
            ):
                found.append((case, f"no answer within {minutes} minutes"))
        return found

    def _take_back(
        self, session: Session, case: Case, reason: str, now: datetime, report: SweepReport
    ) -> None:
        previous = case.assignee_id
        exclude = frozenset({previous}) if previous else frozenset()
        person = self._choose(session, case, CaseFacts.of(case), now, exclude)
        if person is not None:
            self._give(session, case, person, now)
            events.record(
                session, case, "reassigned", at=now, reason=reason, from_id=previous, assignee_id=person.id
            )
            report.reassigned += 1
            return
        case.assignee_id, case.assigned_at = None, None
        to_status = ("acknowledged" if case.acknowledged_at else "new") if case.status == "assigned" else None
        events.record(
            session, case, "returned_to_team", at=now, to_status=to_status, reason=reason, from_id=previous
        )
        self._alert_supervisor(session, case, now, why=reason)
        report.returned += 1

    def _give(self, session: Session, case: Case, person: Employee, now: datetime) -> None:
        case.assignee_id, case.assigned_at = person.id, now
        session.add(case)
        self._tell_assignee(session, case, person, now)

    def _tell_assignee(self, session: Session, case: Case, person: Employee, now: datetime) -> None:
        if self._policy.email_assignee:
            self._mail(session, case, person, "assignment", now=now, why="")

    def _alert_supervisor(self, session: Session, case: Case, now: datetime, *, why: str) -> None:
        team = session.exec(select(Team).where(Team.name == case.team)).first()
        supervisor = session.get(Employee, team.supervisor_id) if team and team.supervisor_id else None
        if self._policy.alert_supervisor and supervisor is not None and supervisor.active:
            self._mail(session, case, supervisor, "team_queue", now=now, why=why)

    def _mail(
        self, session: Session, case: Case, person: Employee, purpose: str, *, now: datetime, why: str
    ) -> None:
        session.flush()
        case_id = saved_id(case)
        mail = self._templates.render(
            purpose, language=self._policy.language, values=self._summary(session, case, person, why)
        )
        queue_mail(
            session,
            key=f"case:{case_id}:{purpose}:{person.id}:{now.isoformat()}",
            purpose=purpose,
            to=[person.email],
            mail=mail,
            now=now,
            case_id=case_id,
        )

    def _summary(self, session: Session, case: Case, person: Employee, why: str) -> dict[str, object]:
        latest = session.exec(
            select(Mention).where(Mention.case_id == case.id).order_by(col(Mention.id).desc())
        ).first()
        configured = next((entry for entry in self._config.employees if entry.email == person.email), None)
        zone = ZoneInfo(configured.timezone if configured else self._config.service.timezone)
        due = (
            case.response_due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            if case.response_due_at
            else ""
        )
        return {
            "person": person.name,
            "case": case,
            "author": session.get_one(Author, case.author_id),
            "text": latest.text if latest else "",
            "link": f"{self._config.service.public_url.rstrip('/')}/cases/{case.id}",
            "due": due,
            "why": why,
        }
