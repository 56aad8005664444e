"""The moves of a case through its states, each recorded as an event with its actor and time.

new -> acknowledged -> assigned -> responded -> resolved, plus spam and ignored.
A person's reply moves a case to ``responded``: it now waits on the customer,
and its reply clock stops until they write again. Events that meet an SLA
target carry the due time they were measured against, so attainment can be
computed from events alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from social_care import events
from social_care.storage.tables import Case, OutboxEntry, saved_id

EMPLOYEE = "employee"
DISMISSALS = ("spam", "ignored")
REPLY, RESOLUTION_REPLY = "reply", "resolution"
_EMPLOYEE_PREFIX = "employee:"


def _measured(due: datetime | None, at: datetime) -> dict[str, Any]:
    return {"due_at": due.isoformat(), "met": at <= due} if due else {}


def customer_wrote(session: Session, case: Case, at: datetime, mention_id: int | None) -> None:
    """A new mention on an existing case: reopen it, or start its reply clock again."""
    events.record(session, case, "mention_added", at=at, mention_id=mention_id)
    if case.awaiting_reply_since is None:
        case.awaiting_reply_since = at
    if case.status in ("resolved", *DISMISSALS):
        case.reopened_at, case.resolved_at = at, None
        events.record(session, case, "reopened", at=at, to_status=_working_status(case))
    elif case.status == "responded":
        events.record(session, case, "customer_replied", at=at, to_status=_working_status(case))


def _working_status(case: Case) -> str:
    if case.assignee_id:
        return "assigned"
    return "acknowledged" if case.acknowledged_at else "new"


def assign(session: Session, case: Case, at: datetime, *, team: str, employee_id: int, rule: str) -> None:
    case.team, case.assignee_id, case.assigned_at = team, employee_id, at
    to_status = "assigned" if case.status in ("new", "acknowledged") else None
    events.record(
        session, case, "assigned", at=at, to_status=to_status, team=team, rule=rule, assignee_id=employee_id
    )


def acknowledged(session: Session, case: Case, at: datetime, *, outbox_id: int | None) -> None:
    """Our acknowledgement reached the customer: the acknowledgement clock stops."""
    if case.acknowledged_at is not None:
        return
    detail = _measured(case.ack_due_at, at)
    case.acknowledged_at, case.ack_due_at = at, None
    to_status = "acknowledged" if case.status == "new" else None
    events.record(session, case, "acknowledged", at=at, to_status=to_status, outbox_id=outbox_id, **detail)


def responded(session: Session, case: Case, at: datetime, *, employee_id: int, outbox_id: int | None) -> None:
    """A person's reply reached the customer: the case now waits on them."""
    first = case.first_response_at is None
    detail = _measured(case.response_due_at, at)
    if case.awaiting_reply_since:
        detail["waiting_since"] = case.awaiting_reply_since.isoformat()
    if first:
        case.first_response_at = at
    if case.acknowledged_at is None:
        detail["acknowledgement"] = _measured(case.ack_due_at, at)
        case.acknowledged_at, case.ack_due_at = at, None
    case.awaiting_reply_since = case.response_due_at = None
    to_status = "responded" if case.status not in ("resolved", *DISMISSALS) else None
    events.record(
        session,
        case,
        "responded",
        at=at,
        actor=EMPLOYEE,
        employee_id=employee_id,
        to_status=to_status,
        first=first,
        outbox_id=outbox_id,
        **detail,
    )


def resolve(session: Session, case: Case, at: datetime, *, employee_id: int | None = None) -> None:
    """Close the case as done; a new mention reopens it."""
    if case.status == "resolved":
        return
    detail = _measured(case.resolution_due_at, at)
    case.resolved_at, case.awaiting_reply_since = at, None
    case.ack_due_at = case.response_due_at = case.resolution_due_at = case.sla_next_alert_at = None
    actor = EMPLOYEE if employee_id else events.SYSTEM
    events.record(
        session, case, "resolved", at=at, actor=actor, employee_id=employee_id, to_status="resolved", **detail
    )


def dismiss(session: Session, case: Case, reason: str, at: datetime, *, employee_id: int) -> None:
    """Mark the case spam or ignored: no clock runs on it and it leaves the backlog."""
    if reason not in DISMISSALS:
        raise ValueError(f"a case is dismissed as one of {', '.join(DISMISSALS)}, not {reason!r}")
    case.ack_due_at = case.response_due_at = case.resolution_due_at = case.sla_next_alert_at = None
    case.awaiting_reply_since = None
    events.record(
        session, case, f"marked_{reason}", at=at, actor=EMPLOYEE, employee_id=employee_id, to_status=reason
    )


def queue_reply(
    session: Session,
    case: Case,
    text: str,
    at: datetime,
    *,
    employee_id: int,
    in_reply_to: str,
    resolves: bool,
) -> OutboxEntry:
    """A person's reply, sent through the outbox; ``resolves`` closes the case once it is sent."""
    sequence = session.exec(
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.case_id == case.id)
    ).one()
    purpose = RESOLUTION_REPLY if resolves else REPLY
    entry = OutboxEntry(
        idempotency_key=f"case:{case.id}:{purpose}:{sequence + 1}",
        case_id=saved_id(case),
        source_id=case.source_id,
        purpose=purpose,
        in_reply_to=in_reply_to,
        text=text,
        created_by=f"{_EMPLOYEE_PREFIX}{employee_id}",
        created_at=at,
        next_attempt_at=at,
    )
    session.add(entry)
    session.flush()
    events.record(
        session, case, "reply_queued", at=at, actor=EMPLOYEE, employee_id=employee_id, outbox_id=entry.id
    )
    return entry


def reply_sent(session: Session, entry: OutboxEntry, at: datetime) -> None:
    """Move the case on when one of our replies has reached the platform."""
    case = session.get_one(Case, entry.case_id)
    if entry.purpose == "acknowledgement":
        acknowledged(session, case, at, outbox_id=entry.id)
        return
    if entry.created_by.startswith(_EMPLOYEE_PREFIX):
        employee_id = int(entry.created_by.removeprefix(_EMPLOYEE_PREFIX))
        responded(session, case, at, employee_id=employee_id, outbox_id=entry.id)
        if entry.purpose == RESOLUTION_REPLY:
            resolve(session, case, at, employee_id=employee_id)
