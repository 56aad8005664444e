"""Hourly rollups of the service and reputation figures, kept current as cases change.

Events stay the truth. Each case's share of the rollups (:mod:`.contributions`)
is recomputed from its events whenever the case changes, in the same
transaction: the share it added before is taken out of the rollup rows and the
new one put in. Any path that records an event (the pipeline, a person in the
inbox, the sweeper, the outbox) or a survey answer keeps the figures current
without knowing it. Reports and digests then read rows per hour, so a figure
over a period costs in proportion to its hours, never to the whole history.

Rows are hours in UTC, so any time zone's days are whole sums of them (zones
whose offset is not a whole hour see their day shifted by that part of an hour).
``social-care rollups rebuild`` recomputes every row from the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Engine, delete, event
from sqlalchemy import select as sql_select  # more columns than sqlmodel's select types
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from social_care.metrics.contributions import (
    CARE,
    MENTIONS,
    CaseHistory,
    MentionFacts,
    Share,
    contributions,
)
from social_care.storage import locks
from social_care.storage.tables import (
    CareRollup,
    Case,
    CaseContribution,
    CaseEvent,
    Classification,
    CsatResponse,
    Mention,
    MentionRollup,
    TermMatch,
)

CARE_DIMS = ("brand", "source_id", "platform", "category", "priority", "team")
MENTION_DIMS = ("brand", "source_id", "platform", "category", "cluster", "product", "language", "team")
TABLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    CARE: (CareRollup, CARE_DIMS),
    MENTIONS: (MentionRollup, MENTION_DIMS),
}
_TOUCHED = "rollups:touched_cases"
REBUILD_BATCH = 500


def case_history(session: Session, case: Case) -> CaseHistory:
    """The case's events, posts and survey answers: all its share is made of."""
    events = session.execute(
        select(CaseEvent)
        .where(col(CaseEvent.case_id) == case.id)
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    ).scalars()
    csat = session.execute(
        select(col(CsatResponse.answered_at), col(CsatResponse.score)).where(
            col(CsatResponse.case_id) == case.id
        )
    ).all()
    return CaseHistory(case, list(events), _mention_facts(session, [case])[case.id or 0], list(csat))


def _mention_facts(session: Session, cases: list[Case]) -> dict[int, list[MentionFacts]]:
    """Each case's posts, with their own verdict (the case's, where a post has none) and product."""
    by_id = {case.id: case for case in cases}
    rows = session.execute(
        sql_select(
            col(Mention.id),
            col(Mention.case_id),
            col(Mention.posted_at),
            col(Mention.fetched_at),
            Classification,
        )
        .outerjoin(
            Classification, (col(Classification.mention_id) == col(Mention.id)) & col(Classification.current)
        )
        .where(col(Mention.case_id).in_(list(by_id)))
    ).all()
    products: dict[int, str] = dict(
        session.execute(
            select(col(TermMatch.mention_id), col(TermMatch.product))
            .join(Mention, col(Mention.id) == col(TermMatch.mention_id))
            .where(col(Mention.case_id).in_(list(by_id)), col(TermMatch.product) != "")
            .order_by(col(TermMatch.id).desc())
        ).all()
    )
    facts: dict[int, list[MentionFacts]] = {case_id or 0: [] for case_id in by_id}
    for mention_id, case_id, posted_at, fetched_at, verdict in rows:
        case = by_id[case_id]
        facts[case_id].append(
            MentionFacts(
                mention_id=mention_id,
                wrote_at=min(posted_at, fetched_at),
                category=verdict.category if verdict else case.category,
                cluster=verdict.cluster if verdict else case.cluster,
                product=products.get(mention_id, case.product),
                language=verdict.language if verdict else case.language,
            )
        )
    return facts


def refresh_case(session: Session, case: Case) -> None:
    """Replace the case's share of the rollups with what its events say now."""
    new = contributions(case_history(session, case))
    stored = session.get(CaseContribution, case.id, with_for_update=True)
    old = [Share.from_json(item) for item in stored.shares] if stored else []
    if [share.as_json() for share in new] == (stored.shares if stored else []):
        return
    _apply(session, old, sign=-1)
    _apply(session, new, sign=+1)
    if stored is None:
        stored = CaseContribution(case_id=case.id or 0)
    stored.shares = [share.as_json() for share in new]
    session.add(stored)


def _apply(session: Session, shares: Iterable[Share], *, sign: int) -> None:
    """Add (or take out) shares from their rows, rows locked in one order so workers never deadlock."""
    for share in sorted(shares, key=lambda share: share.key):
        table, names = TABLES[share.table]
        row = _locked_row(session, table, names, share)
        for name, amount in share.counts.items():
            setattr(row, name, getattr(row, name) + sign * amount)
        for name, values in share.lists.items():
            setattr(row, name, _changed(getattr(row, name), values, sign))
        if share.active:
            row.active = _changed(row.active, share.active, sign)
        if share.sla:
            row.sla = _sla_changed(row.sla, share.sla, sign)
        session.add(row)


def _sla_changed(
    current: dict[str, list[int]], change: dict[str, list[int]], sign: int
) -> dict[str, list[int]]:
    totals = {target: list(pair) for target, pair in current.items()}
    for target, (met, missed) in change.items():
        pair = totals.setdefault(target, [0, 0])
        pair[0] += sign * met
        pair[1] += sign * missed
    return totals


def _changed(current: list[Any], values: list[Any], sign: int) -> list[Any]:
    if sign > 0:
        return [*current, *values]
    remaining = list(current)
    for value in values:
        if value in remaining:
            remaining.remove(value)
    return remaining


