"""A source the platform refuses (revoked keys, a suspended account) waits for a person.

Polling marks a source failing when a fetch is refused for good; the outbox does
the same when a reply is refused for the account rather than for the post. A
failing source is neither polled nor answered from until a restart clears it
(:func:`social_care.runtime.clear_failures`).
"""

from __future__ import annotations

from sqlmodel import Session

from social_care.storage.tables import SourceState

FAILING = "failing"


def mark_failing(session: Session, source_id: str, reason: str) -> None:
    """Record that ``source_id`` is refused; the caller commits."""
    state = session.get(SourceState, source_id) or SourceState(source_id=source_id)
    state.status, state.last_error = FAILING, reason[:500]
    session.add(state)
