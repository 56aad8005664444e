"""Hourly rollups of the service and reputation figures, kept current as cases change.

Events stay the truth. Each case's share of the rollups (:mod:`.contributions`)
is recomputed from its events whenever the case changes, in the same
transaction: the share it added before is taken out of the rollup rows and the
new one put in. Any path that records an event (the pipeline, a person in the
inbox, the sweeper, the outbox) or a survey answer keeps the figures current
without knowing it. Reports and digests then read rows per hour, so a figure
over a period costs in proportion to its hours, never to the whole history.

All the cases a transaction changed are refreshed together: their histories
read in a few statements, each rollup row they touch locked once (in one
order, so workers never deadlock) and written once.

Rows are hours in UTC, so any time zone's days are whole sums of them (zones
whose offset is not a whole hour see their day shifted by that part of an hour).
``social-care rollups rebuild`` recomputes every row from the events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, bindparam, delete, event, insert
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from social_care.metrics.contributions import CARE, MENTIONS, UNCOUNTED, Share, contributions
from social_care.metrics.histories import case_rows, cases_after, histories
from social_care.storage import locks
from social_care.storage.tables import CareRollup, CaseContribution, CaseEvent, CsatResponse, MentionRollup

CARE_DIMS = ("brand", "source_id", "platform", "category", "priority", "team")
MENTION_DIMS = ("brand", "source_id", "platform", "category", "cluster", "product", "language", "team")
TABLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    CARE: (CareRollup, CARE_DIMS),
    MENTIONS: (MentionRollup, MENTION_DIMS),
}
_TOUCHED = "rollups:touched_cases"
REBUILD_BATCH = 2000
HOUR, DAY = "hour", "day"
Key = tuple[str, str, datetime, tuple[str, ...]]  # table, grain, start, dimensions


@dataclass
class Delta:
    """What one rollup row (an hour's, or a UTC day's) gains and loses in a transaction."""

    table: str
    grain: str
    start: datetime
    dims: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    gained: dict[str, list[Any]] = field(default_factory=dict)  # durations by name, and "active"
    lost: dict[str, list[Any]] = field(default_factory=dict)
    sla: dict[str, list[int]] = field(default_factory=dict)

    def add(self, share: Share, sign: int) -> None:
        for name, amount in share.counts.items():
            self.counts[name] = self.counts.get(name, 0) + sign * amount
        samples = self.gained if sign > 0 else self.lost
        named: list[tuple[str, list[Any]]] = [*share.lists.items(), ("active", share.active)]
        for name, values in named:
            if values:
                samples.setdefault(name, []).extend(values)
        for name, (met, missed) in share.sla.items():
            pair = self.sla.setdefault(name, [0, 0])
            pair[0] += sign * met
            pair[1] += sign * missed


def day_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def refresh_cases(session: Session, case_ids: Collection[int]) -> None:
    """Replace each case's share of the rollups with what its events say now."""
    if not case_ids:
        return
    # Locked first, in order: the histories read next then include whatever another worker
    # committed for these cases while this one waited.
    stored = dict(
        session.execute(
            sql_select(col(CaseContribution.case_id), col(CaseContribution.shares))
            .where(col(CaseContribution.case_id).in_(list(case_ids)))
            .order_by(col(CaseContribution.case_id))
            .with_for_update()
        ).all()
    )
    cases = case_rows(session, case_ids)
    found = histories(session, cases)
    deltas: dict[Key, Delta] = {}
    changed: dict[int, list[dict[str, Any]]] = {}
    for case in cases:
        new = contributions(found[case.id])
        as_json = [share.as_json() for share in new]
        before = stored.get(case.id) or []
        if as_json == before:
            continue
        left = list(before)
        for share, item in zip(new, as_json, strict=True):
            if item in left:
                left.remove(item)  # unchanged: its rows need not be touched
            else:
                _delta(deltas, share, +1)
        for item in left:
            _delta(deltas, Share.from_json(item), -1)
        changed[case.id] = as_json
    _apply(session, deltas)
    _store_shares(session, changed, known=set(stored))


