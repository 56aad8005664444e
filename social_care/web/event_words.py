"""What happened to a case, in words: the timeline's lines and the page's "what changed"."""

from __future__ import annotations

from sqlmodel import Session, select

from social_care.compliance.scrubbing import IN_PLACE_OF_THE_TEXT, POST_REMOVED
from social_care.storage.tables import CaseEvent, Employee

# By kind, then by who made it: "person" (someone named in ``by``) or "system" (routing, the
# sweeper, the customer). Fields: by, assignee, earlier, team, rule, reason (": why" or ""),
# changes, status, target, due.
_WORDS: dict[str, str | dict[str, str]] = {
    "opened": "The customer opened the case",
    "mention_added": "The customer wrote again",
    "customer_replied": "The customer wrote again",
    "reopened": {"person": "{by} reopened the case{reason}", "system": "Reopened: the customer wrote again"},
    "taken": "{by} took the case",
    "assigned": {
        "person": "{by} assigned the case to {assignee}",
        "system": "Routed to {assignee} in team {team} ({rule})",
    },
    "reassigned": "Reassigned from {earlier} to {assignee}{reason}",
    "returned_to_team": {
        "person": "{by} released the case to its team's queue{reason}",
        "system": "Taken back from {earlier} into the team's queue{reason}",
    },
    "queued_for_team": "Waiting in team {team}'s queue: nobody eligible is free",
    "unrouted": "No routing rule fits this case",
    "reclassified": "{by} corrected the triage: {changes}{reason}",
    "reply_queued": "{by} sent a reply",
    "responded": "{by}'s reply reached the customer",
    "acknowledged": "Our acknowledgement reached the customer",
    "resolved": {"person": "{by} resolved the case", "system": "Resolved"},
    "marked_spam": "{by} marked the case spam",
    "marked_ignored": "{by} marked the case ignored",
    "sla_warning": "SLA warning: {target} due {due}",
    "sla_breached": "SLA breached: {target} was due {due}",
}


def names_of(session: Session) -> dict[int | None, str]:
    return dict(session.exec(select(Employee.id, Employee.name)).all())


def describe(event: CaseEvent, names: dict[int | None, str]) -> str:
    """What ``event`` did, with the names of the people involved."""
    detail = event.detail
    if event.kind == POST_REMOVED:
        return IN_PLACE_OF_THE_TEXT.get(str(detail.get("why")), "Post removed")
    by = names.get(event.employee_id, "someone") if event.employee_id else ""
    kind = "taken" if event.kind == "assigned" and detail.get("rule") == "taken" else event.kind
    words = _WORDS.get(kind)
    if isinstance(words, dict):
        words = words["person" if by else "system"]
    if words is None:
        return event.kind.replace("_", " ").capitalize() + (f" by {by}" if by else "")
    changes = detail.get("changes") or {}
    return words.format(
        by=by,
        assignee=names.get(detail.get("assignee_id"), "someone"),
        earlier=names.get(detail.get("from_id"), "its assignee"),
        team=detail.get("team", ""),
        rule=detail.get("rule") or "routing",
        reason=f": {detail['reason']}" if detail.get("reason") else "",
        changes=", ".join(f"{name} {old or '—'} → {new or '—'}" for name, (old, new) in changes.items()),
        status=event.to_status or "",
        target=str(detail.get("target", "")).replace("_", " "),
        due=str(detail.get("due_at", ""))[:16].replace("T", " "),
    )
