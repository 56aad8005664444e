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

from sqlmodel import Session, col, func, or_, select

from social_care import events
from social_care.case_states import DISMISSALS
from social_care.storage.tables import Case, CaseEvent, Mention, OutboxEntry, saved_id

EMPLOYEE = "employee"
REPLY, RESOLUTION_REPLY = "reply", "resolution"
CANCELLED = "cancelled"
NOTE = "note"
_EMPLOYEE_PREFIX = "employee:"
_UNSENT = ("pending", "failed", "sending", "unknown")


class Refused(Exception):
    """A move the case's state does not allow; the message tells the person who tried why."""


def _measured(due: datetime | None, at: datetime) -> dict[str, Any]:
    return {"due_at": due.isoformat(), "met": at <= due} if due else {}


def customer_wrote(
    session: Session, case: Case, at: datetime, mention_id: int | None, *, wrote_at: datetime | None = None
) -> None:
    """A new mention on an existing case: reopen it, or start its reply clock again.

    The clocks start when the customer wrote (``wrote_at``), but never before the
    case reached its present state: a message written before our reply was sent
    waits from that reply, one written before the case was closed from its closing.
    """
    events.record(session, case, "mention_added", at=at, mention_id=mention_id)
    waiting_since = max(wrote_at or at, _state_since(session, case))
    if case.awaiting_reply_since is None:
        case.awaiting_reply_since = waiting_since
    if case.status in ("resolved", *DISMISSALS):
        case.reopened_at, case.resolved_at = waiting_since, None
        events.record(session, case, "reopened", at=at, to_status=_working_status(case))
    elif case.status == "responded":
        events.record(session, case, "customer_replied", at=at, to_status=_working_status(case))


def automatic_reply_unwanted(case: Case) -> str:
    """Why an automatic reply no longer fits the case, or "": it was closed, or a person answered.

    The acknowledger asks before queuing one; the outbox asks again before sending one whose
    first attempt may or may not have gone out."""
    if case.status in ("resolved", *DISMISSALS):
        return f"the case is {case.status}"
    if case.first_response_at is not None:
        return "a person already answered the customer"
    return ""


def _state_since(session: Session, case: Case) -> datetime:
    """When the case last changed state (its opening at the earliest)."""
    moves = select(func.max(CaseEvent.at)).where(
        CaseEvent.case_id == case.id, col(CaseEvent.to_status).is_not(None)
    )
    return session.exec(moves).one() or case.opened_at


def _working_status(case: Case) -> str:
    if case.assignee_id:
        return "assigned"
    return "acknowledged" if case.acknowledged_at else "new"


def assign(
    session: Session,
    case: Case,
    at: datetime,
    *,
    team: str | None,
    employee_id: int,
    rule: str,
    by: int | None = None,
) -> None:
    """Give the case to ``employee_id``: by routing (``rule`` names why), or by the person ``by``
    (a supervisor may take a case no rule routed: its team stays None)."""
    case.team, case.assignee_id, case.assigned_at = team, employee_id, at
    to_status = "assigned" if case.status in ("new", "acknowledged") else None
    events.record(
        session,
        case,
        "assigned",
        at=at,
        actor=EMPLOYEE if by else events.SYSTEM,
        employee_id=by,
        to_status=to_status,
        team=team,
        rule=rule,
        assignee_id=employee_id,
    )


def release(session: Session, case: Case, at: datetime, *, by: int | None, reason: str) -> None:
    """Take the case from its assignee and leave it in its team's queue, for someone else to take.

    Routing never gives it back to the person it was taken from (see the hand-off's sweep)."""
    previous = case.assignee_id
    case.assignee_id, case.assigned_at = None, None
    to_status = _working_status(case) if case.status == "assigned" else None
    events.record(
        session,
        case,
        "returned_to_team",
        at=at,
        actor=EMPLOYEE if by else events.SYSTEM,
        employee_id=by,
        to_status=to_status,
        reason=reason,
        from_id=previous,
    )


def reopen(session: Session, case: Case, at: datetime, *, employee_id: int, reason: str) -> None:
    """A person opens a resolved, spam or ignored case again (or undoes a dismissal).

    The customer is waiting again if their latest post has had no answer from a person;
    the clocks are the caller's to refresh (they depend on the configuration).
    """
    if case.status not in ("resolved", *DISMISSALS):
        raise Refused(f"{case.reference} is open already.")
    wrote = session.exec(
        select(func.max(Mention.posted_at), func.max(Mention.fetched_at)).where(Mention.case_id == case.id)
    ).one()
    wrote_at = min(moment for moment in wrote if moment is not None) if any(wrote) else None
    answered_at = session.exec(
        select(func.max(CaseEvent.at)).where(CaseEvent.case_id == case.id, CaseEvent.kind == "responded")
    ).one()
    waiting = wrote_at is not None and (answered_at is None or answered_at < wrote_at)
    case.awaiting_reply_since = wrote_at if waiting else None
    case.reopened_at, case.resolved_at = at, None
    to_status = "responded" if answered_at is not None and not waiting else _working_status(case)
    events.record(
        session,
        case,
        "reopened",
        at=at,
        actor=EMPLOYEE,
        employee_id=employee_id,
        to_status=to_status,
        reason=reason,
    )


def add_note(session: Session, case: Case, at: datetime, *, employee_id: int, text: str) -> None:
    """An internal note on the case: for the people on it, never sent to the customer."""
    events.record(session, case, NOTE, at=at, actor=EMPLOYEE, employee_id=employee_id, text=text)