def _delta(deltas: dict[Key, Delta], share: Share, sign: int) -> None:
    """Count ``share`` in its hour's row and in its UTC day's."""
    for grain, start in ((HOUR, share.hour), (DAY, day_of(share.hour))):
        key = (share.table, grain, start, share.dims)
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = Delta(share.table, grain, start, share.dims)
        delta.add(share, sign)


def _store_shares(session: Session, changed: dict[int, list[dict[str, Any]]], *, known: set[int]) -> None:
    fresh = [
        {"case_id": case_id, "shares": shares} for case_id, shares in changed.items() if case_id not in known
    ]
    again = [
        {"case_id": case_id, "shares": shares} for case_id, shares in changed.items() if case_id in known
    ]
    if fresh:
        session.execute(insert(CaseContribution.__table__), fresh)  # type: ignore[attr-defined]
    if again:
        table = CaseContribution.__table__  # type: ignore[attr-defined]
        by_case = table.update().where(table.c.case_id == bindparam("row_id"))
        session.connection().execute(
            by_case.values(shares=bindparam("shares")),
            [{"row_id": row["case_id"], "shares": row["shares"]} for row in again],
        )


def _apply(session: Session, deltas: dict[Key, Delta]) -> None:
    connection = session.connection()
    for name, (table, dims) in TABLES.items():
        mine = [delta for key, delta in sorted(deltas.items()) if key[0] == name]
        if mine:
            _add(connection, table.__table__, dims, mine)


def _add(connection: Connection, table: Table, dims: tuple[str, ...], deltas: list[Delta]) -> None:
    """Add each delta to its row, made where missing.

    The counts are added by the database in one upsert, which also locks the rows in the
    order of ``deltas`` (their keys: workers never deadlock). Samples cannot be added there,
    so the upsert hands back those it locked and they are written again with the change.
    """
    insert_into = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    counts = [
        column.name for column in table.columns if column.name in _blank(table) and column.name != "samples"
    ]
    values = [{**_new_row(table, dims, delta), **delta.counts} for delta in deltas]
    upsert = insert_into(table)
    upsert = upsert.on_conflict_do_update(
        index_elements=[column for column in ("grain", "hour", *dims) if column != "platform"],
        set_={name: table.c[name] + upsert.excluded[name] for name in counts},
    )
    if "samples" not in table.c:
        connection.execute(upsert, values)
        return
    unique = [table.c[column] for column in ("grain", "hour", *dims)]
    returned = connection.execute(upsert.returning(table.c.id, table.c.samples, *unique), values)
    rows = {(row.grain, row.hour, *(getattr(row, dim) for dim in dims)): row for row in returned}
    changes = []
    for delta in deltas:
        if delta.gained or delta.lost or delta.sla:
            row = rows[(delta.grain, delta.start, *delta.dims)]
            changes.append({"row_id": row.id, "samples": _samples(row.samples, delta)})
    if changes:
        by_id = table.update().where(table.c.id == bindparam("row_id"))
        connection.execute(by_id.values(samples=bindparam("samples")), changes)


def _new_row(table: Any, dims: tuple[str, ...], delta: Delta) -> dict[str, Any]:
    return {
        **_blank(table),
        "grain": delta.grain,
        "hour": delta.start,
        **dict(zip(dims, delta.dims, strict=True)),
    }


def _samples(current: dict[str, Any], delta: Delta) -> dict[str, Any]:
    samples = dict(current)
    for name in {*delta.gained, *delta.lost}:
        samples[name] = _without(
            [*samples.get(name, []), *delta.gained.get(name, [])], delta.lost.get(name, [])
        )
    if delta.sla:
        totals = {target: list(pair) for target, pair in samples.get("sla", {}).items()}
        for target, (met, missed) in delta.sla.items():
            pair = totals.setdefault(target, [0, 0])
            pair[0] += met
            pair[1] += missed
        samples["sla"] = totals
    return samples


