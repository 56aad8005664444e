"""Recording what happens to a case: the audit trail every metric is computed from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from social_care.metrics import rollups  # keeps the rollups current as cases change
from social_care.storage.tables import Case, CaseEvent

SYSTEM = "system"


def record(
    session: Session,
    case: Case,
    kind: str,
    *,
    at: datetime,
    actor: str = SYSTEM,
    employee_id: int | None = None,
    to_status: str | None = None,
    **detail: Any,
) -> CaseEvent:
    """Add an event, moving the case to ``to_status`` when one is given."""
    assert case.id is not None, "flush the case before recording its events"
    event = CaseEvent(
        case_id=case.id,
        kind=kind,
        actor=actor,
        employee_id=employee_id,
        at=at,
        from_status=case.status if to_status else None,
        to_status=to_status,
        detail=detail,
    )
    if to_status:
        case.status = to_status
    case.last_activity_at = max(case.last_activity_at, at)
    session.add(event)
    session.add(case)
    return event


def record_many(session: Session, happened: list[tuple[Case, str, datetime, dict[str, Any]]]) -> None:
    """Add system events that move no case, in one statement: the sweep's alerts by the thousand.

    Each ``(case, kind, at, detail)`` is recorded as :func:`record` would, without an object
    per event; the rollups hear of the cases all the same.
    """
    rows = []
    for case, kind, at, detail in happened:
        assert case.id is not None, "flush the case before recording its events"
        rows.append({"case_id": case.id, "kind": kind, "actor": SYSTEM, "at": at, "detail": detail})
        case.last_activity_at = max(case.last_activity_at, at)
        session.add(case)
    if rows:
        session.connection().execute(insert(CaseEvent.__table__), rows)  # type: ignore[attr-defined]
        rollups.note_events(session, [(row["case_id"], row["kind"]) for row in rows])
