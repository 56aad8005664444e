"""The kill switch: a person pauses automatic replies, and every process sees it.

The switch lives in the database, not in the configuration or in memory, so a
pause given from the command line reaches the web and worker processes at once
and survives restarts. A pause holds what would be sent; it never drops it.
Every flip is written to the audit log with the change itself, whoever flips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from social_care import audit
from social_care.storage.tables import Switch

AUTOMATIC_REPLIES = "automatic_replies"


@dataclass(frozen=True)
class Pause:
    reason: str
    by: str
    since: datetime


def pause_automatic_replies(session: Session, *, reason: str, by: str, now: datetime) -> None:
    _set(session, engaged=True, reason=reason, by=by, now=now)


def resume_automatic_replies(session: Session, *, by: str, now: datetime) -> None:
    _set(session, engaged=False, reason="", by=by, now=now)


def current_pause(session: Session) -> Pause | None:
    """The pause in force, or ``None`` when automatic replies flow."""
    switch = session.get(Switch, AUTOMATIC_REPLIES)
    if switch is None or not switch.engaged:
        return None
    return Pause(reason=switch.reason, by=switch.changed_by, since=switch.changed_at)


def _set(session: Session, *, engaged: bool, reason: str, by: str, now: datetime) -> None:
    switch = session.get(Switch, AUTOMATIC_REPLIES) or Switch(name=AUTOMATIC_REPLIES, changed_at=now)
    if switch.engaged and engaged:
        switch.reason = reason or switch.reason  # already paused: keep its start, update why
    else:
        switch.engaged, switch.reason, switch.changed_by, switch.changed_at = engaged, reason, by, now
    session.add(switch)
    if engaged:
        audit.record(session, audit.KILL_SWITCH_ENGAGED, at=now, actor=by, reason=reason)
    else:
        audit.record(session, audit.KILL_SWITCH_RELEASED, at=now, actor=by)
    session.commit()
