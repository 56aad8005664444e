"""The audit log: who did what an administrator must be able to account for, and when.

Sign-ins (and refused ones), exports and erasures of a person's data, the kill
switch, API tokens and triage models made or withdrawn, label imports, and the
compliance and retention runs each add one row. A row is written in the same
transaction as what it records, so the log never claims what did not happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from social_care.storage.tables import AuditEvent

SIGNED_IN = "signed_in"
SIGN_IN_REFUSED = "sign_in_refused"
SIGNED_OUT = "signed_out"
PERSON_EXPORTED = "person_exported"
PERSON_FORGOTTEN = "person_forgotten"
KILL_SWITCH_ENGAGED = "kill_switch_engaged"
KILL_SWITCH_RELEASED = "kill_switch_released"
TOKEN_CREATED = "api_token_created"  # noqa: S105 (a kind of event, not a secret)
TOKEN_REVOKED = "api_token_revoked"  # noqa: S105 (a kind of event, not a secret)
MODEL_ACTIVATED = "model_activated"
MODEL_ROLLED_BACK = "model_rolled_back"
LABELS_IMPORTED = "labels_imported"
COMPLIANCE_CHECKED = "compliance_checked"
RETENTION_PURGED = "retention_purged"
AUTHOR_FLAGGED = "author_flagged"

# What each kind is called on the audit page.
WORDS = {
    SIGNED_IN: "Signed in",
    SIGN_IN_REFUSED: "Sign-in refused",
    SIGNED_OUT: "Signed out",
    PERSON_EXPORTED: "Exported a person's data",
    PERSON_FORGOTTEN: "Erased a person's data",
    KILL_SWITCH_ENGAGED: "Paused automatic replies",
    KILL_SWITCH_RELEASED: "Resumed automatic replies",
    TOKEN_CREATED: "Made an API token",
    TOKEN_REVOKED: "Revoked an API token",
    MODEL_ACTIVATED: "Activated a triage model",
    MODEL_ROLLED_BACK: "Rolled back the triage model",
    LABELS_IMPORTED: "Imported triage labels",
    COMPLIANCE_CHECKED: "Checked posts with the platforms",
    RETENTION_PURGED: "Purged data past its retention",
    AUTHOR_FLAGGED: "Blocked a customer or recorded their opt-out (or undid it)",
}


def record(
    session: Session,
    kind: str,
    *,
    at: datetime,
    actor: str,
    employee_id: int | None = None,
    subject: str = "",
    address: str = "",
    **detail: Any,
) -> None:
    """Add one row to the audit log; the caller commits it with what it records.

    ``actor`` is the person's e-mail in the inbox, :func:`social_care.command_line.operator` at
    the command line, or the worker for a scheduled run.
    """
    session.add(
        AuditEvent(
            at=at,
            kind=kind,
            actor=actor,
            employee_id=employee_id,
            subject=subject,
            address=address,
            detail=detail,
        )
    )