def acknowledged(session: Session, case: Case, at: datetime, *, outbox_id: int | None) -> None:
    """Our acknowledgement reached the customer: the acknowledgement clock stops."""
    if case.acknowledged_at is not None:
        return
    detail = _measured(case.ack_due_at, at)
    case.acknowledged_at, case.ack_due_at = at, None
    to_status = "acknowledged" if case.status == "new" else None
    events.record(session, case, "acknowledged", at=at, to_status=to_status, outbox_id=outbox_id, **detail)


def responded(session: Session, case: Case, at: datetime, *, employee_id: int, outbox_id: int | None) -> None:
    """A person's reply reached the customer: the case now waits on them, and an automatic
    acknowledgement still held (by the kill switch, say) would only arrive after the answer."""
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
    detail |= cancel_automatic_replies(session, case, at, why="answered by a person")
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
    detail |= cancel_automatic_replies(session, case, at, why="resolved")
    case.resolved_at, case.awaiting_reply_since = at, None
    case.ack_due_at = case.response_due_at = case.resolution_due_at = case.sla_next_alert_at = None
    actor = EMPLOYEE if employee_id else events.SYSTEM
    events.record(
        session, case, "resolved", at=at, actor=actor, employee_id=employee_id, to_status="resolved", **detail
    )


def dismiss(session: Session, case: Case, reason: str, at: datetime, *, employee_id: int) -> None:
    """Mark the case spam or ignored: no clock runs on it, it leaves the backlog, and no automatic
    reply still waiting in the outbox (held by the kill switch, say) goes out to it.

    Marking it again as what it already is changes nothing: a double click is not a new event.
    """
    if reason not in DISMISSALS:
        raise ValueError(f"a case is dismissed as one of {', '.join(DISMISSALS)}, not {reason!r}")
    if case.status == reason:
        return
    detail = cancel_automatic_replies(session, case, at, why=f"marked {reason}")
    case.ack_due_at = case.response_due_at = case.resolution_due_at = case.sla_next_alert_at = None
    case.awaiting_reply_since = None
    events.record(
        session,
        case,
        f"marked_{reason}",
        at=at,
        actor=EMPLOYEE,
        employee_id=employee_id,
        to_status=reason,
        **detail,
    )


def cancel_automatic_replies(session: Session, case: Case, at: datetime, *, why: str) -> dict[str, Any]:
    """Cancel the automatic replies of ``case`` not yet sent nor held by a sender right now.

    An acknowledgement held by the kill switch must not reach a spammer, or a customer
    whose case a person already closed, when automatic replies resume.
    """
    held = session.exec(
        select(OutboxEntry).where(
            OutboxEntry.case_id == case.id,
            col(OutboxEntry.state).in_(("pending", "failed")),
            col(OutboxEntry.created_by).not_like(f"{_EMPLOYEE_PREFIX}%"),
            or_(col(OutboxEntry.lease_expires_at).is_(None), col(OutboxEntry.lease_expires_at) <= at),
        )
    ).all()
    for entry in held:
        entry.state, entry.last_error = CANCELLED, f"cancelled: the case was {why} at {at.isoformat()}"
        session.add(entry)
    return {"cancelled_replies": [entry.id for entry in held]} if held else {}


def queue_reply(
    session: Session,
    case: Case,
    text: str,
    at: datetime,
    *,
    employee_id: int,
    in_reply_to: str,
    resolves: bool,
    request_key: str,
) -> OutboxEntry:
    """A person's reply, sent through the outbox; ``resolves`` closes the case once it is sent.

    ``request_key`` names the form the reply was written in: the same form sent twice (a
    double click, a retried request) finds the reply it already queued, so the customer
    gets one. :class:`Refused` when the case's state does not allow the reply.
    """
    key = f"case:{case.id}:person:{request_key}"
    queued = session.exec(select(OutboxEntry).where(OutboxEntry.idempotency_key == key)).first()
    if queued is not None:
        return queued
    _check_reply_allowed(session, case, resolves=resolves)
    purpose = RESOLUTION_REPLY if resolves else REPLY
    entry = OutboxEntry(
        idempotency_key=key,
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


def person_reply_on_its_way(session: Session, case: Case) -> bool:
    """Whether a person's reply to ``case`` is queued and not yet sent (the platform may be down)."""
    unsent = select(OutboxEntry.id).where(
        OutboxEntry.case_id == case.id,
        col(OutboxEntry.created_by).startswith(_EMPLOYEE_PREFIX),
        col(OutboxEntry.state).in_(_UNSENT),
    )
    return session.exec(unsent).first() is not None


def _check_reply_allowed(session: Session, case: Case, *, resolves: bool) -> None:
    if case.status in DISMISSALS:
        raise Refused(f"{case.reference} is marked {case.status}: it takes no replies.")
    if not resolves:
        return
    if case.status == "resolved":
        raise Refused(f"{case.reference} is already resolved: reply without resolving it again.")
    pending = session.exec(
        select(OutboxEntry.id).where(
            OutboxEntry.case_id == case.id,
            OutboxEntry.purpose == RESOLUTION_REPLY,
            col(OutboxEntry.state).in_(_UNSENT),
        )
    ).first()
    if pending is not None:
        raise Refused(f"A reply resolving {case.reference} is already on its way.")


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
