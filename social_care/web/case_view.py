"""What the case page shows: one timeline of the conversation, the customer, the deadlines and
what the person looking may do.

Everything here is read from the database in a handful of queries per page; the
template only lays it out. Names come from the employees table, so the history
says who did what, and times are turned to the viewer's zone by the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from connectors.registry import PLATFORMS, connector_class
from responders.saved_replies import Offered, saved_replies_for
from social_care import csat, lifecycle
from social_care.case_changes import latest_change
from social_care.case_states import CLOSED_STATES, DISMISSALS
from social_care.compliance.scrubbing import IN_PLACE_OF_THE_TEXT
from social_care.config.models import Config
from social_care.corrections import CATEGORIES, CLUSTERS, PRIORITIES, products_of
from social_care.routing import CaseFacts, eligible
from social_care.scope import may_act, may_take, visible_cases
from social_care.storage.tables import (
    Author,
    Case,
    CaseEvent,
    Classification,
    Employee,
    Mention,
    OutboxEntry,
    Team,
    TeamMember,
)
from social_care.switches import current_pause
from social_care.web.event_words import describe, names_of

DUE_SOON = timedelta(minutes=30)
OTHER_CASES = 20
# Within one moment: what the customer wrote, what we did about it, then what we sent.
_SAME_MOMENT = ("post", "event", "note", "acknowledgement", "reply")
# Shown by the posts and replies themselves, not again as events.
_SHOWN_ELSEWHERE = frozenset({"opened", "mention_added", "reply_queued", "responded", "acknowledged"})


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a post, one of our messages, a note or something that happened."""

    kind: str  # post | acknowledgement | reply | note | event
    at: datetime
    who: str
    text: str = ""
    handle: str = ""
    platform: str = ""
    url: str = ""
    state: str = ""
    state_class: str = ""
    post_id: str = ""  # the platform's id of a post


@dataclass(frozen=True)
class Deadline:
    label: str
    due: datetime
    state: str  # ok | soon | overdue


@dataclass(frozen=True)
class Teammate:
    id: int
    name: str


@dataclass
class CaseView:
    case: Case
    author: Author
    profile_url: str
    assignee: str
    timeline: list[Entry]
    deadlines: list[Deadline]
    other_cases: list[Case]
    seen: int
    latest: int
    may_act: bool
    may_take: bool
    closed: bool
    dismissed: bool
    teammates: list[Teammate] = field(default_factory=list)
    saved_replies: list[Offered] = field(default_factory=list)
    reply_limit: int = 0
    link_length: int = 0
    survey_length: int = 0
    categories: tuple[str, ...] = CATEGORIES
    clusters: tuple[str, ...] = CLUSTERS
    priorities: tuple[str, ...] = PRIORITIES
    products: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    verdicts: list[Classification] = field(default_factory=list)


def viewer_zone(config: Config, employee: Employee) -> ZoneInfo:
    """The viewer's own time zone by the configuration, else the service's."""
    person = next((item for item in config.employees if item.email == employee.email), None)
    return ZoneInfo(person.timezone if person else config.service.timezone)


def build(
    session: Session, config: Config, employee: Employee, case: Case, *, now: datetime, secret_key: str
) -> CaseView:
    author = session.get_one(Author, case.author_id)
    names = names_of(session)
    platform = connector_class(case.platform) if _known(case.platform) else None
    acting = may_act(config, employee, case)
    view = CaseView(
        case=case,
        author=author,
        profile_url=platform.profile_url(author.handle) if platform and author.handle else "",
        assignee=names.get(case.assignee_id, "") if case.assignee_id else "",
        timeline=timeline(session, config, case, names),
        deadlines=deadlines(case, now),
        other_cases=other_cases(session, employee, case),
        seen=latest_change(session, case.id or 0),
        latest=session.exec(select(func.max(CaseEvent.id)).where(CaseEvent.case_id == case.id)).one() or 0,
        may_act=acting,
        may_take=may_take(config, employee, case) and case.status not in CLOSED_STATES,
        closed=case.status in CLOSED_STATES,
        dismissed=case.status in DISMISSALS,
        products=products_of(config, case.brand),
        teams=[team.name for team in config.teams],
        verdicts=verdicts(session, case),
    )
    if acting:
        view.teammates = teammates(session, config, case, now)
        view.saved_replies = saved_replies_for(config, case, author, now)
    if acting and platform is not None:
        view.reply_limit, view.link_length = platform.reply_max_length, platform.link_length
        resolution = csat.resolution_reply(config, secret_key, case, "", now)
        view.survey_length = platform.reply_length(resolution)
    return view


def verdicts(session: Session, case: Case) -> list[Classification]:
    """Why the case has its triage: the verdicts on the post that opened it, from its latest
    triage, the one acted on first, then the rules' (when a model decided) and a shadow model's."""
    first = session.exec(
        select(Mention.id).where(Mention.case_id == case.id).order_by(col(Mention.id)).limit(1)
    ).first()
    if first is None:
        return []
    rows = list(
        session.exec(
            select(Classification)
            .where(Classification.mention_id == first)
            .order_by(col(Classification.id).desc())
        )
    )
    latest = [row for row in rows if rows and row.decided_at == rows[0].decided_at]
    return sorted(latest, key=lambda row: (not row.current, row.id))


def _known(platform: str) -> bool:
    return platform in PLATFORMS


