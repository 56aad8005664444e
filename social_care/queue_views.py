"""The queue as SQL: its views, filters, search, orders and pages, for the web inbox and the API alike.

A view is a named slice of the cases a person may see (:mod:`social_care.scope`):
their own, their team's unassigned ones, everything open, those waiting on the
customer, suggested replies only a person may send, what is due soon, and what was
closed lately. Filters narrow it and live in the URL, so a view can be bookmarked.
Pages are fetched by keyset (the last row's sort key, never an OFFSET), 50 rows at
a time, however deep; every page costs the same.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, true
from sqlalchemy import case as when
from sqlmodel import Session, col, select

from social_care.case_changes import MATERIAL
from social_care.case_states import CLOSED_STATES, OPEN_STATES
from social_care.config.models import Category, Cluster, Config, Priority
from social_care.scope import is_supervisor, team_names, unindexed, visible_cases
from social_care.search import matching_cases
from social_care.storage.tables import Author, Case, CaseEvent, Employee, Mention, OutboxEntry
from social_care.storage.types import UtcDateTime

PAGE_SIZE = 50
DUE_SOON = timedelta(minutes=30)
RECENTLY_CLOSED = timedelta(days=14)
COUNT_CAP = 999  # a count past it reads "999+"
SORTS = ("due", "priority", "newest", "recent", "reach")
DUE_STATES = ("overdue", "soon", "later", "none")
STATUSES = (*OPEN_STATES, *CLOSED_STATES)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
_PRIORITY_RANK = when({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Case.priority, else_=4)


def earliest_due() -> ColumnElement[Any]:
    """The case's next deadline (acknowledgement, reply or resolution), NULL when no clock runs.

    Written as CASE so that it means the same on SQLite (whose ``min`` of a NULL is NULL)
    and PostgreSQL."""
    ack, reply, resolve = col(Case.ack_due_at), col(Case.response_due_at), col(Case.resolution_due_at)
    return when(
        (
            and_(
                ack.is_not(None),
                or_(reply.is_(None), ack <= reply),
                or_(resolve.is_(None), ack <= resolve),
            ),
            ack,
        ),
        (and_(reply.is_not(None), or_(resolve.is_(None), reply <= resolve)), reply),
        else_=resolve,
    )


@dataclass(frozen=True)
class View:
    name: str
    title: str
    supervisors_only: bool = False
    closed: bool = False


VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        View("mine", "My cases"),
        View("team", "My team's queue"),
        View("open", "All open", supervisors_only=True),
        View("waiting", "Waiting on the customer"),
        View("suggested", "Suggested replies to send"),
        View("due", "Due soon and overdue"),
        View("closed", "Recently closed", closed=True),
    )
}


def views_for(employee: Employee) -> list[View]:
    return [view for view in VIEWS.values() if is_supervisor(employee) or not view.supervisors_only]


def view_condition(session: Session, employee: Employee, view: str, now: datetime) -> ColumnElement[bool]:
    """The cases of ``view`` that ``employee`` may see."""
    return and_(_view_only(session, employee, view, now), visible_cases(session, employee))


def _view_only(session: Session, employee: Employee, view: str, now: datetime) -> ColumnElement[bool]:
    """What makes a case one of ``view``'s, scope apart."""
    is_open = col(Case.status).in_(OPEN_STATES)
    conditions: dict[str, Callable[[], ColumnElement[bool]]] = {
        "mine": lambda: and_(is_open, col(Case.assignee_id) == employee.id),
        "team": lambda: and_(is_open, col(Case.assignee_id).is_(None), _my_teams(session, employee)),
        "open": lambda: is_open if is_supervisor(employee) else false(),
        "waiting": lambda: col(Case.status) == "responded",
        "suggested": lambda: and_(
            is_open, col(Case.suggested_reply) != "", col(Case.first_response_at).is_(None)
        ),
        "due": lambda: and_(is_open, earliest_due() <= now + DUE_SOON),
        "closed": lambda: and_(
            unindexed(session, "status").in_(CLOSED_STATES),
            col(Case.last_activity_at) >= now - RECENTLY_CLOSED,
        ),
    }
    return conditions[view]()


def _my_teams(session: Session, employee: Employee) -> ColumnElement[bool]:
    if employee.role == "admin":
        return col(Case.team).is_not(None)
    return col(Case.team).in_(team_names(session, employee))


@dataclass(frozen=True)
class QueueQuery:
    """A view, its filters and its order, as they appear in the URL (every value a string)."""

    view: str = "mine"
    status: str = ""
    team: str = ""  # a team's name, or "none" for unrouted
    assignee: str = ""  # an employee's id, or "none"
    category: str = ""
    cluster: str = ""
    priority: str = ""
    platform: str = ""
    source: str = ""
    brand: str = ""
    product: str = ""
    language: str = ""
    due: str = ""
    since: str = ""  # YYYY-MM-DD, opened on or after, in the service's time zone
    until: str = ""  # YYYY-MM-DD, opened on or before
    q: str = ""
    sort: str = ""
    after: str = ""  # the keyset cursor: where the previous page ended

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> QueueQuery:
        names = {item.name for item in fields(cls)}
        return cls(**{name: str(value).strip()[:200] for name, value in params.items() if name in names})

    def params(self, **changes: str) -> dict[str, str]:
        """The non-empty parameters, for a link to this query changed by ``changes``."""
        changed = replace(self, **changes)
        return {
            item.name: getattr(changed, item.name) for item in fields(changed) if getattr(changed, item.name)
        }

    @property
    def order(self) -> str:
        return self.sort if self.sort in SORTS else ("recent" if VIEWS[self.view].closed else "due")


