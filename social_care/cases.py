"""Threading mentions into cases, the unit of work.

A case is one customer's: a mention joins its author's case in the same
conversation (the post it answers, or the thread it is in); failing that, an
open case of the same author on the same source that was active within the
threading window; otherwise it opens a new case. A second person writing in a
thread we answered is a customer of their own, with a case of their own. A new
mention on a resolved (or dismissed) case reopens it, and a mention on a case
waiting on the customer starts its reply clock again. Retweets never reach here.

The customer's clocks start when they wrote, by the platform's time (a post
fetched five minutes late has waited five minutes already), or when we fetched
it if the platform's time is in the future.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from social_care import events, lifecycle
from social_care.case_states import OPEN_STATES
from social_care.classify import Verdict
from social_care.storage.tables import Case, Mention

_SEVERITY = {"other": 0, "praise": 1, "inquiry": 2, "complaint": 3}
_PRIORITY = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


def thread_into_case(
    session: Session,
    mention: Mention,
    verdict: Verdict,
    *,
    brand: str,
    product: str,
    now: datetime,
    window: timedelta,
) -> tuple[Case, bool]:
    """The case ``mention`` belongs to, and whether it was opened just now."""
    case = _conversation_case(session, mention) or _recent_case(session, mention, now - window)
    if case is None:
        case = _open(session, mention, verdict, brand=brand, product=product, now=now)
        return case, True
    mention.case_id = case.id
    session.add(mention)
    _escalate(case, verdict, product)
    lifecycle.customer_wrote(session, case, now, mention.id, wrote_at=customer_time(mention))
    return case, False


def customer_time(mention: Mention) -> datetime:
    """When the customer wrote, as far as we can trust the platform: never later than we fetched it."""
    return min(mention.posted_at, mention.fetched_at)


def _conversation_case(session: Session, mention: Mention) -> Case | None:
    keys = [key for key in (mention.parent_id, mention.thread_id) if key]
    if not keys:
        return None
    same_conversation: ColumnElement[bool] = col(Mention.external_id).in_(keys)
    if mention.thread_id:
        same_conversation = or_(same_conversation, col(Mention.thread_id) == mention.thread_id)
    statement = (
        select(Case)
        .join(Mention, col(Mention.case_id) == col(Case.id))
        .where(Mention.platform == mention.platform, Case.author_id == mention.author_id, same_conversation)
        .order_by(col(Case.id).desc())
    )
    return session.exec(statement).first()


def _recent_case(session: Session, mention: Mention, since: datetime) -> Case | None:
    statement = (
        select(Case)
        .where(
            Case.author_id == mention.author_id,
            Case.source_id == mention.source_id,
            col(Case.status).in_(OPEN_STATES),
            Case.last_activity_at >= since,
        )
        .order_by(col(Case.last_activity_at).desc())
    )
    return session.exec(statement).first()


def _open(
    session: Session, mention: Mention, verdict: Verdict, *, brand: str, product: str, now: datetime
) -> Case:
    wrote_at = customer_time(mention)
    case = Case(
        source_id=mention.source_id,
        platform=mention.platform,
        author_id=mention.author_id,
        thread_key=mention.thread_id or mention.external_id,
        category=verdict.category,
        cluster=verdict.cluster,
        priority=verdict.priority,
        language=verdict.language,
        brand=brand,
        product=product,
        opened_at=wrote_at,
        last_activity_at=now,
        awaiting_reply_since=wrote_at,
    )
    session.add(case)
    session.flush()
    mention.case_id = case.id
    session.add(mention)
    events.record(
        session,
        case,
        "opened",
        at=wrote_at,
        to_status="new",
        mention_id=mention.id,
        fetched_at=now.isoformat(),
    )
    return case


def _escalate(case: Case, verdict: Verdict, product: str) -> None:
    """A case is as serious as its most serious mention."""
    if _SEVERITY[verdict.category] > _SEVERITY[case.category]:
        case.category, case.cluster = verdict.category, verdict.cluster
    if _PRIORITY[verdict.priority] > _PRIORITY[case.priority]:
        case.priority = verdict.priority
    case.product = case.product or product
