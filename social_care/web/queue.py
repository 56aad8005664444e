"""The queue: a person's views of the cases they may see, filtered, searched and paged, live.

The views, filters and pages are :mod:`social_care.queue_views`'s; this module
reads them from the URL, lays them out, and answers the page's live feed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from social_care import queue_views
from social_care.crisis import current_crisis
from social_care.queue_views import (
    DUE_STATES,
    SORTS,
    STATUSES,
    VIEWS,
    QueueQuery,
    checked,
    counts,
    fetch_page,
    views_for,
)
from social_care.scope import is_supervisor, visible_cases
from social_care.storage.tables import Case, CaseEvent, Employee, SourceState, Team, TeamMember
from social_care.switches import current_pause
from social_care.web.case_view import viewer_zone
from social_care.web.rendering import render
from social_care.web.security import CurrentAgent, DatabaseSession

router = APIRouter()
POLL_SECONDS = 1.0
STREAM_SECONDS = 60
MAX_ID_DIGITS = 18  # a BIGINT, at most


def default_view(employee: Employee) -> str:
    return "open" if is_supervisor(employee) else "mine"


@router.get("/queue", response_class=HTMLResponse)
def show_queue(request: Request, employee: CurrentAgent, session: DatabaseSession) -> HTMLResponse:
    state = request.app.state
    params = dict(request.query_params)
    params.setdefault("view", default_view(employee))
    query, problems = checked(state.config, employee, QueueQuery.from_params(params))
    now, zone = state.clock(), viewer_zone(state.config, employee)
    page = fetch_page(session, employee, query, now=now, zone=zone)
    return render(
        request,
        "queue.html",
        employee=employee,
        query=query,
        view=VIEWS[query.view],
        views=views_for(employee),
        counts=counts(session, employee, now=now),
        count_cap=queue_views.COUNT_CAP,
        page=page,
        problems=problems,
        notices=request.session.pop("queue_notices", []),
        undo=request.session.pop("queue_undo", None),
        choices=_choices(session, state.config, employee),
        sources=session.exec(select(SourceState).order_by(col(SourceState.source_id))).all(),
        zone=zone,
        now=now,
        latest=session.exec(select(func.max(CaseEvent.id))).one() or 0,
        pause=current_pause(session),
        crisis=current_crisis(session),
    )


def _choices(session: Session, config: Any, employee: Employee) -> dict[str, Any]:
    """The values each filter offers, from the configuration and the people of the desk."""
    people = session.exec(
        select(Employee.id, Employee.name)
        .join(TeamMember, col(TeamMember.employee_id) == col(Employee.id))
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .where(col(Employee.active))
        .distinct()
        .order_by(col(Employee.name))
    ).all()
    return {
        "status": STATUSES,
        "team": [team.name for team in config.teams],
        "assignee": people,
        "category": ("complaint", "inquiry", "praise", "other"),
        "cluster": ("technical_fault", "how_to", "not_working", "delivery", "billing", "account", "other"),
        "priority": ("urgent", "high", "normal", "low"),
        "platform": sorted({source.platform for source in config.sources}),
        "source": [source.id for source in config.sources],
        "brand": [brand.name for brand in config.brands],
        "product": [product.name for brand in config.brands for product in brand.products],
        "due": DUE_STATES,
        "sort": SORTS,
        "supervisor": is_supervisor(employee),
    }


# -- live ----------------------------------------------------------------------------------------


def last_event_id(request: Request) -> int:
    """The id of the last event a reconnecting browser heard (0 when none, or not a number)."""
    value = request.headers.get("last-event-id", "")
    return int(value) if value.isdigit() and len(value) <= MAX_ID_DIGITS else 0


def changed_since(engine: Engine, employee_id: int, latest: int) -> tuple[int, list[int]] | None:
    """The newest event id, and the cases ``employee_id`` may see that changed after ``latest``."""
    with Session(engine) as session:
        employee = session.get(Employee, employee_id)
        if employee is None or not employee.active:
            return None
        newest = session.exec(select(func.max(CaseEvent.id))).one() or 0
        if newest <= latest or latest <= 0:  # nothing new; or no starting point, so from now on
            session.commit()
            return newest, []
        touched = select(CaseEvent.case_id).where(CaseEvent.id > latest).distinct()
        cases = session.exec(
            select(Case.id).where(col(Case.id).in_(touched), visible_cases(session, employee))
        ).all()
        session.commit()
    return newest, [case_id for case_id in cases if case_id is not None]


@router.get("/queue/live")
async def live(
    request: Request, employee: CurrentAgent, session: DatabaseSession, latest: int = 0
) -> Response:
    """Server-sent ``change`` events when cases the person may see change (new ones included).

    Each event carries the latest event id as its SSE id: a browser reconnecting (streams end
    every minute) sends it back as ``Last-Event-ID`` and hears only what came after."""
    latest = max(latest, last_event_id(request))
    await run_in_threadpool(session.close)  # the stream must hold no transaction
    engine, employee_id = request.app.state.engine, employee.id or 0
    return EventSourceResponse(_stream(request, engine, employee_id, latest), ping=15)


async def _stream(
    request: Request, engine: Engine, employee_id: int, latest: int
) -> AsyncIterator[dict[str, Any]]:
    ends = time.monotonic() + STREAM_SECONDS
    yield {"retry": 1000, "comment": "open"}
    while time.monotonic() < ends and not await request.is_disconnected():
        found = await run_in_threadpool(changed_since, engine, employee_id, latest)
        if found is None:
            return
        latest, cases = found
        if cases:
            yield {
                "event": "change",
                "id": str(latest),
                "data": json.dumps({"latest": latest, "cases": cases}),
            }
        await asyncio.sleep(POLL_SECONDS)
