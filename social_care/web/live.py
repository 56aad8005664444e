"""The case page, live: who else has it open and who is typing, and what changes, without a reload.

The page tells the server it is open (a heartbeat, and "typing" while the person
writes); presence lives in the database so that every web process sees it. Changes
come from the events table, by id: a stream of server-sent events polls it about
once a second with short transactions (an SSE connection never holds one open),
and the page fetches itself again to show them, keeping the person's draft.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from social_care.case_changes import changes_since
from social_care.scope import may_see
from social_care.storage.tables import CaseEvent, CaseViewer, Employee
from social_care.web.case_access import visible_case
from social_care.web.event_words import describe, names_of
from social_care.web.queue import last_event_id
from social_care.web.security import CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
HEARTBEAT_SECONDS = 10  # the page's; presence lasts a little more than two of them
PRESENCE = timedelta(seconds=25)
TYPING = timedelta(seconds=6)
POLL_SECONDS = 1.0
STREAM_SECONDS = 60  # then the browser reconnects: no stream outlives a restart by long


@router.post("/cases/{case_id}/presence", dependencies=[CsrfChecked])
def presence(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    typing: Annotated[bool, Form()] = False,
    leaving: Annotated[bool, Form()] = False,
) -> Response:
    """The page is open (typing, or being left) for ``employee``."""
    visible_case(session, employee, case_id)
    now: datetime = request.app.state.clock()
    key = (case_id, employee.id)
    gone = or_(col(CaseViewer.seen_until) <= now, col(CaseViewer.employee_id) == employee.id)
    if leaving:  # the page was closed: this person, and anyone whose heartbeat stopped, leave the list
        session.exec(delete(CaseViewer).where(col(CaseViewer.case_id) == case_id, gone))  # type: ignore[call-overload]
        session.commit()
        return Response(status_code=204)
    viewer = session.get(CaseViewer, key) or CaseViewer(
        case_id=case_id, employee_id=employee.id or 0, seen_until=now
    )
    viewer.seen_until = now + PRESENCE
    if typing:
        viewer.typing_until = now + TYPING
    session.add(viewer)
    try:
        session.commit()
    except IntegrityError:  # the same person's other tab said so at the same moment
        session.rollback()
    return Response(status_code=204)


def snapshot(
    engine: Engine, case_id: int, employee_id: int, seen: int, now: datetime
) -> dict[str, Any] | None:
    """What the page should know now; None when the person may no longer see the case."""
    with Session(engine) as session:
        employee = session.get(Employee, employee_id)
        if employee is None or not may_see(session, employee, case_id):
            return None
        latest = session.exec(select(func.max(CaseEvent.id)).where(CaseEvent.case_id == case_id)).one() or 0
        viewers = session.exec(
            select(Employee.name, CaseViewer.typing_until)
            .join(Employee, col(Employee.id) == col(CaseViewer.employee_id))
            .where(
                CaseViewer.case_id == case_id,
                CaseViewer.seen_until > now,
                CaseViewer.employee_id != employee_id,
            )
            .order_by(col(Employee.name))
        ).all()
        names = names_of(session)
        changed = [
            describe(event, names) for event in changes_since(session, case_id, seen, employee_id=employee_id)
        ]
        session.commit()
    return {
        "latest": latest,
        "changed": changed,
        "viewers": [{"name": name, "typing": bool(until and until > now)} for name, until in viewers],
    }


@router.get("/cases/{case_id}/live")
async def live(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    case_id: int,
    seen: int = 0,
    latest: int = 0,
) -> Response:
    """Server-sent events for an open case page: ``presence`` when who is there changes, ``change``
    when the case does after event ``latest`` (with what others changed since the change ``seen``)."""
    latest = max(latest, last_event_id(request))  # a reconnecting page heard up to there
    await run_in_threadpool(visible_case, session, employee, case_id)
    await run_in_threadpool(session.close)  # the stream must hold no transaction
    engine, clock, employee_id = request.app.state.engine, request.app.state.clock, employee.id or 0
    stream = _stream(
        request, engine, clock, case_id=case_id, employee_id=employee_id, seen=seen, latest=latest
    )
    return EventSourceResponse(stream, ping=15)


async def _stream(
    request: Request, engine: Engine, clock: Any, *, case_id: int, employee_id: int, seen: int, latest: int
) -> AsyncIterator[dict[str, Any]]:
    viewers = None
    ends = time.monotonic() + STREAM_SECONDS
    yield {"retry": 1000, "comment": "open"}
    while time.monotonic() < ends and not await request.is_disconnected():
        now = await run_in_threadpool(snapshot, engine, case_id, employee_id, seen, clock())
        if now is None:
            yield {"event": "gone", "data": "{}"}
            return
        if now["latest"] != latest:
            change = {"latest": now["latest"], "changed": now["changed"]}
            yield {"event": "change", "id": str(now["latest"]), "data": json.dumps(change)}
        if now["viewers"] != viewers:
            yield {"event": "presence", "data": json.dumps(now["viewers"])}
        latest, viewers = now["latest"], now["viewers"]
        await asyncio.sleep(POLL_SECONDS)
