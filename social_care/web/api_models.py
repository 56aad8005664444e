"""What the JSON API reads and answers, as pydantic models: the OpenAPI description is made of these.

The answers are built from what the inbox itself shows (:mod:`social_care.queue_views`'s
rows, :mod:`social_care.web.case_view`'s case), so the API and the pages cannot
disagree. Every action carries ``seen``, the latest change of the case its client
knows: an action on a case that changed since is refused with what changed (409),
as the case page refuses a stale form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from social_care.corrections import MAX_REASON_LENGTH
from social_care.queue_views import QueueRow, View
from social_care.storage.tables import Author, Case
from social_care.web.case_page import MAX_NOTE_LENGTH, MAX_REPLY_LENGTH, REPLY_KEY
from social_care.web.case_view import CaseView, Entry
from social_care.web.queue_bulk import ACTIONS, MAX_CASES, Outcome

# -- answers ---------------------------------------------------------------------------------------


class CaseOut(BaseModel):
    """A case as the queue lists it: what it is, whose it is and what is due."""

    id: int
    reference: str
    status: str
    platform: str
    source_id: str
    brand: str
    product: str
    category: str
    cluster: str
    priority: str
    language: str
    team: str | None = Field(description="None: no routing rule fits it (a supervisor routes it)")
    assignee_id: int | None
    assignee: str = Field(description="The assignee's name, '' when nobody has the case")
    suggested_reply: str
    opened_at: datetime
    last_activity_at: datetime
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime | None = Field(
        description="The next deadline of the three below, None when no clock runs"
    )
    ack_due_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None

    @classmethod
    def of(cls, case: Case, assignee: str) -> CaseOut:
        deadlines = [due for due in (case.ack_due_at, case.response_due_at, case.resolution_due_at) if due]
        return cls(
            id=case.id or 0,
            reference=case.reference,
            status=case.status,
            platform=case.platform,
            source_id=case.source_id,
            brand=case.brand,
            product=case.product,
            category=case.category,
            cluster=case.cluster,
            priority=case.priority,
            language=case.language,
            team=case.team,
            assignee_id=case.assignee_id,
            assignee=assignee,
            suggested_reply=case.suggested_reply,
            opened_at=case.opened_at,
            last_activity_at=case.last_activity_at,
            acknowledged_at=case.acknowledged_at,
            first_response_at=case.first_response_at,
            resolved_at=case.resolved_at,
            due_at=min(deadlines, default=None),
            ack_due_at=case.ack_due_at,
            response_due_at=case.response_due_at,
            resolution_due_at=case.resolution_due_at,
        )


class AuthorOut(BaseModel):
    """The customer: a stranger's words, to be shown as text, never as markup."""

    id: int
    platform: str
    handle: str
    name: str
    followers: int | None
    profile_url: str = ""

    @classmethod
    def of(cls, author: Author, profile_url: str = "") -> AuthorOut:
        return cls(
            id=author.id or 0,
            platform=author.platform,
            handle=author.handle,
            name=author.name,
            followers=author.followers,
            profile_url=profile_url,
        )


class QueueRowOut(BaseModel):
    case: CaseOut
    author: AuthorOut
    latest_post: str | None = Field(description="The text of the customer's latest post")
    mentions: int = Field(description="How many posts the case holds")
    reply_state: str = Field(description="Where our latest message stands: pending, sent, failed... or ''")
    seen: int = Field(description="The case's latest change: send it with an action on the case")

    @classmethod
    def of(cls, row: QueueRow) -> QueueRowOut:
        return cls(
            case=CaseOut.of(row.case, row.assignee),
            author=AuthorOut.of(row.author),
            latest_post=row.latest.text if row.latest else None,
            mentions=row.mentions,
            reply_state=row.reply_state,
            seen=row.seen,
        )


class ViewOut(BaseModel):
    name: str
    title: str
    count: int = Field(
        description="cases in the view; the recently closed are counted up to 1,000 (more reads 1000)"
    )

    @classmethod
    def of(cls, view: View, count: int) -> ViewOut:
        return cls(name=view.name, title=view.title, count=count)


class QueueOut(BaseModel):
    view: str
    order: str
    views: list[ViewOut] = Field(description="The person's views, with how many cases each holds")
    rows: list[QueueRowOut]
    next: str = Field(description="Pass as `after` for the next page; '' on the last page")


class EntryOut(BaseModel):
    """One line of the case's timeline."""

    kind: Literal["post", "acknowledgement", "reply", "note", "event"]
    at: datetime
    who: str
    text: str = Field(description="A post, a message, a note, or what happened in words")
    handle: str = ""
    platform: str = ""
    url: str = ""
    state: str = Field("", description="Where one of our messages stands, in words")

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls.model_validate(entry, from_attributes=True)


class DeadlineOut(BaseModel):
    label: str
    due: datetime
    state: Literal["ok", "soon", "overdue"]


class TeammateOut(BaseModel):
    id: int
    name: str


class SavedReplyOut(BaseModel):
    name: str
    text: str
    problem: str = Field("", description="Why it cannot be sent as it is, or ''")


class CaseBriefOut(BaseModel):
    id: int
    reference: str
    status: str
    opened_at: datetime


