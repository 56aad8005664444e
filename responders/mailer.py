"""The mail outbox: e-mails to employees are queued with the change that causes them, sent apart.

Queuing in the same transaction as the assignment (or the crisis) means a mail
exists exactly when its reason does, and one idempotency key per reason means
it is queued once however often the reason is seen again. Sending is claimed
with a lease, like replies. Unlike a reply to a customer, a mail whose outcome
was lost in a crash is sent again: a second notice to a colleague is better
than none.

A mail's inline images (a digest's charts) are queued with it, in
``mail_images``, so that every attempt sends the very mail that was queued.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_
from sqlmodel import Session, col, select

from social_care.clock import Clock
from social_care.mail import InlineImage, Mail, Mailer, MailError
from social_care.storage.claims import claim_next
from social_care.storage.tables import MailEntry, MailImage, saved_id

log = logging.getLogger(__name__)


def queue_mail(
    session: Session,
    *,
    key: str,
    purpose: str,
    to: list[str],
    mail: Mail,
    now: datetime,
    case_id: int | None = None,
) -> bool:
    """Queue ``mail`` unless one with ``key`` already is; whether it was queued now."""
    if not to or session.exec(select(MailEntry.id).where(MailEntry.idempotency_key == key)).first():
        return False
    entry = MailEntry(
        idempotency_key=key,
        purpose=purpose,
        case_id=case_id,
        recipients=sorted(set(to)),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(entry)
    if mail.images:
        session.flush()
        for position, image in enumerate(mail.images):
            session.add(
                MailImage(
                    mail_id=saved_id(entry),
                    position=position,
                    content_id=image.content_id,
                    alt=image.alt,
                    png=image.png,
                )
            )
    return True


def queued_mail(session: Session, entry: MailEntry) -> Mail:
    """The mail ``entry`` holds, with its images in the order they were queued."""
    rows = session.exec(
        select(MailImage).where(MailImage.mail_id == saved_id(entry)).order_by(col(MailImage.position))
    ).all()
    images = tuple(InlineImage(row.content_id, row.png, row.alt) for row in rows)
    return Mail(entry.subject, entry.text, entry.html, images)


@dataclass
class MailReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    last_error: str = ""


class MailSender:
    def __init__(
        self,
        engine: Engine,
        mailer: Mailer,
        *,
        clock: Clock,
        owner: str,
        max_attempts: int = 5,
        lease: timedelta = timedelta(minutes=2),
        stopping: threading.Event | None = None,
    ) -> None:
        self._engine = engine
        self._mailer = mailer
        self._clock = clock
        self._owner = owner
        self._max_attempts = max_attempts
        self._lease = lease
        self._stopping = stopping or threading.Event()

    def run_once(self, limit: int = 20) -> MailReport:
        """Send up to ``limit`` mails that are due; none more once the service is stopping."""
        report = MailReport()
        for _ in range(limit):
            if self._stopping.is_set():
                break
            entry_id = self._claim_next()
            if entry_id is None:
                break
            self._deliver(entry_id, report)
        return report

    def _claim_next(self) -> int | None:
        now = self._clock()
        ready = and_(
            col(MailEntry.state).in_(("pending", "failed", "sending")), col(MailEntry.next_attempt_at) <= now
        )
        return claim_next(
            self._engine,
            MailEntry,
            ready=ready,
            order_by=MailEntry.next_attempt_at,
            owner=self._owner,
            now=now,
            lease=self._lease,
        )

    def _deliver(self, entry_id: int, report: MailReport) -> None:
        with Session(self._engine) as session:
            entry = session.get_one(MailEntry, entry_id)
            entry.state, entry.attempts = "sending", entry.attempts + 1
            session.add(entry)
            session.commit()
            mail, to = queued_mail(session, entry), list(entry.recipients)
        try:
            self._mailer.send(mail, to)
        except MailError as error:
            self._record(entry_id, error, report)
            return
        self._record(entry_id, None, report)

    def _record(self, entry_id: int, error: MailError | None, report: MailReport) -> None:
        now = self._clock()
        with Session(self._engine) as session:
            entry = session.get_one(MailEntry, entry_id, with_for_update=True)
            if entry.state == "sent":  # the server answered after our lease; the next sender sent it
                log.debug("mail %s was sent by another sender meanwhile", entry_id)
                return
            entry.lease_owner = entry.lease_expires_at = None
            if error is None:
                entry.state, entry.sent_at = "sent", now
                report.sent += 1
            elif entry.attempts >= self._max_attempts:
                entry.state, entry.last_error = "dead", str(error)[:500]
                report.dead += 1
            else:
                entry.state, entry.last_error = "failed", str(error)[:500]
                entry.next_attempt_at = now + timedelta(minutes=min(2**entry.attempts, 60))
                report.failed += 1
            attempts = entry.attempts
            session.add(entry)
            session.commit()
        if error is not None:
            report.last_error = str(error)
            log.debug("mail %s not sent (attempt %s): %s", entry_id, attempts, error)
