"""Cases' histories read in bulk, as plain rows: what their shares of the rollups are made of.

A few statements for a whole batch of cases (their rows, events, posts with
verdicts and products, survey answers), and no ORM object built for them: a
rebuild reads every event there is, and a sweep changes a thousand cases in
one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from social_care.metrics.contributions import CaseHistory, MentionFacts
from social_care.storage.tables import Case, CaseEvent, Classification, CsatResponse, Mention, TermMatch

_CASES = Case.__table__.columns  # type: ignore[attr-defined]
_EVENTS = CaseEvent.__table__.columns  # type: ignore[attr-defined]


def case_rows(session: Session, case_ids: Collection[int]) -> list[Row[Any]]:
    return list(session.execute(sql_select(*_CASES).where(col(Case.id).in_(list(case_ids)))).all())


def cases_after(session: Session, last: int, size: int) -> list[Row[Any]]:
    """The next ``size`` cases by id after ``last``: a rebuild's batches."""
    statement = sql_select(*_CASES).where(col(Case.id) > last).order_by(col(Case.id)).limit(size)
    return list(session.execute(statement).all())


def histories(session: Session, cases: Sequence[Any]) -> dict[int, CaseHistory]:
    """Each case's history, by case id."""
    ids = [case.id for case in cases]
    events: dict[int, list[Row[Any]]] = defaultdict(list)
    statement = (
        sql_select(*_EVENTS)
        .where(col(CaseEvent.case_id).in_(ids))
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    )
    for event in session.execute(statement):
        events[event.case_id].append(event)
    csat: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    answers = sql_select(
        col(CsatResponse.case_id), col(CsatResponse.answered_at), col(CsatResponse.score)
    ).where(col(CsatResponse.case_id).in_(ids))
    for case_id, answered_at, score in session.execute(answers):
        csat[case_id].append((answered_at, score))
    facts = _mention_facts(session, cases)
    return {case.id: CaseHistory(case, events[case.id], facts[case.id], csat[case.id]) for case in cases}


def _mention_facts(session: Session, cases: Sequence[Any]) -> dict[int, list[MentionFacts]]:
    """Each case's posts, with their own verdict (the case's, where a post has none) and product."""
    by_id = {case.id: case for case in cases}
    rows = session.execute(
        sql_select(
            col(Mention.id),
            col(Mention.case_id),
            col(Mention.posted_at),
            col(Mention.fetched_at),
            col(Classification.category),
            col(Classification.cluster),
            col(Classification.language),
        )
        .outerjoin(
            Classification, (col(Classification.mention_id) == col(Mention.id)) & col(Classification.current)
        )
        .where(col(Mention.case_id).in_(list(by_id)))
        .order_by(col(Mention.id))
    ).all()
    products: dict[int, str] = dict(
        session.execute(
            sql_select(col(TermMatch.mention_id), col(TermMatch.product))
            .join(Mention, col(Mention.id) == col(TermMatch.mention_id))
            .where(col(Mention.case_id).in_(list(by_id)), col(TermMatch.product) != "")
            .order_by(col(TermMatch.id).desc())
        ).all()
    )
    facts: dict[int, list[MentionFacts]] = defaultdict(list)
    for mention_id, case_id, posted_at, fetched_at, category, cluster, language in rows:
        case = by_id[case_id]
        facts[case_id].append(
            MentionFacts(
                mention_id=mention_id,
                wrote_at=min(posted_at, fetched_at),
                category=category or case.category,
                cluster=cluster or case.cluster,
                product=products.get(mention_id, case.product),
                language=language or case.language,
            )
        )
    return facts
