"""Automatic acknowledgements, sent only where the platform and our policy allow.

Each refusal has a reason that is recorded on the case. When the only obstacle
is the platform's rule (on X, a post that does not address the brand's account),
the acknowledgement is kept as a suggested reply for a person to send.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from connectors.base import Connector
from responders.replies import ReplyRenderer, describe_due, describe_window, greeting_name
from responders.reply_limits import NAME_MAX_LENGTH
from social_care import events, lifecycle
from social_care.cases import customer_time
from social_care.config.models import AcknowledgementPolicy, Config, Source
from social_care.crisis import current_crisis
from social_care.sla import calendar_for, policy_for, response_window
from social_care.storage.tables import Author, Case, Mention, OutboxEntry, saved_id
from social_care.switches import current_pause
from social_care.text import fold, tokenize
from social_care.watchlist import bare_handle, own_handles

PURPOSE = "acknowledgement"
CRISIS_TEMPLATE = "crisis"  # replaces the acknowledgement's wording while a crisis lasts
OPT_OUT_MAX_WORDS = 3
# Past the window by more than this, the promise names the time instead (business hours at work).
_SLACK = timedelta(minutes=1)
# How posts name an account: "@name" (X and most platforms), "u/name" or "/u/name" (Reddit).
_HANDLE = re.compile(r"(?<![\w/])(?:@|/?u/)[\w-]+", re.IGNORECASE)


@dataclass(frozen=True)
class Subject:
    """The case being acknowledged, the post that opened it, and where it came from."""

    case: Case
    mention: Mention
    author: Author
    source: Source
    connector: type[Connector]


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str
    suggest: bool = False


def idempotency_key(case: Case, purpose: str) -> str:
    return f"case:{case.id}:{purpose}"


def is_opt_out(text: str, stop_words: list[str]) -> bool:
    """A short post that says "stop" (or "basta") to us: no more automatic replies.

    The account it is said to may stand before or after the word, named the
    platform's way ("@acme stop", "stop u/acme_care", "/u/acme_care basta").
    """
    words = tokenize(_HANDLE.sub(" ", text)).words
    return bool(words) and len(words) <= OPT_OUT_MAX_WORDS and words[0] in {fold(word) for word in stop_words}


class Acknowledger:
    def __init__(self, config: Config, renderer: ReplyRenderer) -> None:
        self._config = config
        self._renderer = renderer
        self._own_handles = own_handles(config)
        self._blocked = {
            name for handle in config.acknowledgement.blocked_handles if (name := bare_handle(handle))
        }

    def acknowledge(
        self, session: Session, subject: Subject, now: datetime, *, joining: bool = False
    ) -> Decision:
        """Queue the acknowledgement, keep it as a suggestion, or record why not.

        For a post ``joining`` a case that is already open, only what changes is recorded:
        an acknowledgement queued, or a first suggestion; its refusals were recorded when
        the case opened, and repeating them for every later post would bury the history.
        """
        case = subject.case
        decision = self.decide(session, subject, now)
        quiet = joining and not (decision.send or (decision.suggest and not case.suggested_reply))
        if quiet:
            return decision
        if not (decision.send or decision.suggest):
            events.record(session, case, "acknowledgement_skipped", at=now, reason=decision.reason)
            return decision
        crisis = current_crisis(session) is not None
        text = self._render(subject, template=CRISIS_TEMPLATE if crisis else PURPOSE, now=now)
        if decision.suggest:
            case.suggested_reply = text
            events.record(session, case, "acknowledgement_suggested", at=now, reason=decision.reason)
            return decision
        state = "dry_run" if self._config.acknowledgement.dry_run else "pending"
        session.add(
            OutboxEntry(
                idempotency_key=idempotency_key(case, PURPOSE),
                case_id=saved_id(case),
                source_id=subject.source.id,
                purpose=PURPOSE,
                in_reply_to=subject.mention.external_id,
                text=text,
                state=state,
                created_at=now,
                next_attempt_at=now,
            )
        )
        paused = current_pause(session) is not None
        events.record(
            session,
            case,
            "acknowledgement_queued",
            at=now,
            dry_run=state == "dry_run",
            held=paused,
            crisis=crisis,
        )
        return Decision(True, "held until automatic replies resume") if paused else decision

    def decide(self, session: Session, subject: Subject, now: datetime) -> Decision:
        case, mention, author, source, connector = (
            subject.case,
            subject.mention,
            subject.author,
            subject.source,
            subject.connector,
        )
        policy = self._config.acknowledgement
        refusals = (
            (not policy.enabled, "automatic acknowledgements are switched off"),
            (case.category not in policy.categories, f"{case.category} is not acknowledged automatically"),
            (already_acknowledged(session, case), "this case was already acknowledged"),
            (bool(unwanted := lifecycle.automatic_reply_unwanted(case)), unwanted),
            (bare_handle(author.handle) in self._own_handles, "the author is one of our accounts"),
            (author.blocked or bare_handle(author.handle) in self._blocked, "the author is blocked"),
            (author.opted_out_at is not None, "the author asked for no automatic replies"),
            (
                not (source.auto_reply and connector.auto_reply_allowed),
                "automatic replies are off for this source",
            ),
        )
        for refused, reason in refusals:
            if refused:
                return Decision(False, reason)
        if connector.auto_reply_requires_direct and not mention.direct:
            return Decision(False, "the post does not address our account", suggest=True)
        if now - customer_time(mention) > timedelta(minutes=policy.max_post_age_minutes):
            reason = f"the post is older than {policy.max_post_age_minutes} minutes: a person answers it"
            return Decision(False, reason, suggest=True)
        if _recently_acknowledged(session, author, now - timedelta(minutes=policy.author_cooldown_minutes)):
            return Decision(False, "the author was acknowledged recently", suggest=True)
        if _sent_last_hour(session, source.id, now) >= policy.hourly_cap_per_source:
            return Decision(False, "this source reached its hourly cap", suggest=True)
        return Decision(True, "allowed")

    def _render(self, subject: Subject, *, template: str, now: datetime) -> str:
        case = subject.case
        return self._renderer.render(
            platform=subject.mention.platform,
            purpose=template,
            category=case.category,
            language=reply_language(case),
            max_length=subject.connector.reply_max_length,
            values=reply_values(self._config, case, subject.author, now),
        )


def reply_language(case: Case) -> str:
    """The language we answer ``case`` in: its own when we write it, else English."""
    return case.language if case.language in {"en", "it"} else "en"


def reply_values(config: Config, case: Case, author: Author, now: datetime) -> dict[str, str]:
    """The variables of a reply template (acknowledgements, saved replies): the stranger's name only
    as :func:`greeting_name` allows it."""
    return {
        "name": greeting_name(author.name, author.handle, max_length=NAME_MAX_LENGTH),
        "product": case.product,
        "reference": case.reference,
        "window": _promise(config, case, reply_language(case), now),
    }


def _promise(config: Config, case: Case, language: str, now: datetime) -> str:
    """When a person will answer: the window, or its end when business hours push it further."""
    policy = policy_for(config, case.category, case.priority)
    window = response_window(policy)
    due = case.response_due_at
    if policy is not None and window is not None and due is not None and due - now > window + _SLACK:
        return describe_due(due, now, calendar_for(config, policy).zone, language)
    return describe_window(window, language)


def note_opt_out(
    author: Author, mention: Mention, policy: AcknowledgementPolicy, ours: Collection[str], now: datetime
) -> bool:
    """Record that ``author`` asked us for no more automatic replies; whether they did.

    Only a post said to us counts: one that addresses our account (a reply to us, a
    mention) or names one of ``ours``. "@bob stop it" is not an opt-out, and the
    opt-out lasts.
    """
    said_to_us = mention.direct or any(bare_handle(name) in ours for name in _HANDLE.findall(mention.text))
    if not (said_to_us and is_opt_out(mention.text, policy.stop_words)):
        return False
    author.opted_out_at = author.opted_out_at or now
    return True


def already_acknowledged(session: Session, case: Case) -> bool:
    """Whether an automatic acknowledgement was ever queued (or sent) for ``case``: once per case."""
    key = idempotency_key(case, PURPOSE)
    return session.exec(select(OutboxEntry.id).where(OutboxEntry.idempotency_key == key)).first() is not None


def _recently_acknowledged(session: Session, author: Author, since: datetime) -> bool:
    statement = (
        select(OutboxEntry.id)
        .join(Case, col(Case.id) == col(OutboxEntry.case_id))
        .where(Case.author_id == author.id, OutboxEntry.purpose == PURPOSE, OutboxEntry.created_at >= since)
    )
    return session.exec(statement).first() is not None


def _sent_last_hour(session: Session, source_id: str, now: datetime) -> int:
    statement = select(func.count()).where(
        OutboxEntry.source_id == source_id,
        OutboxEntry.purpose == PURPOSE,
        OutboxEntry.created_at >= now - timedelta(hours=1),
    )
    return session.exec(statement).one()
