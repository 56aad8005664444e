"""Retention: each kind of data is kept for its configured days, then purged in bounded batches.

Kinds (``[retention]``, 0 keeps for ever):

- ``post_text_days``: a post's text and address are blanked (:mod:`.scrubbing`),
  counted from when it was posted; its row, times and case stay.
- ``raw_payload_days``: the platform's payload of a post is dropped sooner than
  its text (it holds more than we show), and payloads rejected as malformed go.
- ``author_profile_days``: an author's handle, name and followers are blanked
  that long after their last post.
- ``closed_case_days``: a resolved, spam or ignored case untouched that long is
  deleted with its posts, events, replies, notes, alerts, survey answer and
  labels. Its share of the rollups stays in them: reports and digests over
  those days show the same figures as before.
- ``mail_days``: mails sent or given up (a digest's archive copy is apart).
- ``audit_days``: the audit log.

Each batch is a few set-wise statements over at most ``batch_size`` rows in a
transaction of its own, and a run makes at most ``max_batches_per_run`` of
them, so a purge never holds a table for long; what is left waits for the next
run. Running twice, or on two workers at once, deletes nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from social_care import audit
from social_care.case_states import CLOSED_STATES
from social_care.clock import Clock
from social_care.compliance import scrubbing
from social_care.config.models import RetentionSettings
from social_care.storage.tables import (
    AuditEvent,
    Author,
    Case,
    CaseContribution,
    CaseEvent,
    CaseViewer,
    Classification,
    CsatResponse,
    DigestRun,
    MailEntry,
    MailImage,
    Mention,
    OutboxEntry,
    RejectedPayload,
    SlaAlert,
    TermMatch,
    TriageLabel,
)

log = logging.getLogger(__name__)
ACTOR = "retention purge"
FINISHED_MAIL = ("sent", "dead")

# One batch of one kind: (session, rows older than this, at most this many, now) -> rows purged.
Step = Callable[[Session, datetime, int, datetime], int]


@dataclass
class PurgeReport:
    purged: Counter[str] = field(default_factory=Counter)
    unfinished: list[str] = field(default_factory=list)  # kinds with more to purge than one run's batches

    def line(self) -> str:
        done = ", ".join(f"{count} {kind}" for kind, count in self.purged.items() if count) or "nothing"
        left = f"; more to purge next run: {', '.join(self.unfinished)}" if self.unfinished else ""
        return f"purged {done}{left}"


class RetentionPurge:
    def __init__(self, engine: Engine, settings: RetentionSettings, *, clock: Clock) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    def run_once(self, *, by: str = ACTOR) -> PurgeReport:
        """Purge what each kind keeps past its days, within the run's batches."""
        report = PurgeReport()
        settings = self._settings
        kinds: list[tuple[str, int, Step]] = [
            (CLOSED_CASES, settings.closed_case_days, _closed_cases),
            ("post texts", settings.post_text_days, _post_texts),
            ("raw payloads", settings.raw_payload_days, _raw_payloads),
            ("rejected payloads", settings.raw_payload_days, _rejected_payloads),
            ("author profiles", settings.author_profile_days, _author_profiles),
            ("mails", settings.mail_days, _mails),
            ("audit events", settings.audit_days, _audit_events),
        ]
        for kind, days, step in kinds:
            if days:
                self._purge(report, kind, days, step)
        if any(report.purged.values()):
            with Session(self._engine) as session:
                audit.record(
                    session,
                    audit.RETENTION_PURGED,
                    at=self._clock(),
                    actor=by,
                    subject=", ".join(kind for kind, count in report.purged.items() if count),
                    **{kind.replace(" ", "_"): count for kind, count in report.purged.items() if count},
                )
                session.commit()
            log.info("retention: %s", report.line())
        return report

    def _purge(self, report: PurgeReport, kind: str, days: int, step: Step) -> None:
        """Up to ``max_batches_per_run`` batches of one kind (each kind has its own: a backlog of
        one never holds another back). A batch that fails (a case reopened by a post that came in
        meanwhile, a lost connection) is rolled back whole and the kind waits for the next run."""
        size = self._settings.batch_size
        for _ in range(self._settings.max_batches_per_run):
            now = self._clock()
            try:
                with Session(self._engine) as session:
                    purged = step(session, now - timedelta(days=days), size, now)
                    session.commit()
            except DBAPIError as error:
                log.warning("retention: a batch of %s was left for the next run: %s", kind, error.orig)
                report.unfinished.append(kind)
                return
            report.purged[kind] += purged
            if purged < size:
                return
        report.unfinished.append(kind)


CLOSED_CASES = "closed cases"


def _purged_cases_marker() -> ColumnElement[bool]:
    return and_(
        col(AuditEvent.kind) == audit.RETENTION_PURGED, col(AuditEvent.subject).contains(CLOSED_CASES)
    )


def cases_were_purged(session: Session) -> bool:
    """Whether closed cases were ever deleted: their figures then live in the rollups alone."""
    return (
        session.execute(select(col(AuditEvent.id)).where(_purged_cases_marker()).limit(1)).first() is not None
    )


