"""What "each post processed exactly once" means, checked in the database after many workers ran."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from social_care.storage.tables import Case, CaseEvent, Classification, Mention, OutboxEntry, TermMatch


def assert_processed_once(engine: Engine, external_ids: Collection[str]) -> None:
    """Every post stored once and processed once: one verdict, one set of term matches, and one
    customer-message event ("opened" or "mention_added") each."""
    with Session(engine) as session:
        mentions = session.exec(select(Mention)).all()
        assert sorted(mention.external_id for mention in mentions) == sorted(external_ids)
        assert all(mention.processed_at for mention in mentions)
        current = Counter(session.exec(select(Classification.mention_id).where(Classification.current)))
        assert len(current) == len(mentions) and set(current.values()) == {1}, "one current verdict each"
        verdicts = session.exec(select(func.count()).select_from(Classification)).one()
        assert verdicts == len(mentions), "each post classified once"
        matches = Counter(session.exec(select(TermMatch.mention_id, TermMatch.term, TermMatch.start)))
        assert set(matches.values()) == {1}, "one set of term matches per post"
        messages = Counter(
            event.detail["mention_id"]
            for event in session.exec(
                select(CaseEvent).where(col(CaseEvent.kind).in_(("opened", "mention_added")))
            )
        )
        assert messages == Counter({mention.id: 1 for mention in mentions}), "one message event per post"


def acknowledgements_per_customer(engine: Engine) -> Counter[int]:
    """How many automatic acknowledgements each author's cases got."""
    with Session(engine) as session:
        authors = session.exec(
            select(Case.author_id)
            .join(OutboxEntry, col(OutboxEntry.case_id) == col(Case.id))
            .where(OutboxEntry.purpose == "acknowledgement")
        )
        return Counter(authors)


def cases_per_customer(engine: Engine) -> Counter[int]:
    with Session(engine) as session:
        return Counter(session.exec(select(Case.author_id)))