def checked(config: Config, employee: Employee, query: QueueQuery) -> tuple[QueueQuery, list[str]]:
    """``query`` with what cannot apply dropped, and why each was."""
    problems: list[str] = []
    allowed: dict[str, tuple[str, ...]] = {
        "status": STATUSES,
        "category": get_args(Category),
        "cluster": get_args(Cluster),
        "priority": get_args(Priority),
        "team": ("none", *(team.name for team in config.teams)),
        "source": tuple(source.id for source in config.sources),
        "platform": tuple({source.platform for source in config.sources}),
        "brand": tuple(brand.name for brand in config.brands),
        "product": tuple(product.name for brand in config.brands for product in brand.products),
        "due": DUE_STATES,
        "sort": SORTS,
    }
    changes: dict[str, str] = {}
    if query.view not in {view.name for view in views_for(employee)}:
        problems.append(f"There is no view {query.view!r} for you: showing your cases.")
        changes["view"] = "mine"
    for name, values in allowed.items():
        value = getattr(query, name)
        if value and value not in values:
            problems.append(f"{name} {value!r} is not one of this desk's: ignored.")
            changes[name] = ""
    if query.assignee and query.assignee != "none" and not query.assignee.isdigit():
        problems.append(f"assignee {query.assignee!r} is not a person: ignored.")
        changes["assignee"] = ""
    for name in ("since", "until"):
        if getattr(query, name) and _day(getattr(query, name)) is None:
            problems.append(f"{name} {getattr(query, name)!r} is not a date (YYYY-MM-DD): ignored.")
            changes[name] = ""
    if query.after and decode_cursor(query.after) is None:
        changes["after"] = ""
    return replace(query, **changes), problems


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def filter_conditions(
    session: Session, query: QueueQuery, *, now: datetime, zone: ZoneInfo
) -> list[ColumnElement[bool]]:
    """The conditions of ``query``'s filters and search (the view's are apart)."""
    conditions: list[ColumnElement[bool]] = []
    equal = {
        "status": "status",
        "category": "category",
        "cluster": "cluster",
        "priority": "priority",
        "platform": "platform",
        "source": "source_id",
        "brand": "brand",
        "product": "product",
        "language": "language",
    }
    for name, column in equal.items():
        if value := getattr(query, name):
            conditions.append(unindexed(session, column) == value)
    if query.team:
        team = unindexed(session, "team")
        conditions.append(team.is_(None) if query.team == "none" else team == query.team)
    if query.assignee:
        assignee = unindexed(session, "assignee_id")
        conditions.append(assignee.is_(None) if query.assignee == "none" else assignee == int(query.assignee))
    if query.due:
        conditions.append(_due_state(query.due, now))
    if since := _day(query.since):
        conditions.append(col(Case.opened_at) >= datetime.combine(since, time(), zone).astimezone(UTC))
    if until := _day(query.until):
        end = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC)
        conditions.append(col(Case.opened_at) < end)
    if query.q:
        conditions.append(matching_cases(query.q, session.get_bind().dialect))
    return conditions


def _due_state(state: str, now: datetime) -> ColumnElement[bool]:
    due = earliest_due()
    return {
        "overdue": due <= now,
        "soon": and_(due > now, due <= now + DUE_SOON),
        "later": due > now + DUE_SOON,
        "none": due.is_(None),
    }[state]


# -- order and pages -----------------------------------------------------------------------------


def _sort_keys(order: str) -> list[tuple[ColumnElement[Any], bool]]:
    """The columns a page is ordered by, each with whether it descends; the case id breaks ties."""
    due = func.coalesce(earliest_due(), literal(_FAR_FUTURE, UtcDateTime()))
    keys: dict[str, list[tuple[ColumnElement[Any], bool]]] = {
        "due": [(due, False), (col(Case.id), False)],
        "priority": [(_PRIORITY_RANK, False), (due, False), (col(Case.id), False)],
        "newest": [(col(Case.opened_at), True), (col(Case.id), True)],
        # The latest activity first: what "recently closed" means, read in the order of its index.
        "recent": [(col(Case.last_activity_at), True), (col(Case.id), True)],
        "reach": [(func.coalesce(col(Author.followers), -1), True), (col(Case.id), True)],
    }
    return keys[order]