def timeline(session: Session, config: Config, case: Case, names: dict[int | None, str]) -> list[Entry]:
    """The case's posts, our messages, notes and events, in time order."""
    entries: list[Entry] = []
    mentions = session.exec(
        select(Mention, Author)
        .join(Author, col(Author.id) == col(Mention.author_id))
        .where(Mention.case_id == case.id)
        .order_by(col(Mention.id))
    ).all()
    for mention, writer in mentions:
        entries.append(
            Entry(
                kind="post",
                at=min(mention.posted_at, mention.fetched_at),
                who=writer.name or writer.handle or "(profile removed)",
                handle=writer.handle,
                platform=mention.platform,
                url=web_link(mention.url),
                text=f"[{IN_PLACE_OF_THE_TEXT.get(mention.removed, 'Post removed')}]"
                if mention.removed
                else mention.text,
                post_id=mention.external_id,
            )
        )
    replied_urls = {mention.external_id: mention.url for mention, _ in mentions}
    paused = current_pause(session) is not None
    outbox = session.exec(
        select(OutboxEntry).where(OutboxEntry.case_id == case.id).order_by(col(OutboxEntry.id))
    )
    for entry in outbox:
        replied_url = replied_urls.get(entry.in_reply_to, "")
        entries.append(_message(config, case, entry, names=names, paused=paused, replied_url=replied_url))
    happened = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id)))
    for event in happened:
        if event.kind == lifecycle.NOTE:
            entries.append(
                Entry("note", event.at, names.get(event.employee_id, "someone"), str(event.detail["text"]))
            )
        elif event.kind not in _SHOWN_ELSEWHERE:
            who = names.get(event.employee_id, "") if event.employee_id else ""
            entries.append(Entry("event", event.at, who, describe(event, names)))
    return sorted(entries, key=lambda entry: (entry.at, _SAME_MOMENT.index(entry.kind)))


def _message(
    config: Config,
    case: Case,
    entry: OutboxEntry,
    *,
    names: dict[int | None, str],
    paused: bool,
    replied_url: str,
) -> Entry:
    automatic = not entry.created_by.startswith("employee:")
    who = "Automatic acknowledgement" if automatic else names.get(_employee_id(entry.created_by), "someone")
    state, css, url = _delivery(entry, automatic=automatic, paused=paused), "", ""
    if entry.state == "sent":
        css = "sent"
        source = next((item for item in config.sources if item.id == entry.source_id), None)
        if entry.platform_reply_id and _known(case.platform):
            url = connector_class(case.platform).reply_url(
                account=source.account if source else "",
                reply_id=entry.platform_reply_id,
                replied_url=replied_url,
            )
    elif entry.state in ("dead", lifecycle.CANCELLED) or (entry.state == "failed" and entry.last_error):
        css = "failed"
    elif automatic and paused and entry.state == "pending":
        css = "held"
    kind = "acknowledgement" if entry.purpose == "acknowledgement" else "reply"
    return Entry(
        kind,
        entry.created_at,
        who,
        entry.text,
        platform=case.platform,
        url=web_link(url),
        state=state,
        state_class=css,
    )


def web_link(url: str) -> str:
    """A stranger's link made safe to follow from our page: http(s) only, never ``javascript:``."""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _employee_id(created_by: str) -> int | None:
    number = created_by.removeprefix("employee:")
    return int(number) if number.isdigit() else None


def _delivery(entry: OutboxEntry, *, automatic: bool, paused: bool) -> str:
    """Where one of our messages stands, in words."""
    if automatic and paused and entry.state in ("pending", "failed"):
        return "held by the kill switch"
    error = entry.last_error
    words = {
        "sent": "sent",
        lifecycle.CANCELLED: error or "cancelled",
        "dead": f"failed: {error or 'the platform refused it'}",
        "failed": f"failed, trying again: {error}" if error else "waiting to be sent",
        "sending": "being sent",
        "unknown": "being sent",
    }
    return words.get(entry.state, "waiting to be sent")


def deadlines(case: Case, now: datetime) -> list[Deadline]:
    found = []
    for label, due in (
        ("Acknowledge by", case.ack_due_at),
        ("Reply by", case.response_due_at),
        ("Resolve by", case.resolution_due_at),
    ):
        if due is not None:
            state = "overdue" if due <= now else "soon" if due - now <= DUE_SOON else "ok"
            found.append(Deadline(label, due, state))
    return found


def other_cases(session: Session, employee: Employee, case: Case) -> list[Case]:
    """The customer's other cases the viewer may see, newest first."""
    statement = (
        select(Case)
        .where(Case.author_id == case.author_id, Case.id != case.id, visible_cases(session, employee))
        .order_by(col(Case.id).desc())
        .limit(OTHER_CASES)
    )
    return list(session.exec(statement))


def teammates(session: Session, config: Config, case: Case, now: datetime) -> list[Teammate]:
    """Who of the case's team could take it now: active, available, competent, authorised, on shift."""
    if not case.team:
        return []
    members = session.exec(
        select(Employee)
        .join(TeamMember, col(TeamMember.employee_id) == col(Employee.id))
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .where(Team.name == case.team, Employee.active, Employee.available)
        .order_by(col(Employee.name))
    ).all()
    people = {person.email: person for person in config.employees}
    facts = CaseFacts.of(case)
    return [
        Teammate(member.id or 0, member.name)
        for member in members
        if member.id != case.assignee_id
        and member.email in people
        and eligible(people[member.email], case.team, facts, now)
    ]