class CaseDetailOut(BaseModel):
    """One case as its page shows it to the person asking."""

    case: CaseOut
    author: AuthorOut
    timeline: list[EntryOut] = Field(description="Posts, our messages, notes and events, in time order")
    deadlines: list[DeadlineOut]
    other_cases: list[CaseBriefOut] = Field(description="The customer's other cases the person may see")
    seen: int = Field(description="The case's latest change: send it with an action on the case")
    may_act: bool = Field(description="May reply, correct, assign, release, dismiss or reopen it")
    may_take: bool
    teammates: list[TeammateOut] = Field(description="Whom it may be assigned to now")
    saved_replies: list[SavedReplyOut]
    reply_limit: int = Field(description="How long a reply the platform takes, 0: none is possible")

    @classmethod
    def of(cls, view: CaseView) -> CaseDetailOut:
        return cls(
            case=CaseOut.of(view.case, view.assignee),
            author=AuthorOut.of(view.author, view.profile_url),
            timeline=[EntryOut.of(entry) for entry in view.timeline],
            deadlines=[DeadlineOut.model_validate(item, from_attributes=True) for item in view.deadlines],
            other_cases=[
                CaseBriefOut(
                    id=case.id or 0, reference=case.reference, status=case.status, opened_at=case.opened_at
                )
                for case in view.other_cases
            ],
            seen=view.seen,
            may_act=view.may_act,
            may_take=view.may_take,
            teammates=[TeammateOut(id=mate.id, name=mate.name) for mate in view.teammates],
            saved_replies=[
                SavedReplyOut.model_validate(item, from_attributes=True) for item in view.saved_replies
            ],
            reply_limit=view.reply_limit,
        )


class MessageOut(BaseModel):
    id: int
    state: str


class ActionOut(BaseModel):
    """The case after the action, and its latest change for the next one."""

    case: CaseOut | None = Field(description="None when the action took the case out of the person's scope")
    seen: int
    reply: MessageOut | None = Field(None, description="The reply queued (a reply only)")


class BulkDoneOut(BaseModel):
    id: int
    seen: int = Field(description="The case's latest change after the action (to undo it, say)")


class BulkRefusedOut(BaseModel):
    id: int
    reason: str
    changes: list[str] = Field(description="What changed meanwhile, when that is why")


class BulkOut(BaseModel):
    done: list[BulkDoneOut]
    refused: list[BulkRefusedOut]

    @classmethod
    def of(cls, outcome: Outcome, latest: dict[int, int]) -> BulkOut:
        return cls(
            done=[BulkDoneOut(id=case_id, seen=latest[case_id]) for case_id in outcome.done],
            refused=[
                BulkRefusedOut(id=item.case_id, reason=item.reason, changes=item.changes)
                for item in outcome.refused
            ],
        )


class ErrorOut(BaseModel):
    detail: str


class StaleOut(BaseModel):
    detail: str
    changes: list[str] = Field(description="What others (or the customer) changed since `seen`")


# -- requests --------------------------------------------------------------------------------------


class QueueParams(BaseModel):
    """The queue's view, filters, search, order and page: the web queue's own URL parameters."""

    model_config = ConfigDict(extra="forbid")

    view: str = Field(
        "",
        description="mine, team, open (supervisors), waiting, suggested, due or closed;"
        " by default open for supervisors, mine for agents",
    )
    status: str = ""
    team: str = Field("", description="A team's name, or none for the cases no rule routed")
    assignee: str = Field("", description="A person's id, or none")
    category: str = ""
    cluster: str = ""
    priority: str = ""
    platform: str = ""
    source: str = ""
    brand: str = ""
    product: str = ""
    language: str = ""
    due: str = Field("", description="overdue, soon, later or none")
    since: str = Field("", description="Opened on or after this day (YYYY-MM-DD, the person's time zone)")
    until: str = Field("", description="Opened on or before this day (YYYY-MM-DD)")
    q: str = Field("", description="Words of the posts, the customer's handle or name, or a reference")
    sort: str = Field(
        "", description="due, priority, newest, recent or reach; by default due (recent when closed)"
    )
    after: str = Field("", description="The `next` of the previous page")


class ApiInput(BaseModel):
    """What a client sends: a field we do not know is refused, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Fresh(ApiInput):
    seen: int = Field(ge=0, description="The latest change of the case the client knows (its `seen`)")


class ReplyIn(Fresh):
    text: str = Field(min_length=1, max_length=MAX_REPLY_LENGTH)
    resolve: bool = Field(False, description="Resolve the case once the reply is sent (with the survey link)")
    request_key: str = Field(
        pattern=f"^{REPLY_KEY.pattern}$",
        description="16 to 64 letters, digits, - or _: the same key sent again queues nothing more",
    )


class NoteIn(ApiInput):
    """A note conflicts with nothing, so it needs no ``seen``: anyone who sees the case may leave one."""

    text: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH)


class SeenOnly(Fresh):
    """Take or release: nothing but the change the client knows."""


class AssignIn(Fresh):
    assignee: int = Field(description="Someone of the case's team who can take it now (see `teammates`)")


class CorrectIn(Fresh):
    """What to correct; what is left out stays as it is."""

    category: str | None = None
    cluster: str | None = None
    priority: str | None = None
    product: str | None = None
    team: str | None = Field(None, description="Moving a case to another team routes it there")
    reason: str = Field("", max_length=MAX_REASON_LENGTH)


class DismissIn(Fresh):
    reason: Literal["spam", "ignored"]


class ReopenIn(Fresh):
    reason: str = Field("", max_length=MAX_REASON_LENGTH)


class BulkCase(ApiInput):
    id: int
    seen: int = Field(ge=0)


class BulkIn(ApiInput):
    action: str = Field(json_schema_extra={"enum": list(ACTIONS)})
    value: str = Field("", description="assign: the person's id; category, priority: the new one")
    cases: list[BulkCase] = Field(min_length=1, max_length=MAX_CASES)

    @field_validator("action")
    @classmethod
    def one_of_the_queues(cls, action: str) -> str:
        if action not in ACTIONS:
            raise ValueError(f"one of {', '.join(ACTIONS)}")
        return action