def _ids(session: Session, statement: object) -> list[int]:
    return list(session.execute(statement).scalars())  # type: ignore[call-overload]


def _post_texts(session: Session, before: datetime, size: int, now: datetime) -> int:
    ids = _ids(
        session,
        select(col(Mention.id))
        .where(col(Mention.removed) == "", col(Mention.posted_at) < before)
        .order_by(col(Mention.id))
        .limit(size),
    )
    scrubbing.scrub_posts(session, ids, why=scrubbing.EXPIRED, at=now, actor=ACTOR, on_the_timeline=False)
    return len(ids)


def _raw_payloads(session: Session, before: datetime, size: int, now: datetime) -> int:
    ids = _ids(
        session,
        select(col(Mention.id))
        .where(col(Mention.raw_dropped_at).is_(None), col(Mention.posted_at) < before)
        .order_by(col(Mention.id))
        .limit(size),
    )
    if ids:
        session.execute(update(Mention).where(col(Mention.id).in_(ids)).values(raw={}, raw_dropped_at=now))
    return len(ids)


def _rejected_payloads(session: Session, before: datetime, size: int, now: datetime) -> int:
    ids = _ids(
        session,
        select(col(RejectedPayload.id)).where(col(RejectedPayload.received_at) < before).limit(size),
    )
    if ids:
        session.execute(delete(RejectedPayload).where(col(RejectedPayload.id).in_(ids)))
    return len(ids)


def _author_profiles(session: Session, before: datetime, size: int, now: datetime) -> int:
    recent = exists().where(and_(col(Mention.author_id) == col(Author.id), col(Mention.posted_at) >= before))
    ids = _ids(
        session,
        select(col(Author.id))
        .where(col(Author.erased_at).is_(None), ~recent)
        .order_by(col(Author.id))
        .limit(size),
    )
    scrubbing.scrub_profiles(session, ids, at=now)
    return len(ids)


def _closed_cases(session: Session, before: datetime, size: int, now: datetime) -> int:
    """Closed cases untouched since ``before``, locked (a worker threading a new post into one waits,
    then finds it gone and opens a new case; another purge skips them) and deleted."""
    ids = _ids(
        session,
        select(col(Case.id))
        .where(col(Case.status).in_(CLOSED_STATES), col(Case.last_activity_at) < before)
        .order_by(col(Case.id))
        .limit(size)
        .with_for_update(skip_locked=True),
    )
    delete_cases(session, ids)
    return len(ids)


def delete_cases(session: Session, case_ids: list[int]) -> None:
    """Delete these cases and everything that hangs off them, their share of the rollups kept.

    The share's row (``case_contributions``) goes, the rollup rows it was added to stay: the
    figures of the days the case lived do not change, and nothing can take its share out twice.
    """
    if not case_ids:
        return
    posts = select(col(Mention.id)).where(col(Mention.case_id).in_(case_ids))
    labels = or_(col(TriageLabel.case_id).in_(case_ids), col(TriageLabel.mention_id).in_(posts))
    session.execute(delete(TriageLabel).where(labels))
    for table in (TermMatch, Classification):
        session.execute(delete(table).where(col(table.mention_id).in_(posts)))
    session.execute(delete(Mention).where(col(Mention.case_id).in_(case_ids)))
    for table in (CaseEvent, OutboxEntry, SlaAlert, CsatResponse, CaseViewer, CaseContribution):
        session.execute(delete(table).where(col(table.case_id).in_(case_ids)))
    session.execute(update(MailEntry).where(col(MailEntry.case_id).in_(case_ids)).values(case_id=None))
    session.execute(delete(Case).where(col(Case.id).in_(case_ids)))


def _mails(session: Session, before: datetime, size: int, now: datetime) -> int:
    ids = _ids(
        session,
        select(col(MailEntry.id))
        .where(col(MailEntry.state).in_(FINISHED_MAIL), col(MailEntry.created_at) < before)
        .order_by(col(MailEntry.id))
        .limit(size),
    )
    if ids:
        session.execute(delete(MailImage).where(col(MailImage.mail_id).in_(ids)))
        session.execute(update(DigestRun).where(col(DigestRun.mail_id).in_(ids)).values(mail_id=None))
        session.execute(delete(MailEntry).where(col(MailEntry.id).in_(ids)))
    return len(ids)


def _audit_events(session: Session, before: datetime, size: int, now: datetime) -> int:
    """Old rows of the audit log, but for the newest saying closed cases were purged: it is how a
    rebuild of the rollups knows that the events no longer hold every figure."""
    marker = session.execute(
        select(col(AuditEvent.id)).where(_purged_cases_marker()).order_by(col(AuditEvent.id).desc()).limit(1)
    ).scalar()
    old = [col(AuditEvent.at) < before] + ([col(AuditEvent.id) != marker] if marker is not None else [])
    ids = _ids(session, select(col(AuditEvent.id)).where(*old).order_by(col(AuditEvent.id)).limit(size))
    if ids:
        session.execute(delete(AuditEvent).where(col(AuditEvent.id).in_(ids)))
    return len(ids)
