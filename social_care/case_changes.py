"""What changed on a case since a person looked at it: the guard against two people answering one customer.

A page carries the id of the latest change it showed. An action sent from it (a
reply, a correction, a move) is refused when someone else, or the customer, changed
the case since: a new post, another person's reply, a reassignment, a correction, a
closing. The person's own changes, notes and the clocks' alerts do not count.

The check and the action run in one transaction with the case's row locked
(PostgreSQL; SQLite transactions are taken one at a time), so of two replies sent
at once the second sees the first.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from social_care.storage.tables import Case, CaseEvent

MATERIAL = frozenset(
    {
        "opened",
        "mention_added",
        "customer_replied",
        "reopened",
        "reply_queued",
        "responded",
        "assigned",
        "reassigned",
        "returned_to_team",
        "queued_for_team",
        "reclassified",
        "resolved",
        "marked_spam",
        "marked_ignored",
    }
)


def latest_change(session: Session, case_id: int) -> int:
    """The id of the case's latest change that matters to someone about to act on it (0: none)."""
    statement = select(func.max(CaseEvent.id)).where(
        CaseEvent.case_id == case_id, col(CaseEvent.kind).in_(MATERIAL)
    )
    return session.exec(statement).one() or 0


def locked_case(session: Session, case_id: int) -> Case | None:
    """The case, its row locked for the rest of the transaction (PostgreSQL) and read afresh."""
    return session.get(Case, case_id, with_for_update=True, populate_existing=True)


def changes_since(session: Session, case_id: int, seen: int, *, employee_id: int) -> list[CaseEvent]:
    """The changes to the case after the one numbered ``seen`` that ``employee_id`` did not make."""
    statement = (
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case_id,
            CaseEvent.id > seen,
            col(CaseEvent.kind).in_(MATERIAL),
            or_(col(CaseEvent.employee_id).is_(None), CaseEvent.employee_id != employee_id),
        )
        .order_by(col(CaseEvent.id))
    )
    return list(session.exec(statement))