def _locked_row(session: Session, table: Any, names: tuple[str, ...], share: Share) -> Any:
    keys = {"hour": share.hour, **dict(zip(names, share.dims, strict=True))}
    unique = {name: value for name, value in keys.items() if name != "platform"}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(**_blank(table), **keys).on_conflict_do_nothing())
    found = select(table).where(*(getattr(table, name) == value for name, value in unique.items()))
    return session.execute(found.with_for_update()).scalar_one()


def _blank(table: Any) -> dict[str, Any]:
    """Zero for every figure of a new row (a plain INSERT knows no model defaults)."""
    blank: dict[str, Any] = {}
    for column in table.__table__.columns:
        if column.name in ("id", "hour", *CARE_DIMS, *MENTION_DIMS):
            continue
        blank[column.name] = {} if column.name == "sla" else [] if isinstance(column.type, JSON) else 0
    return blank


# -- keeping current ----------------------------------------------------------------


@event.listens_for(OrmSession, "before_flush")
def _note_changed_cases(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Remember the cases an event or a survey answer is about to change, for the commit."""
    touched = session.info.setdefault(_TOUCHED, set())
    for item in (*session.new, *session.dirty):
        if isinstance(item, CaseEvent | CsatResponse) and item.case_id is not None:
            touched.add(item.case_id)


@event.listens_for(OrmSession, "before_commit")
def _refresh_changed_cases(session: OrmSession) -> None:
    session.flush()
    touched = session.info.pop(_TOUCHED, set())
    for case_id in sorted(touched):
        case = session.get(Case, case_id)
        if case is not None:
            refresh_case(session, case)  # type: ignore[arg-type]
    session.info.pop(_TOUCHED, None)


@event.listens_for(OrmSession, "after_rollback")
def _forget_changed_cases(session: OrmSession) -> None:
    session.info.pop(_TOUCHED, None)


# -- rebuilding ----------------------------------------------------------------------


def rebuild(engine: Engine, *, batch: int = REBUILD_BATCH, only_if_missing: bool = False) -> int:
    """Recompute every rollup row and every case's share from the events; how many cases.

    With ``only_if_missing`` (at start) it does so only when cases have no shares yet, as after
    the migration that made the rollups; processes starting together take turns.
    """
    rows: dict[tuple[str, str, tuple[str, ...]], Share] = {}
    shares_of: dict[int, list[dict[str, Any]]] = {}
    with Session(engine) as session:
        locks.hold(session, locks.ROLLUPS)
        if only_if_missing and not _missing(session):
            return 0
        for cases in _in_batches(session, batch):
            histories = _histories(session, cases)
            for case in cases:
                shares = contributions(histories[case.id or 0])
                shares_of[case.id or 0] = [share.as_json() for share in shares]
                for share in shares:
                    _merge(rows.setdefault(share.key, Share(share.table, share.hour, share.dims)), share)
        for table in (CareRollup, MentionRollup, CaseContribution):
            session.execute(delete(table))
        _insert(session, rows.values(), shares_of)
        session.commit()
    return len(shares_of)


def _missing(session: Session) -> bool:
    """Whether some case has no share in the rollups (none at all after the migration)."""
    shared = session.exec(select(CaseContribution.case_id).limit(1)).first()
    return shared is None and session.exec(select(Case.id).limit(1)).first() is not None


def _in_batches(session: Session, size: int) -> Iterator[list[Case]]:
    last = 0
    while True:
        cases = list(
            session.execute(
                select(Case).where(col(Case.id) > last).order_by(col(Case.id)).limit(size)
            ).scalars()
        )
        if not cases:
            return
        yield cases
        last = cases[-1].id or last


def _histories(session: Session, cases: list[Case]) -> dict[int, CaseHistory]:
    ids = [case.id for case in cases]
    events: dict[int, list[CaseEvent]] = {case_id or 0: [] for case_id in ids}
    for item in session.execute(
        select(CaseEvent)
        .where(col(CaseEvent.case_id).in_(ids))
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    ).scalars():
        events[item.case_id].append(item)
    csat: dict[int, list[tuple[datetime, int]]] = {case_id or 0: [] for case_id in ids}
    for case_id, answered_at, score in session.execute(
        select(col(CsatResponse.case_id), col(CsatResponse.answered_at), col(CsatResponse.score)).where(
            col(CsatResponse.case_id).in_(ids)
        )
    ).all():
        csat[case_id].append((answered_at, score))
    facts = _mention_facts(session, cases)
    return {
        case.id or 0: CaseHistory(case, events[case.id or 0], facts[case.id or 0], csat[case.id or 0])
        for case in cases
    }


def _merge(total: Share, share: Share) -> None:
    for name, amount in share.counts.items():
        total.counts[name] = total.counts.get(name, 0) + amount
    for name, values in share.lists.items():
        total.lists.setdefault(name, []).extend(values)
    total.active.extend(share.active)
    for target, (met, missed) in share.sla.items():
        pair = total.sla.setdefault(target, [0, 0])
        pair[0] += met
        pair[1] += missed


def _insert(session: Session, rows: Iterable[Share], shares_of: dict[int, list[dict[str, Any]]]) -> None:
    for share in rows:
        table, names = TABLES[share.table]
        values: dict[str, Any] = {
            "hour": share.hour,
            **dict(zip(names, share.dims, strict=True)),
            **share.counts,
        }
        values |= share.lists
        if share.table == CARE:
            values |= {"active": share.active, "sla": share.sla}
        session.add(table(**values))
    for case_id, shares in shares_of.items():
        session.add(CaseContribution(case_id=case_id, shares=shares))
