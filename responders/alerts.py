"""Alerting the supervisors when a crisis starts: one e-mail per crisis, however many posts follow."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from responders.mailer import queue_mail
from social_care.config.models import Config
from social_care.mail import MailTemplates
from social_care.storage.tables import Case, Crisis, Employee, Mention, saved_id

EXAMPLES = 5


class CrisisAlert:
    def __init__(self, config: Config, templates: MailTemplates) -> None:
        self._config = config
        self._templates = templates

    def send(self, session: Session, crisis: Crisis, now: datetime) -> bool:
        """Queue the alert to every active supervisor; whether there was anyone to tell."""
        supervisors = session.exec(
            select(Employee.email).where(Employee.role == "supervisor", col(Employee.active))
        ).all()
        zone = ZoneInfo(self._config.service.timezone)
        mail = self._templates.render(
            "crisis",
            language=self._config.handoff.language,
            values={
                "crisis": crisis,
                "since": crisis.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                "examples": _latest_complaints(session),
                "link": f"{self._config.service.public_url.rstrip('/')}/queue",
            },
        )
        return queue_mail(
            session,
            key=f"crisis:{saved_id(crisis)}",
            purpose="crisis",
            to=list(supervisors),
            mail=mail,
            now=now,
        )


def _latest_complaints(session: Session) -> list[str]:
    statement = (
        select(Mention.text)
        .join(Case, col(Case.id) == col(Mention.case_id))
        .where(Case.category == "complaint")
        .order_by(col(Mention.id).desc())
        .limit(EXAMPLES)
    )
    return list(session.exec(statement).all())
