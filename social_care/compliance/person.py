"""A person's data: everything kept about one author, exported or erased on their request.

The GDPR gives a person the right to see what is kept about them (article 15)
and to have it erased (article 17). A person is found by platform and handle
(any case, with or without the leading ``@`` or ``u/``); an author whose
handle changed is found by every handle we stored for them at the time.

The export holds their profile, their posts (text, address, the platform's
payload), the cases they opened with their times, events, our replies, notes
and survey answer, and the labels made on their posts: everything that
concerns them, and nothing another author wrote.

Forgetting erases the content and keeps the anonymised figures: posts lose
their words (:mod:`.scrubbing`) and each case's timeline says "erased at its
author's request"; the profile is blanked and its platform id replaced, so
their next post starts a new record. A person who asked us to stop replying,
or whom we blocked, keeps their platform id (and nothing else): erasing it
would let an automatic reply reach them again. Our replies to them and the
notes and survey comments on their cases are blanked, replies not yet sent are
cancelled, labels on their posts (and imported labels with the same text) are
deleted, and the mails and digests that quoted their posts have those words
replaced. Case rows, times, categories and the rollups stay: figures do not
change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from social_care import audit, lifecycle
from social_care.compliance import copies, scrubbing
from social_care.storage.tables import (
    Author,
    Case,
    CaseEvent,
    Classification,
    CsatResponse,
    Mention,
    OutboxEntry,
    TriageLabel,
)

ERASED_WORDS = "[erased]"
# The events' details that may carry what a person or the customer wrote.
WORDY_DETAILS = ("text", "comment", "note", "draft", "reason")
UNSENT = ("pending", "failed")
UNSETTLED = ("sending", "unknown")


class UnknownPerson(LookupError):
    """Nobody with that handle is kept on that platform."""


@dataclass
class Erased:
    authors: int = 0
    posts: int = 0
    cases: int = 0
    replies: int = 0
    labels: int = 0
    mails: int = 0
    digests: int = 0
    kept_ids: int = 0  # authors whose platform id stays, so that "stop" keeps holding
    subject: str = ""

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in vars(self).items() if isinstance(value, int)}


@dataclass
class Found:
    platform: str
    authors: list[Author] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [author.id for author in self.authors if author.id is not None]

    @property
    def subject(self) -> str:
        """How the audit log names them: by our row ids, never their handle."""
        return f"{self.platform} author " + ", ".join(f"#{author_id}" for author_id in self.ids)


def bare(handle: str) -> str:
    handle = handle.strip()
    for prefix in ("@", "u/", "/u/"):
        handle = handle.removeprefix(prefix)
    return handle.lower()


def find(session: Session, platform: str, handle: str) -> Found:
    """The authors kept under ``handle`` on ``platform`` (stored as ``@name`` on X, ``name`` on
    Reddit: either way matches), or under that platform id when no handle does (an author whose
    profile was blanked is still found by it); :class:`UnknownPerson` when none is."""
    wanted = bare(handle)
    if not wanted:
        raise UnknownPerson("a handle is needed")
    platform = platform.strip().lower()
    stored = func.lower(col(Author.handle))
    by_handle = select(Author).where(
        col(Author.platform) == platform, stored.in_([wanted, f"@{wanted}", f"u/{wanted}"])
    )
    authors = list(session.exec(by_handle.order_by(col(Author.id))))
    if not authors:
        by_id = select(Author).where(
            col(Author.platform) == platform, col(Author.external_id) == handle.strip()
        )
        authors = list(session.exec(by_id))
    if not authors:
        raise UnknownPerson(f"nobody with the handle {handle!r} is kept on {platform}")
    return Found(platform, authors)


def _their_cases(session: Session, author_ids: Sequence[int]) -> list[Case]:
    posted_in = select(col(Mention.case_id)).where(
        col(Mention.author_id).in_(author_ids), col(Mention.case_id).is_not(None)
    )
    return list(
        session.exec(
            select(Case)
            .where(or_(col(Case.author_id).in_(author_ids), col(Case.id).in_(posted_in)))
            .order_by(col(Case.id))
        )
    )


def export(
    session: Session,
    found: Found,
    *,
    at: datetime,
    actor: str,
    employee_id: int | None = None,
    address: str = "",
) -> dict[str, Any]:
    """Everything kept about the person, as plain JSON data; the export is audited (the caller commits)."""
    ids = found.ids
    posts = list(
        session.exec(select(Mention).where(col(Mention.author_id).in_(ids)).order_by(col(Mention.posted_at)))
    )
    post_ids = [post.id for post in posts if post.id is not None]
    verdicts = {
        verdict.mention_id: verdict
        for verdict in session.exec(
            select(Classification).where(
                col(Classification.mention_id).in_(post_ids), col(Classification.current)
            )
        )
    }
    cases = _their_cases(session, ids)
    case_ids = [case.id for case in cases if case.id is not None]
    references = {case.id: case.reference for case in cases}
    data: dict[str, Any] = {
        "exported_at": at.isoformat(),
        "platform": found.platform,
        "profiles": [_profile(author) for author in found.authors],
        "posts": [_post(post, verdicts.get(post.id), references.get(post.case_id)) for post in posts],
        "cases": [_case(session, case) for case in cases],
        "labels": [
            _label(label, references)
            for label in session.exec(
                select(TriageLabel)
                .where(or_(col(TriageLabel.case_id).in_(case_ids), col(TriageLabel.mention_id).in_(post_ids)))
                .order_by(col(TriageLabel.id))
            )
        ],
    }
    audit.record(
        session,
        audit.PERSON_EXPORTED,
        at=at,
        actor=actor,
        employee_id=employee_id,
        subject=found.subject,
        address=address,
        posts=len(posts),
        cases=len(cases),
    )
    return data


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _profile(author: Author) -> dict[str, Any]:
    return {
        "platform_id": author.external_id,
        "handle": author.handle,
        "name": author.name,
        "followers": author.followers,
        "blocked": author.blocked,
        "asked_us_to_stop_at": _when(author.opted_out_at),
    }


def _post(post: Mention, verdict: Classification | None, case: str | None) -> dict[str, Any]:
    return {
        "platform_id": post.external_id,
        "source": post.source_id,
        "url": post.url,
        "text": post.text,
        "language": post.language,
        "posted_at": _when(post.posted_at),
        "read_at": _when(post.fetched_at),
        "addressed_us": post.direct,
        "removed": post.removed or None,
        "case": case,
        "triage": None
        if verdict is None
        else {
            "category": verdict.category,
            "cluster": verdict.cluster,
            "priority": verdict.priority,
            "sentiment": verdict.sentiment,
            "decided_by": verdict.decided_by,
            "reasons": verdict.reasons,
        },
        "platform_payload": post.raw,
    }


def _case(session: Session, case: Case) -> dict[str, Any]:
    events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id)))
    replies = session.exec(
        select(OutboxEntry).where(OutboxEntry.case_id == case.id).order_by(col(OutboxEntry.id))
    )
    survey = session.exec(select(CsatResponse).where(CsatResponse.case_id == case.id)).first()
    times = ("opened_at", "acknowledged_at", "assigned_at", "first_response_at", "resolved_at", "reopened_at")
    return {
        "reference": case.reference,
        "status": case.status,
        "category": case.category,
        "cluster": case.cluster,
        "priority": case.priority,
        "language": case.language,
        "brand": case.brand,
        "product": case.product,
        **{name: _when(getattr(case, name)) for name in times},
        "events": [
            {"kind": event.kind, "at": _when(event.at), "by": event.actor, "detail": event.detail}
            for event in events
        ],
        "our_replies": [
            {
                "purpose": reply.purpose,
                "text": reply.text,
                "state": reply.state,
                "sent_at": _when(reply.sent_at),
            }
            for reply in replies
        ],
        "survey": None
        if survey is None
        else {"score": survey.score, "comment": survey.comment, "answered_at": _when(survey.answered_at)},
    }


def _label(label: TriageLabel, references: dict[int | None, str]) -> dict[str, Any]:
    return {
        "case": references.get(label.case_id),
        "category": label.category,
        "cluster": label.cluster,
        "priority": label.priority,
        "reason": label.reason,
        "at": _when(label.at),
    }


def forget(
    session: Session,
    found: Found,
    *,
    at: datetime,
    actor: str,
    employee_id: int | None = None,
    address: str = "",
) -> Erased:
    """Erase the person's content and profile, keeping the anonymised figures; audited (the caller
    commits, so the erasure and its record land together)."""
    ids = found.ids
    erased = Erased(subject=found.subject)
    posts = session.execute(
        select(col(Mention.id), col(Mention.text), col(Mention.posted_at)).where(
            col(Mention.author_id).in_(ids)
        )
    ).all()
    post_ids = [post_id for post_id, _, _ in posts]
    names = [value for author in found.authors for value in (author.name, author.handle, f"@{author.handle}")]
    words = copies.words_of((text for _, text, _ in posts), names)
    cases = _their_cases(session, ids)
    case_ids = [case.id for case in cases if case.id is not None]
    erased.labels = _delete_labels(session, case_ids, post_ids, [text for _, text, _ in posts])
    if posts:
        # First the copies that name them (their posts' words are found there before being blanked).
        times = [posted_at for _, _, posted_at in posts]
        erased.digests, erased.mails = copies.scrub_copies(
            session, words, ERASED_WORDS, first=min(times), last=max(times)
        )
    erased.posts = len(scrubbing.scrub_posts(session, post_ids, why=scrubbing.ERASED, at=at, actor=actor))
    erased.cases = len(case_ids)
    if case_ids:
        erased.replies = _blank_replies(session, case_ids)
        _blank_case_words(session, cases)
    erased.authors = scrubbing.scrub_profiles(session, ids, at=at)
    for author in found.authors:
        if author.blocked or author.opted_out_at is not None:
            erased.kept_ids += 1
            continue
        session.execute(
            update(Author).where(col(Author.id) == author.id).values(external_id=f"erased:{author.id}")
        )
    audit.record(
        session,
        audit.PERSON_FORGOTTEN,
        at=at,
        actor=actor,
        employee_id=employee_id,
        subject=found.subject,
        address=address,
        **{name: value for name, value in erased.counts().items() if value},
    )
    return erased


def _delete_labels(session: Session, case_ids: list[int], post_ids: list[int], texts: list[str]) -> int:
    conditions = [col(TriageLabel.case_id).in_(case_ids), col(TriageLabel.mention_id).in_(post_ids)]
    kept_texts = [text for text in texts if text]
    if kept_texts:
        conditions.append(col(TriageLabel.text).in_(kept_texts))
    result = session.execute(delete(TriageLabel).where(or_(*conditions)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _blank_replies(session: Session, case_ids: list[int]) -> int:
    """Our replies greet them by name and answer their words: blanked; those not sent are cancelled.

    A reply being sent, or whose sending is still to be settled with the platform, keeps its
    text: the outbox must be able to tell whether it went out (and blanking it could post an
    empty reply).
    """
    mine = col(OutboxEntry.case_id).in_(case_ids)
    session.execute(
        update(OutboxEntry)
        .where(mine, col(OutboxEntry.state).in_(UNSENT))
        .values(state=lifecycle.CANCELLED, last_error="cancelled: the person asked to be forgotten")
    )
    result = session.execute(
        update(OutboxEntry).where(mine, col(OutboxEntry.state).not_in(UNSETTLED)).values(text="")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _blank_case_words(session: Session, cases: list[Case]) -> None:
    case_ids = [case.id for case in cases]
    session.execute(update(Case).where(col(Case.id).in_(case_ids)).values(suggested_reply=""))
    for case in cases:
        session.execute(update(Case).where(col(Case.id) == case.id).values(thread_key=f"erased:{case.id}"))
    session.execute(update(CsatResponse).where(col(CsatResponse.case_id).in_(case_ids)).values(comment=""))
    events = session.execute(
        select(col(CaseEvent.id), col(CaseEvent.detail)).where(col(CaseEvent.case_id).in_(case_ids))
    ).all()
    for event_id, detail in events:
        if any(key in detail for key in WORDY_DETAILS):
            blank = {key: ERASED_WORDS if key in WORDY_DETAILS else value for key, value in detail.items()}
            session.execute(update(CaseEvent).where(col(CaseEvent.id) == event_id).values(detail=blank))
