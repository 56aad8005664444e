"""The morning round: each recipient whose send time has come gets the digest of their yesterday, once.

Every worker runs the round every minute; which digests exist is in the
database (:mod:`social_care.digest.runs`), so any number of workers, and any
number of restarts, make each recipient's digest of a day once. Only
*yesterday* is ever due: after a night of downtime the last missed day goes
out when the service is back, and the days before it are not sent late (a
stale digest says nothing a manager can still act on). Before a recipient's
send time, their yesterday is not due yet either.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from social_care.clock import Clock
from social_care.config.models import Config, DigestRecipient
from social_care.digest import runs
from social_care.digest.build import build_digest
from social_care.digest.chat import SENT, Chat, chat_message
from social_care.digest.days import LocalDay, yesterday
from social_care.digest.model import Digest
from social_care.digest.render import render_digest
from social_care.mail import MailTemplates

log = logging.getLogger(__name__)
QUIET = "no mentions in any brand, and send_on_quiet_days = false"
NO_BRANDS = "no configured brand is in this recipient's scope"


def zone_of(config: Config, recipient: DigestRecipient) -> ZoneInfo:
    return ZoneInfo(recipient.timezone or config.digest.timezone)


def due_day(config: Config, recipient: DigestRecipient, now: datetime) -> LocalDay | None:
    """The day whose digest is due for ``recipient`` at ``now``: their yesterday once their local
    send time has passed today, else none."""
    zone = zone_of(config, recipient)
    send_at = datetime.combine(now.astimezone(zone).date(), recipient.send_at or config.digest.send_at, zone)
    return yesterday(now, zone) if now >= send_at else None


def is_quiet(digest: Digest) -> bool:
    return all(brand.quiet for brand in digest.brands)


def archive_url(config: Config, run_id: int) -> str:
    return f"{config.service.public_url.rstrip('/')}/digests/{run_id}"


@dataclass
class RoundReport:
    queued: list[str] = field(default_factory=list)  # "recipient day"
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class DigestSender:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        templates: MailTemplates,
        *,
        clock: Clock,
        owner: str,
        chat: Chat | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self._engine = engine
        self._config = config
        self._templates = templates
        self._clock = clock
        self._owner = owner
        self._chat = chat
        self._stopping = stopping or threading.Event()

    def run_once(self) -> RoundReport:
        """Make every digest due now and not made yet; one recipient's trouble holds up no other.
        Once the service is stopping, no further digest is begun: the next round makes it."""
        report = RoundReport()
        if not self._config.digest.enabled:
            return report
        now = self._clock()
        for recipient in self._config.digest.people():
            if self._stopping.is_set():
                break
            day = due_day(self._config, recipient, now)
            if day is None:
                continue
            what = f"{recipient.email} {day.day}"
            try:
                outcome = self.make(recipient, day, now)
            except Exception:
                log.exception("the digest for %s could not be made; it is tried again next minute", what)
                report.failed.append(what)
                continue
            if outcome == runs.QUEUED:
                report.queued.append(what)
            elif outcome == runs.SKIPPED:
                report.skipped.append(what)
        return report

    def make(self, recipient: DigestRecipient, day: LocalDay, now: datetime) -> str | None:
        """Build, render and record one digest; ``queued``, ``skipped``, or None when it was made
        already (by another worker, an earlier run or the command)."""
        with Session(self._engine) as session:
            if runs.made(session, recipient.email, day.day) is not None:
                return None
            digest = build_digest(session, self._config, recipient, now=now, day=day)
        run = runs.Made(recipient.email, day.day, [brand.brand for brand in digest.brands], now, self._owner)
        why = skip_reason(recipient, digest)
        run = (
            replace(run, skipped_because=why)
            if why
            else replace(run, mail=render_digest(digest, self._templates))
        )
        if deliver(self._engine, self._config, run, self._chat) is None:
            return None
        return runs.QUEUED if run.mail else runs.SKIPPED


def skip_reason(recipient: DigestRecipient, digest: Digest) -> str:
    """Why no mail is due for ``digest``: nothing in scope, or a quiet day they asked not to hear of."""
    if not digest.brands:
        return NO_BRANDS
    if is_quiet(digest) and not recipient.send_on_quiet_days:
        return QUIET
    return ""


def deliver(engine: Engine, config: Config, run: runs.Made, chat: Chat | None) -> int | None:
    """Record ``run`` and queue its mail in one transaction, then post its short version to chat;
    the run's id, or None when that recipient's digest of that day was made already."""
    with Session(engine) as session:
        run_id = runs.record(session, run)
        session.commit()
    if run_id is not None and run.mail is not None and chat is not None:
        try:
            outcome = chat.post(chat_message(run.mail.subject, archive_url(config, run_id)))
        except Exception as error:  # the mail is queued whatever becomes of the courtesy beside it
            outcome = f"failed: {type(error).__name__}"
        if outcome != SENT:
            log.warning("the digest's chat message for %s: %s", run.recipient, outcome)
        with Session(engine) as session:
            runs.note_chat(session, run_id, outcome)
            session.commit()
    return run_id
