"""A person's request from the inbox: find an author, export what is kept about them, or erase it.

The same operations as ``social-care person export`` and ``person forget``
(:mod:`social_care.compliance.person`), for administrators only. Finding is a
GET (nothing changes, the address can be shared among admins); the export and
the erasure are POSTs with the form's CSRF token, because each writes an audit
event, and the erasure asks for the handle to be typed again: it cannot be
undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, func, select

from social_care.compliance import person
from social_care.storage.tables import Author, Employee, Mention
from social_care.web.rendering import render
from social_care.web.security import CsrfChecked, CurrentAdmin, DatabaseSession, client_address

router = APIRouter()
MAX_HANDLE = 200


@dataclass(frozen=True)
class Summary:
    """What is kept about the person found: enough to know it is the right one before acting."""

    subject: str
    handles: list[str]
    names: list[str]
    posts: int
    cases: int
    first: datetime | None
    last: datetime | None


def _platforms(session: Session) -> list[str]:
    return sorted(set(session.exec(select(Author.platform).distinct()).all()))


def summarise(session: Session, found: person.Found) -> Summary:
    ids = found.ids
    posts, first, last = session.exec(
        select(func.count(col(Mention.id)), func.min(Mention.posted_at), func.max(Mention.posted_at)).where(
            col(Mention.author_id).in_(ids)
        )
    ).one()
    cases = session.exec(
        select(func.count(func.distinct(Mention.case_id))).where(col(Mention.author_id).in_(ids))
    ).one()
    return Summary(
        subject=found.subject,
        handles=[author.handle for author in found.authors],
        names=sorted({author.name for author in found.authors if author.name}),
        posts=int(posts),
        cases=int(cases),
        first=first,
        last=last,
    )


def _page(
    request: Request,
    employee: Employee,
    session: Session,
    *,
    platform: str,
    handle: str,
    summary: Summary | None = None,
    problem: str = "",
    erased: person.Erased | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "personal_data.html",
        employee=employee,
        platforms=_platforms(session),
        platform=platform,
        handle=handle,
        summary=summary,
        problem=problem,
        erased=erased,
        status_code=status_code,
    )


@router.get("/personal-data", response_class=HTMLResponse)
def personal_data_page(
    request: Request, employee: CurrentAdmin, session: DatabaseSession, platform: str = "", handle: str = ""
) -> HTMLResponse:
    handle = handle.strip()[:MAX_HANDLE]
    if not (platform and handle):
        return _page(request, employee, session, platform=platform, handle=handle)
    try:
        found = person.find(session, platform, handle)
    except person.UnknownPerson as error:
        return _unknown(request, employee, session, platform=platform, handle=handle, error=error)
    return _page(
        request, employee, session, platform=platform, handle=handle, summary=summarise(session, found)
    )


@router.post("/personal-data/export", dependencies=[CsrfChecked])
def export_person(
    request: Request,
    employee: CurrentAdmin,
    session: DatabaseSession,
    *,
    platform: Annotated[str, Form()],
    handle: Annotated[str, Form(max_length=MAX_HANDLE)],
) -> Response:
    try:
        found = person.find(session, platform, handle)
    except person.UnknownPerson as error:
        return _unknown(request, employee, session, platform=platform, handle=handle, error=error)
    data = person.export(session, found, **_by(request, employee))
    session.commit()
    name = f"{found.platform}-{person.bare(handle)}"
    safe = "".join(char if char.isascii() and (char.isalnum() or char in "-_") else "_" for char in name)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{safe}.json"', "cache-control": "no-store"},
    )


@router.post("/personal-data/forget", response_class=HTMLResponse, dependencies=[CsrfChecked])
def forget_person(
    request: Request,
    employee: CurrentAdmin,
    session: DatabaseSession,
    *,
    platform: Annotated[str, Form()],
    handle: Annotated[str, Form(max_length=MAX_HANDLE)],
    confirm: Annotated[str, Form(max_length=MAX_HANDLE)] = "",
) -> HTMLResponse:
    try:
        found = person.find(session, platform, handle)
    except person.UnknownPerson as error:
        return _unknown(request, employee, session, platform=platform, handle=handle, error=error)
    if person.bare(confirm) != person.bare(handle):
        return _page(
            request,
            employee,
            session,
            platform=platform,
            handle=handle,
            summary=summarise(session, found),
            problem="Type the handle again to confirm the erasure: nothing was erased.",
            status_code=400,
        )
    erased = person.forget(session, found, **_by(request, employee))
    session.commit()
    return _page(request, employee, session, platform=platform, handle="", erased=erased)


def _by(request: Request, employee: Employee) -> dict[str, Any]:
    """Who does it, when and from where, for the audit log."""
    return {
        "at": request.app.state.clock(),
        "actor": employee.email,
        "employee_id": employee.id,
        "address": client_address(request),
    }


def _unknown(
    request: Request, employee: Employee, session: Session, *, platform: str, handle: str, error: Exception
) -> HTMLResponse:
    return _page(
        request,
        employee,
        session,
        platform=platform,
        handle=handle,
        problem=str(error).capitalize() + ".",
        status_code=404,
    )
