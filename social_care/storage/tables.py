"""The tables behind the concepts of DESIGN.md.

Events are the source of every metric; the timestamps kept on a case are
derived conveniences for the queue (what is due next) and are always written in
the same transaction as the event that explains them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from social_care.storage.types import UtcDateTime


def saved_id(row: SQLModel) -> int:
    """The primary key of a row already flushed to the database."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return value


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(default), sa_column=Column(JSON, nullable=False))


class Author(SQLModel, table=True):
    __tablename__ = "authors"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        # The profiles the retention purge may still blank: those it blanked are never read again.
        Index(
            "ix_authors_profile_kept",
            "id",
            sqlite_where=text("erased_at IS NULL"),
            postgresql_where=text("erased_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    external_id: str
    handle: str
    name: str = ""
    followers: int | None = None
    blocked: bool = False
    opted_out_at: datetime | None = _when()
    # When the profile (handle, name, followers) was blanked: no post of theirs kept, or the person
    # asked to be forgotten (see :mod:`social_care.compliance.scrubbing`).
    erased_at: datetime | None = _when()


class Mention(SQLModel, table=True):
    """One post from a platform, stored once per (platform, external id)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        # What the retention purge looks for, without reading again what it already blanked.
        Index(
            "ix_mentions_text_kept",
            "posted_at",
            sqlite_where=text("removed = ''"),
            postgresql_where=text("removed = ''"),
        ),
        Index(
            "ix_mentions_raw_kept",
            "posted_at",
            sqlite_where=text("raw_dropped_at IS NULL"),
            postgresql_where=text("raw_dropped_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(index=True)
    platform: str
    external_id: str
    url: str = ""
    author_id: int = Field(foreign_key="authors.id", index=True)
    text: str
    language: str | None = None
    posted_at: datetime = _when(nullable=False, index=True)  # the digest's posts of a day
    fetched_at: datetime = _when(nullable=False)
    thread_id: str | None = Field(default=None, index=True)
    parent_id: str | None = None
    direct: bool = False
    is_retweet: bool = False
    raw: dict[str, Any] = _json({})
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    processed_at: datetime | None = _when(index=True)
    # When its text, address and raw payload were blanked, and why (``removed``): "deleted" or
    # "protected" by its author, "removed" by the platform, "erased" at the person's request, or
    # "expired" under the retention policy. "" while the post is kept whole.
    deleted_at: datetime | None = _when()
    removed: str = ""
    # When the platform last said the post still stands (deletion compliance's daily check).
    checked_at: datetime | None = _when(index=True)
    # When the raw payload alone was dropped (``[retention] raw_payload_days``), the text still kept.
    raw_dropped_at: datetime | None = _when()


class TermMatch(SQLModel, table=True):
    __tablename__ = "term_matches"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    term: str
    kind: str
    brand: str
    product: str = ""
    matched_text: str
    start: int
    end: int
    score: float


class Classification(SQLModel, table=True):
    """A verdict on a mention; a person's correction is a new row, the old one is kept."""

    __tablename__ = "classifications"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    category: str
    cluster: str
    sentiment: float
    priority: str
    language: str
    confidence: float
    reasons: list[str] = _json([])
    decided_by: str
    decided_at: datetime = _when(nullable=False)
    current: bool = True


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "status", "response_due_at"),
        Index("ix_cases_team_status", "team", "status"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_category_opened", "category", "opened_at"),  # crisis watch: complaints per hour
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(index=True)
    platform: str
    author_id: int = Field(foreign_key="authors.id", index=True)
    thread_key: str = Field(index=True)
    status: str = "new"
    category: str
    cluster: str
    priority: str
    language: str
    brand: str
    product: str = ""
    team: str | None = None
    assignee_id: int | None = Field(default=None, foreign_key="employees.id")
    suggested_reply: str = ""
    opened_at: datetime = _when(nullable=False)
    last_activity_at: datetime = _when(nullable=False, index=True)  # what changed since a moment
    acknowledged_at: datetime | None = _when()
    assigned_at: datetime | None = _when()
    first_response_at: datetime | None = _when()
    resolved_at: datetime | None = _when()
    ack_due_at: datetime | None = _when()
    response_due_at: datetime | None = _when()
    resolution_due_at: datetime | None = _when()
    # The customer's oldest message still waiting for a person's answer; None while we wait on them.
    awaiting_reply_since: datetime | None = _when()
    reopened_at: datetime | None = _when()
    # The earliest SLA warning or escalation not yet made: what the sweeper looks for.
    sla_next_alert_at: datetime | None = _when(index=True)

    @property
    def reference(self) -> str:
        return f"SC-{self.id:06d}"


class CaseEvent(SQLModel, table=True):
    """Every change to a case, with who made it and when: the audit trail."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str
    actor: str
    employee_id: int | None = Field(default=None, foreign_key="employees.id")
    at: datetime = _when(nullable=False, index=True)
    from_status: str | None = None
    to_status: str | None = None
    detail: dict[str, Any] = _json({})


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    strategy: str = "round_robin"
    supervisor_id: int | None = Field(default=None, foreign_key="employees.id")
    last_assigned_id: int | None = Field(default=None, foreign_key="employees.id")


class Employee(SQLModel, table=True):
    """A person from the configuration; the row carries what the database must know."""

    __tablename__ = "employees"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    name: str
    role: str = "agent"
    active: bool = True
    available: bool = True
    capacity: int = 20
    password_hash: str | None = None
    # Bumped at logout and password change: every session signed before is void.
    session_version: int = 0


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    employee_id: int = Field(foreign_key="employees.id", primary_key=True)


class OutboxEntry(SQLModel, table=True):
    """A reply to send, claimed with a lease and sent at most once per idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    source_id: str
    purpose: str
    in_reply_to: str
    text: str
    state: str = "pending"
    attempts: int = 0
    created_by: str = "system"
    created_at: datetime = _when(nullable=False)
    next_attempt_at: datetime = _when(nullable=False)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when()
    platform_reply_id: str | None = None
    sent_at: datetime | None = _when()
    last_error: str = ""


class SourceState(SQLModel, table=True):
    """Where a source's polling stands: its cursor, health and read budget."""

    __tablename__ = "source_states"

    source_id: str = Field(primary_key=True)
    cursor: str | None = None
    status: str = "ok"
    last_error: str = ""
    failures: int = 0
    last_polled_at: datetime | None = _when()
    next_poll_at: datetime | None = _when()
    reads_month: str = ""
    reads_used: int = 0
    reads_per_poll: float = 0.0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when()


class RequestLog(SQLModel, table=True):
    """When a source's latest requests to its platform were made, by any worker: its rate limit's window."""

    __tablename__ = "request_log"

    source_id: str = Field(primary_key=True)
    sent: list[float] = _json([])


class RejectedPayload(SQLModel, table=True):
    """A platform payload that could not be understood, kept for a person to inspect."""

    __tablename__ = "rejected_payloads"

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(index=True)
    received_at: datetime = _when(nullable=False)
    reason: str
    payload: str


class SlaAlert(SQLModel, table=True):
    """A warning or escalation made for one clock of a case; unique, so it is made once."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("case_id", "target", "level", "due_at", name="uq_sla_alerts_once"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    target: str
    level: str
    due_at: datetime = _when(nullable=False)
    made_at: datetime = _when(nullable=False)


class CsatResponse(SQLModel, table=True):
    __tablename__ = "csat_responses"
    __table_args__ = (UniqueConstraint("case_id", name="uq_csat_responses_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    score: int
    comment: str = ""
    answered_at: datetime = _when(nullable=False)


class Switch(SQLModel, table=True):
    """A service-wide switch a person flips (the kill switch), shared by web and worker processes."""

    __tablename__ = "switches"

    name: str = Field(primary_key=True)
    engaged: bool = False
    reason: str = ""
    changed_by: str = ""
    changed_at: datetime = _when(nullable=False)


class Crisis(SQLModel, table=True):
    """A spike of complaints well above their recent baseline, from its start to its end.

    ``ongoing`` is true while it lasts and null after: its unique index lets at
    most one crisis be open, so two workers seeing the same spike cannot start
    two (the second one's transaction fails and its post is processed again).
    """

    __tablename__ = "crises"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = _when(nullable=False, index=True)
    ended_at: datetime | None = _when()
    ongoing: bool | None = Field(default=None, unique=True)
    complaints_last_hour: int
    threshold: float
    baseline_mean: float
    baseline_deviation: float


class MailEntry(SQLModel, table=True):
    """An e-mail to send, rendered when queued, claimed with a lease, sent once per key."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    purpose: str
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    recipients: list[str] = _json([])
    subject: str
    text: str
    html: str
    state: str = "pending"
    attempts: int = 0
    created_at: datetime = _when(nullable=False)
    next_attempt_at: datetime = _when(nullable=False)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when()
    sent_at: datetime | None = _when()
    last_error: str = ""


class CareRollup(SQLModel, table=True):
    """The service figures of one hour (or one UTC day) for the cases of one brand, source, category,
    priority and team.

    Derived from the case events (see :mod:`social_care.metrics.rollups`), kept current
    in the transaction that changes a case, and rebuilt by ``social-care rollups
    rebuild``. Counts add up; the durations (seconds), the active cases and the SLA
    outcomes are kept whole in ``samples``, so medians and percentiles over any period
    are exact. ``team`` is "" for a case never routed. A day row holds the sum of its
    24 hour rows: a month reads 30 of them instead of 720.
    """

    __tablename__ = "care_rollups"
    __table_args__ = (
        UniqueConstraint(
            "grain", "hour", "brand", "source_id", "category", "priority", "team", name="uq_care_rollups"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    grain: str = "hour"  # hour | day
    hour: datetime = _when(nullable=False, index=True)  # where the hour (or the UTC day) starts
    brand: str
    source_id: str
    platform: str
    category: str
    priority: str
    team: str = ""
    opened: int = 0  # cases opened (when the customer wrote)
    opened_dismissed: int = 0  # of those, now spam or ignored
    opened_resolved: int = 0  # of those, now resolved
    went_open: int = 0  # cases opened or reopened: the backlog grew
    went_closed: int = 0  # cases resolved or dismissed: the backlog shrank
    messages: int = 0  # customers' posts (when they wrote them)
    replies: int = 0  # our acknowledgements and people's replies that reached them
    csat_answers: int = 0
    csat_score_sum: int = 0
    csat_satisfied: int = 0
    # {"acknowledgement_seconds": [...], "first_response_seconds", "response_seconds",
    #  "resolution_seconds", "active": [case ids with a message or a reply], "sla": {target: [met, missed]}}
    samples: dict[str, Any] = _json({})


class MentionRollup(SQLModel, table=True):
    """One hour's (or UTC day's) customer posts about a brand by source, category, cluster, product,
    language and team."""

    __tablename__ = "mention_rollups"
    __table_args__ = (
        UniqueConstraint(
            "grain",
            "hour",
            "brand",
            "source_id",
            "category",
            "cluster",
            "product",
            "language",
            "team",
            name="uq_mention_rollups",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    grain: str = "hour"
    hour: datetime = _when(nullable=False, index=True)
    brand: str
    source_id: str
    platform: str
    category: str
    cluster: str
    product: str = ""
    language: str = ""
    team: str = ""
    mentions: int = 0


class CaseContribution(SQLModel, table=True):
    """What one case last added to the rollups, so a change to it moves only its own share."""

    __tablename__ = "case_contributions"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    shares: list[dict[str, Any]] = _json([])


class MailImage(SQLModel, table=True):
    """An inline image of a queued mail (a digest's chart), kept so that a retry sends the same mail.

    Apart from the outbox row so that the rows senders claim and scan stay small,
    and as bytes rather than base64 in JSON; a mail without images has no rows here.
    """

    __tablename__ = "mail_images"

    mail_id: int = Field(foreign_key="mail_outbox.id", primary_key=True)
    position: int = Field(primary_key=True)
    content_id: str
    alt: str
    png: bytes = Field(sa_type=LargeBinary, nullable=False)


class DigestRun(SQLModel, table=True):
    """One recipient's digest of one local day, made once: the row is unique, and it is inserted in
    the transaction that queues the mail, so a digest exists exactly when its mail was queued.

    The rendered mail is kept for the archive, its charts inlined as data: URIs so the
    page shows it whatever becomes of the mail outbox. A day skipped (quiet, nothing in
    scope) has a row too, so no worker considers it again.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("recipient", "day", name="uq_digest_runs_once"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str
    day: date = Field(index=True)
    state: str  # queued | skipped
    reason: str = ""  # why a day was skipped
    made_at: datetime = _when(nullable=False)
    made_by: str = ""  # the worker, or the person at the command line
    brands: list[str] = _json([])
    subject: str = ""
    text: str = ""
    html: str = ""
    mail_id: int | None = Field(default=None, foreign_key="mail_outbox.id")
    chat: str = ""  # the short version in chat: "" none configured | sent | failed: why


class TriageLabel(SQLModel, table=True):
    """What a post really is, by a person: the data triage learns from.

    A label comes from a correction in the inbox (``source`` "inbox": a case, its
    first mention and the employee who corrected it) or from a company's labelled
    examples (``source`` "import": the post's own text and the file's id for it,
    which makes importing the same file twice replace, not duplicate). The rules'
    verdict on the same post is kept beside the person's (``rules_*``), so a model
    can be measured against the rules. Each correction is its own row: the latest
    one for a case is its current label.
    """

    __tablename__ = "triage_labels"

    id: int | None = Field(default=None, primary_key=True)
    source: str = "inbox"
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", index=True)
    employee_id: int | None = Field(default=None, foreign_key="employees.id")
    external_id: str | None = Field(default=None, unique=True)
    text: str = ""
    imported_from: str = ""
    imported_by: str = ""
    at: datetime = _when(nullable=False, index=True)
    reason: str = ""
    category: str
    cluster: str = ""
    priority: str = ""
    product: str = ""
    team: str = ""
    language: str = ""
    rules_category: str = ""
    rules_cluster: str = ""
    rules_priority: str = ""


class TriageModel(SQLModel, table=True):
    """A trained triage model, one row per version.

    ``status`` is "shadow" (its verdicts are stored beside the rules' and acted on by
    nothing), "active" (it decides the category; at most one is), or "retired".
    ``labels_through`` is the last label it was trained on: unique, so two workers
    retraining on the same labels store one model. ``model`` is the gzipped JSON of
    :class:`~social_care.learning.model.LearnedModel`, never pickled code.
    """

    __tablename__ = "triage_models"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="shadow", index=True)
    created_at: datetime = _when(nullable=False)
    created_by: str = ""
    labels: int = 0
    labels_through: int = Field(default=0, unique=True)
    wins: bool = False
    model_macro_f1: float = 0.0
    rules_macro_f1: float = 0.0
    evaluation: dict[str, Any] = _json({})
    activated_at: datetime | None = _when()
    retired_at: datetime | None = _when()
    model: bytes = Field(sa_type=LargeBinary, nullable=False)


class CaseViewer(SQLModel, table=True):
    """Who has a case open in the inbox right now, and who is typing in it: shared by every web process."""

    __tablename__ = "case_viewers"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    employee_id: int = Field(foreign_key="employees.id", primary_key=True)
    seen_until: datetime = _when(nullable=False)
    typing_until: datetime | None = _when()


class ApiToken(SQLModel, table=True):
    """A person's key to the JSON API, which acts as them with their scope.

    Only the SHA-256 of the secret is kept: the secret is shown once, when the token is
    made, and the table holds nothing that opens the API. A token stops working when it
    is revoked or when its holder leaves the configuration.
    """

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employees.id", index=True)
    name: str
    token_hash: str = Field(unique=True)
    created_at: datetime = _when(nullable=False)
    last_used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()


class AuditEvent(SQLModel, table=True):
    """Something done that an administrator must be able to account for: a sign-in, an export or
    an erasure of a person's data, the kill switch, a model or a token made or withdrawn.

    Kept apart from the case events (which are the figures' truth and go with their case):
    ``subject`` names what was acted on without repeating personal data (an erased author is
    "x author #12", never their handle), ``address`` is the client's, when there was one.
    """

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(nullable=False, index=True)
    kind: str = Field(index=True)
    actor: str
    employee_id: int | None = Field(default=None, foreign_key="employees.id")
    subject: str = ""
    address: str = ""
    detail: dict[str, Any] = _json({})