def encode_cursor(values: list[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any] | None:
    """The sort key a page ended at, or None for a cursor that is not one of ours."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or not all(isinstance(value, int | str) for value in values):
        return None
    return [_when(value) if isinstance(value, str) else value for value in values]


def _when(value: str) -> datetime | str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _after(keys: list[tuple[ColumnElement[Any], bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows after ``values`` in the order of ``keys``: (a > x) or (a = x and b > y) or ..."""
    if len(values) != len(keys):
        return true()
    alternatives = []
    for position, (column, descending) in enumerate(keys):
        same = [keys[earlier][0] == values[earlier] for earlier in range(position)]
        beyond = column < values[position] if descending else column > values[position]
        alternatives.append(and_(*same, beyond))
    first, descending = keys[0]
    bound = first <= values[0] if descending else first >= values[0]  # lets an index on it read a range
    return and_(bound, or_(*alternatives))


@dataclass(frozen=True)
class QueueRow:
    case: Case
    author: Author
    latest: Mention | None
    assignee: str
    mentions: int
    reply_state: str
    seen: int  # the case's latest change, for a bulk action to check it is still so


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str  # "" on the last page


def fetch_page(
    session: Session,
    employee: Employee,
    query: QueueQuery,
    *,
    now: datetime,
    zone: ZoneInfo,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of ``query`` for ``employee`` (a checked query: see :func:`checked`)."""
    keys = _sort_keys(query.order)
    statement = (
        select(Case, Author, *(column for column, _ in keys))
        .join(Author, col(Author.id) == col(Case.author_id))
        .where(view_condition(session, employee, query.view, now))
        .where(*filter_conditions(session, query, now=now, zone=zone))
        .order_by(*(column.desc() if descending else column.asc() for column, descending in keys))
        .limit(size + 1)
    )
    if query.after and (values := decode_cursor(query.after)) is not None:
        statement = statement.where(_after(keys, values))
    found = session.exec(statement).all()
    page, more = found[:size], len(found) > size
    next_cursor = encode_cursor(list(page[-1][2:])) if more and page else ""
    return QueuePage(
        rows=_rows(session, [(case, author) for case, author, *_ in page]), next_cursor=next_cursor
    )


def counts(session: Session, employee: Employee, *, now: datetime) -> dict[str, int]:
    """How many cases each of ``employee``'s views holds, for the navigation: the open views in
    one pass over the open cases the person may see; the recently closed up to ``COUNT_CAP``
    (beyond it, a number nobody reads costs a scan of weeks of cases)."""
    views = views_for(employee)
    scope = visible_cases(session, employee)
    open_views = [view.name for view in views if not view.closed]
    tallies = [
        func.coalesce(func.sum(when((_view_only(session, employee, name, now), 1), else_=0)), 0)
        for name in open_views
    ]
    found = session.exec(select(*tallies).where(col(Case.status).in_(OPEN_STATES), scope)).one()
    result = dict(zip(open_views, found if len(open_views) > 1 else [found], strict=True))
    for view in views:
        if view.closed:  # weeks of closed cases: counted up to a cap, as "999+"
            condition = and_(_view_only(session, employee, view.name, now), scope)
            capped = select(Case.id).where(condition).limit(COUNT_CAP + 1).subquery()
            result[view.name] = session.exec(select(func.count()).select_from(capped)).one()
    return {view.name: int(result[view.name]) for view in views}


def _rows(session: Session, found: list[tuple[Case, Author]]) -> list[QueueRow]:
    case_ids = [case.id for case, _ in found]
    if not case_ids:
        return []
    newest = (
        select(func.max(Mention.id)).where(col(Mention.case_id).in_(case_ids)).group_by(col(Mention.case_id))
    )
    latest = {
        mention.case_id: mention
        for mention in session.exec(select(Mention).where(col(Mention.id).in_(newest)))
    }
    mentions = dict(
        session.exec(
            select(Mention.case_id, func.count())
            .where(col(Mention.case_id).in_(case_ids))
            .group_by(col(Mention.case_id))
        ).all()
    )
    last_reply = (
        select(func.max(OutboxEntry.id))
        .where(col(OutboxEntry.case_id).in_(case_ids))
        .group_by(col(OutboxEntry.case_id))
    )
    replies = dict(
        session.exec(
            select(OutboxEntry.case_id, OutboxEntry.state).where(col(OutboxEntry.id).in_(last_reply))
        ).all()
    )
    seen = dict(
        session.exec(
            select(CaseEvent.case_id, func.max(CaseEvent.id))
            .where(col(CaseEvent.case_id).in_(case_ids), col(CaseEvent.kind).in_(MATERIAL))
            .group_by(col(CaseEvent.case_id))
        ).all()
    )
    assignees = {case.assignee_id for case, _ in found if case.assignee_id}
    names = dict(
        session.exec(select(Employee.id, Employee.name).where(col(Employee.id).in_(assignees))).all()
    )
    return [
        QueueRow(
            case=case,
            author=author,
            latest=latest.get(case.id),
            assignee=names.get(case.assignee_id, "") if case.assignee_id else "",
            mentions=mentions.get(case.id, 0),
            reply_state=replies.get(case.id, ""),
            seen=seen.get(case.id, 0),
        )
        for case, author in found
    ]
