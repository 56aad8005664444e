"""The digests made, one per recipient and local day: claimed by inserting their row, kept for the archive.

The row is unique per (recipient, day) and is inserted with "on conflict do
nothing" in the very transaction that queues the mail, so of two workers (or a
worker and the command) making the same digest, one inserts it and queues its
mail, and the other finds the row taken and queues nothing: its transaction
waits for the first one's on PostgreSQL, and SQLite runs them one after the
other. A crash before the commit leaves neither row nor mail, and the digest is
made again at the next turn; after the commit, the mail outbox sends it with
its retries. The mail's idempotency key, one per recipient and day, guards the
same promise a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from responders.mailer import queue_mail
from social_care.digest.preview import inline_images
from social_care.mail import Mail
from social_care.storage.tables import DigestRun, MailEntry

PURPOSE = "digest"
QUEUED = "queued"
SKIPPED = "skipped"


def mail_key(recipient: str, day: date) -> str:
    """The mail outbox's idempotency key of a recipient's digest of ``day``."""
    return f"digest:{recipient.lower()}:{day.isoformat()}"


def made(session: Session, recipient: str, day: date) -> DigestRun | None:
    """The digest already made for ``recipient`` and ``day``, if any."""
    found = select(DigestRun).where(DigestRun.recipient == recipient.lower(), DigestRun.day == day)
    return session.exec(found).first()


@dataclass(frozen=True)
class Made:
    """What a digest run records: its mail, or why it has none."""

    recipient: str
    day: date
    brands: list[str]
    made_at: datetime
    made_by: str
    mail: Mail | None = None
    skipped_because: str = ""


def record(session: Session, run: Made) -> int | None:
    """Insert ``run`` and queue its mail, in the caller's transaction; the run's id, or None when
    that recipient's digest of that day was made already (then nothing is queued)."""
    values = {
        "recipient": run.recipient.lower(),
        "day": run.day,
        "state": QUEUED if run.mail else SKIPPED,
        "reason": "" if run.mail else run.skipped_because,
        "made_at": run.made_at,
        "made_by": run.made_by,
        "brands": run.brands,
        "subject": run.mail.subject if run.mail else "",
        "text": run.mail.text if run.mail else "",
        # The archive shows the mail without the outbox: its charts travel inside the page.
        "html": inline_images(run.mail) if run.mail else "",
        "mail_id": None,
        "chat": "",
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(DigestRun).values(**values).on_conflict_do_nothing().returning(col(DigestRun.id))
    )
    # RETURNING says whether this insert made the row; rowcount is not reliable here (psycopg reports -1).
    inserted = session.execute(statement).scalar()
    if inserted is None:
        return None
    if run.mail is not None:
        key = mail_key(run.recipient, run.day)
        queue_mail(session, key=key, purpose=PURPOSE, to=[run.recipient], mail=run.mail, now=run.made_at)
        mail_id = session.exec(select(MailEntry.id).where(MailEntry.idempotency_key == key)).one()
        session.execute(update(DigestRun).where(col(DigestRun.id) == inserted).values(mail_id=mail_id))
    return int(inserted)


def note_chat(session: Session, run_id: int, outcome: str) -> None:
    """Record how the short version in chat went: ``sent``, or ``failed: why``."""
    session.execute(update(DigestRun).where(col(DigestRun.id) == run_id).values(chat=outcome[:500]))
