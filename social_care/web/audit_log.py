"""The audit log's page, for admins: who did what that must be accounted for, newest first.

Paged by the last row's id (``before``) rather than by an offset, so a page
followed while people sign in still shows every row once. Filters live in the
address, so a filtered log is a link an admin can send. Every stored value (an
email typed at a refused sign-in, a reason given to the kill switch) came from
someone, and reaches the page only through the template's autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func
from sqlmodel import Session, col, select

from social_care.audit import WORDS
from social_care.storage.tables import AuditEvent
from social_care.web.case_view import viewer_zone
from social_care.web.rendering import render
from social_care.web.security import CurrentAdmin, DatabaseSession

router = APIRouter()
PAGE = 100
LONGEST_VALUE = 120  # characters of one detail value shown; the database keeps it whole
_MAX_ACTOR = 200
_ID_DIGITS = 18  # more, and it is no row's id (nor fits the column)
DASH = "\u2013"


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed to: a kind of event, and an actor by their name's start."""

    kind: str = ""
    actor: str = ""

    def link(self, **more: str | int) -> str:
        """This filtered log's address, with ``more`` (an older page's ``before``)."""
        values = {"kind": self.kind, "actor": self.actor, **more}
        query = urlencode({name: value for name, value in values.items() if value})
        return f"/audit?{query}" if query else "/audit"


@dataclass(frozen=True)
class Row:
    """One event as the page shows it: what it is called, its detail as short text."""

    event: AuditEvent
    what: str
    detail: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    older: int | None  # the ``before`` of the next page, None on the last


@router.get("/audit", response_class=HTMLResponse)
def show_audit_log(
    request: Request,
    employee: CurrentAdmin,
    session: DatabaseSession,
    *,
    kind: str = "",
    actor: str = "",
    before: str = "",
) -> HTMLResponse:
    filters = Filters(kind=_known_kind(kind), actor=actor.strip()[:_MAX_ACTOR])
    page = fetch(session, filters, before=_event_id(before))
    return render(
        request,
        "audit.html",
        employee=employee,
        page=page,
        filters=filters,
        paged=bool(before),
        kinds=sorted(WORDS.items(), key=lambda item: item[1]),
        zone=viewer_zone(request.app.state.config, employee),
    )


def fetch(session: Session, filters: Filters, *, before: int | None = None, size: int = PAGE) -> Page:
    """One page of events matching ``filters``, newest first, from below ``before`` when given."""
    statement = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(size + 1)
    if filters.kind:
        statement = statement.where(AuditEvent.kind == filters.kind)
    if filters.actor:  # a prefix, so "chiara" finds her sign-ins and her commands alike
        prefix = filters.actor.lower()
        statement = statement.where(func.lower(col(AuditEvent.actor)).startswith(prefix, autoescape=True))
    if before is not None:
        statement = statement.where(col(AuditEvent.id) < before)
    events = list(session.exec(statement))
    shown = events[:size]
    older = shown[-1].id if len(events) > size else None
    return Page(
        [Row(event, WORDS.get(event.kind, event.kind), detail_text(event.detail)) for event in shown], older
    )


def detail_text(detail: dict[str, Any]) -> str:
    """``{"reason": "recall", "count": 3}`` as ``reason: recall · count: 3``, long values cut short."""
    return " · ".join(f"{name.replace('_', ' ')}: {_short(value)}" for name, value in detail.items())


def _short(value: object) -> str:
    text = DASH if value is None or value == "" else str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def _known_kind(kind: str) -> str:
    if kind and kind not in WORDS:
        raise HTTPException(status_code=400, detail="There is no such kind of event: pick one from the list.")
    return kind


def _event_id(before: str) -> int | None:
    if not before:
        return None
    if not before.isascii() or not before.isdigit() or len(before) > _ID_DIGITS:
        raise HTTPException(status_code=400, detail="This page of the audit log does not exist: start again.")
    return int(before)