def _without(values: list[Any], lost: list[Any]) -> list[Any]:
    """``values`` less one occurrence of each of ``lost`` (equal durations stand for each other)."""
    remaining = list(values)
    for value in lost:
        if value in remaining:
            remaining.remove(value)
    return remaining


def _blank(table: Any) -> dict[str, Any]:
    """Zero for every figure of a new row (a plain INSERT knows no model defaults)."""
    blank: dict[str, Any] = {}
    for column in getattr(table, "__table__", table).columns:
        if column.name in ("id", "grain", "hour", *CARE_DIMS, *MENTION_DIMS):
            continue
        blank[column.name] = {} if isinstance(column.type, JSON) else 0
    return blank


# -- keeping current ----------------------------------------------------------------


def note_events(session: OrmSession, events: Iterable[tuple[int, str]]) -> None:
    """Have the commit refresh the cases of these events (case id, kind), written without the ORM."""
    touched = session.info.setdefault(_TOUCHED, set())
    touched.update(case_id for case_id, kind in events if kind not in UNCOUNTED)


@event.listens_for(OrmSession, "before_flush")
def _note_changed_cases(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Remember the cases an event or a survey answer is about to change, for the commit."""
    touched = session.info.setdefault(_TOUCHED, set())
    for item in (*session.new, *session.dirty):
        if isinstance(item, CaseEvent) and item.kind in UNCOUNTED:
            continue
        if isinstance(item, CaseEvent | CsatResponse) and item.case_id is not None:
            touched.add(item.case_id)


@event.listens_for(OrmSession, "before_commit")
def _refresh_changed_cases(session: OrmSession) -> None:
    session.flush()
    touched = session.info.pop(_TOUCHED, set())
    if touched:
        refresh_cases(session, sorted(touched))  # type: ignore[arg-type]
    session.info.pop(_TOUCHED, None)


@event.listens_for(OrmSession, "after_rollback")
def _forget_changed_cases(session: OrmSession) -> None:
    session.info.pop(_TOUCHED, None)


# -- rebuilding ----------------------------------------------------------------------


def rebuild(engine: Engine, *, batch: int = REBUILD_BATCH, only_if_missing: bool = False) -> int:
    """Recompute every rollup row and every case's share from the events; how many cases.

    With ``only_if_missing`` (at start) it does so only when cases have no shares yet, as after
    the migration that made the rollups; processes starting together take turns. It runs in one
    transaction: readers see the old figures until the new ones are complete.
    """
    totals: dict[Key, Delta] = {}
    done = last = 0
    with Session(engine) as session:
        locks.hold(session, locks.ROLLUPS)
        if only_if_missing and not _missing(session):
            return 0
        for table in (CareRollup, MentionRollup, CaseContribution):
            session.execute(delete(table))
        while cases := cases_after(session, last, batch):
            found = histories(session, cases)
            shares = {case.id: contributions(found[case.id]) for case in cases}
            for share in (share for case_shares in shares.values() for share in case_shares):
                _delta(totals, share, +1)
            as_json = {case_id: [share.as_json() for share in mine] for case_id, mine in shares.items()}
            _store_shares(session, as_json, known=set())
            done, last = done + len(cases), cases[-1].id
        _insert_totals(session, totals.values())
        session.commit()
    return done


def _missing(session: Session) -> bool:
    """Whether there are cases and none has a share yet (as right after the migration)."""
    shared = session.execute(sql_select(col(CaseContribution.case_id)).limit(1)).first()
    return shared is None and bool(cases_after(session, 0, 1))


def _insert_totals(session: Session, totals: Iterable[Delta]) -> None:
    for name, (table, dims) in TABLES.items():
        rows = []
        for delta in totals:
            if delta.table != name:
                continue
            row = {**_new_row(table, dims, delta), **delta.counts}
            if name == CARE:
                row["samples"] = _samples({}, delta)
            rows.append(row)
        for start in range(0, len(rows), REBUILD_BATCH):
            session.execute(insert(table.__table__), rows[start : start + REBUILD_BATCH])
