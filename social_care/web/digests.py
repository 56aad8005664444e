"""The digests sent, for supervisors and admins: listed by day, each readable as its recipient got it.

A digest's HTML quotes strangers (post texts, display names). The mail escaped
them, and the archive trusts that no further than it must: the mail is served
on a route of its own whose policy lets nothing run or load but its own inline
styles and its charts (data: URIs), and the page shows it in an iframe
sandboxed without scripts. Its links open in a new tab, outside the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from social_care.storage.tables import DigestRun, MailEntry
from social_care.web.rendering import render
from social_care.web.security import CurrentSupervisor, DatabaseSession

router = APIRouter()
LISTED = 300
# Nothing runs, nothing is fetched: the digest's own inline styles and its inlined charts only.
MAIL_POLICY = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none';"
        " frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}
_NEW_TAB = '<base target="_blank">'


@dataclass(frozen=True)
class Listed:
    run: DigestRun
    mail_state: str  # pending | sending | sent | failed | dead, "" when no mail was due


@router.get("/digests", response_class=HTMLResponse)
def list_digests(request: Request, employee: CurrentSupervisor, session: DatabaseSession) -> HTMLResponse:
    rows = listed(session)
    days = [(day, list(group)) for day, group in groupby(rows, key=lambda row: row.run.day)]
    return render(request, "digests.html", employee=employee, days=days, zone=_zone(request), made_by=made_by)


def listed(session: Session, limit: int = LISTED) -> list[Listed]:
    """The latest digests, the newest day first, each with how its mail fared."""
    statement = (
        select(DigestRun, MailEntry.state)
        .join(MailEntry, col(MailEntry.id) == col(DigestRun.mail_id), isouter=True)
        .order_by(col(DigestRun.day).desc(), col(DigestRun.recipient))
        .limit(limit)
    )
    return [Listed(run, state or "") for run, state in session.exec(statement).all()]


@router.get("/digests/{run_id}", response_class=HTMLResponse)
def show_digest(
    request: Request, employee: CurrentSupervisor, session: DatabaseSession, run_id: int
) -> HTMLResponse:
    run = _run(session, run_id)
    mail = session.get(MailEntry, run.mail_id) if run.mail_id is not None else None
    return render(
        request,
        "digest.html",
        employee=employee,
        run=run,
        mail_state=mail.state if mail else "",
        zone=_zone(request),
        made_by=made_by,
    )


def made_by(run: DigestRun) -> str:
    """Who made a digest, as a reader cares: a person at the command line, or the morning round (a
    worker's lease name says nothing to them)."""
    return run.made_by if "command line" in run.made_by else "the morning round"


@router.get("/digests/{run_id}/mail", response_class=HTMLResponse)
def digest_mail(_employee: CurrentSupervisor, session: DatabaseSession, run_id: int) -> HTMLResponse:
    """The digest's HTML as sent, charts inlined, under a policy that lets nothing in it run."""
    run = _run(session, run_id)
    if not run.html:
        raise HTTPException(status_code=404, detail="No mail was sent for this digest.")
    return HTMLResponse(_links_in_new_tabs(run.html), headers=MAIL_POLICY)


def _run(session: Session, run_id: int) -> DigestRun:
    run = session.get(DigestRun, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail="No such digest.")
    return run


def _links_in_new_tabs(html: str) -> str:
    """A link clicked in the sandboxed frame opens a tab of its own (the inbox refuses to be framed)."""
    head = html.find("<head>")
    if head < 0:
        return _NEW_TAB + html
    return html[: head + len("<head>")] + _NEW_TAB + html[head + len("<head>") :]


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.config.service.timezone)
