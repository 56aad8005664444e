"""What one case adds to the hourly rollups, derived from its events alone.

Every figure a report or a digest shows is a sum over hours of these shares: a
count, a list of durations, or the cases active in an hour. They are computed
from a case's whole history each time it changes (a case has a handful of
events), so a share always says what the events say, whatever path changed
the case. The rules are those of the service figures: an acknowledgement is
our first that reached the customer or a person's first reply; a clock is
counted once, when met or when its breach was recorded; the customer's posts
count at the moment they wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from social_care.case_states import CLOSED_STATES, DISMISSALS

CUSTOMER_MESSAGES = ("opened", "mention_added")
CYCLE_STARTS = ("opened", "reopened")
OUR_REPLIES = ("acknowledged", "responded")
DISMISSED = DISMISSALS
CLOSED = CLOSED_STATES
SATISFIED = 4  # a CSAT score of 4 or 5
# Events no figure reads: a case's share cannot change by them.
UNCOUNTED = frozenset({"sla_warning", "post_removed"})
CARE, MENTIONS = "care", "mentions"
ACKNOWLEDGEMENT, RESPONSE, RESOLUTION = "acknowledgement", "response", "resolution"


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class MentionFacts:
    """What the rollups need of one of the case's posts."""

    mention_id: int
    wrote_at: datetime
    category: str
    cluster: str
    product: str
    language: str


class CaseFacts(Protocol):
    """What a share needs of a case: a stored case, or a plain row of the cases table."""

    id: int | None
    brand: str
    source_id: str
    platform: str
    category: str
    cluster: str
    priority: str
    language: str
    product: str
    team: str | None
    status: str


class EventFacts(Protocol):
    """What a share needs of an event: a stored event, or a plain row of the events table."""

    kind: str
    at: datetime
    to_status: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class CaseHistory:
    case: CaseFacts
    events: Sequence[EventFacts]  # in time order
    mentions: Sequence[MentionFacts]
    csat_scores: Sequence[tuple[datetime, int]] = ()


@dataclass
class Share:
    """One case's part of one rollup row: its table, hour and dimensions, and what it adds there."""

    table: str
    hour: datetime
    dims: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    lists: dict[str, list[float]] = field(default_factory=dict)
    active: list[int] = field(default_factory=list)
    sla: dict[str, list[int]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return self.table, self.hour.isoformat(), self.dims

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "hour": self.hour.isoformat(),
            "dims": list(self.dims),
            "counts": self.counts,
            "lists": self.lists,
            "active": self.active,
            "sla": self.sla,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Share:
        return cls(
            table=data["table"],
            hour=datetime.fromisoformat(data["hour"]),
            dims=tuple(data["dims"]),
            counts=dict(data["counts"]),
            lists={name: list(values) for name, values in data["lists"].items()},
            active=list(data["active"]),
            sla={target: list(pair) for target, pair in data["sla"].items()},
        )


class _Shares:
    """The shares of one case, gathered by row."""

    def __init__(self, case: CaseFacts) -> None:
        self._case = case
        self._care_dims = (
            case.brand,
            case.source_id,
            case.platform,
            case.category,
            case.priority,
            case.team or "",
        )
        self._rows: dict[tuple[str, str, tuple[str, ...]], Share] = {}

    def care(self, moment: datetime) -> Share:
        return self._row(CARE, moment, self._care_dims)

    def mention(self, facts: MentionFacts) -> Share:
        case = self._case
        dims = (
            case.brand,
            case.source_id,
            case.platform,
            facts.category,
            facts.cluster,
            facts.product,
            facts.language,
            case.team or "",
        )
        return self._row(MENTIONS, facts.wrote_at, dims)

    def _row(self, table: str, moment: datetime, dims: tuple[str, ...]) -> Share:
        hour = hour_of(moment)
        key = (table, hour.isoformat(), dims)
        share = self._rows.get(key)
        if share is None:
            share = self._rows[key] = Share(table, hour, dims)
        return share

    def all(self) -> list[Share]:
        return sorted(self._rows.values(), key=lambda share: share.key)


def contributions(history: CaseHistory) -> list[Share]:
    """Every share of the rollups that ``history`` accounts for."""
    events = list(history.events)
    if not events or events[0].kind != "opened":
        return []
    shares = _Shares(history.case)
    wrote = {facts.mention_id: facts for facts in history.mentions}
    _opening(shares, history.case, events[0])
    _backlog_moves(shares, events)
    _messages_and_replies(shares, history.case, events, wrote)
    _durations(shares, events)
    _clock_outcomes(shares, events)
    for answered_at, score in history.csat_scores:
        row = shares.care(answered_at)
        _add(row.counts, "csat_answers", 1)
        _add(row.counts, "csat_score_sum", score)
        _add(row.counts, "csat_satisfied", int(score >= SATISFIED))
    for facts in history.mentions:
        _add(shares.mention(facts).counts, "mentions", 1)
    return shares.all()


def _add(counts: dict[str, int], name: str, amount: int) -> None:
    counts[name] = counts.get(name, 0) + amount


def _opening(shares: _Shares, case: CaseFacts, opened: EventFacts) -> None:
    row = shares.care(opened.at)
    _add(row.counts, "opened", 1)
    _add(row.counts, "opened_dismissed", int(case.status in DISMISSED))
    _add(row.counts, "opened_resolved", int(case.status == "resolved"))


def _backlog_moves(shares: _Shares, events: Iterable[EventFacts]) -> None:
    """+1 when the case became open (opened, reopened), -1 when it became closed."""
    open_now = False
    for event in events:
        if event.kind == "opened":
            open_now = True
            _add(shares.care(event.at).counts, "went_open", 1)
        elif event.to_status is not None:
            opens = event.to_status not in CLOSED
            if opens != open_now:
                _add(shares.care(event.at).counts, "went_open" if opens else "went_closed", 1)
                open_now = opens


def _messages_and_replies(
    shares: _Shares, case: CaseFacts, events: Iterable[EventFacts], wrote: Mapping[int, MentionFacts]
) -> None:
    for event in events:
        if event.kind in CUSTOMER_MESSAGES:
            facts = wrote.get(event.detail.get("mention_id") or -1)
            row, name = shares.care(facts.wrote_at if facts else event.at), "messages"
        elif event.kind in OUR_REPLIES:
            row, name = shares.care(event.at), "replies"
        else:
            continue
        _add(row.counts, name, 1)
        if case.id is not None and case.id not in row.active:
            row.active.append(case.id)


def acknowledgement_detail(event: EventFacts) -> dict[str, Any] | None:
    """What an event says about the acknowledgement clock: a person's first reply also acknowledges."""
    if event.kind == "acknowledged":
        return event.detail
    if event.kind == "responded" and "acknowledgement" in event.detail:
        return dict(event.detail["acknowledgement"])
    return None


def _durations(shares: _Shares, events: Sequence[EventFacts]) -> None:
    opened_at = events[0].at
    acknowledged = next((event for event in events if acknowledgement_detail(event) is not None), None)
    if acknowledged is not None:
        _measure(shares, "acknowledgement_seconds", acknowledged.at, opened_at)
    cycle_start = opened_at
    for event in events:
        if event.kind in CYCLE_STARTS:
            cycle_start = event.at
        elif event.kind == "resolved":
            _measure(shares, "resolution_seconds", event.at, cycle_start)
        elif event.kind == "responded":
            if event.detail.get("first"):
                _measure(shares, "first_response_seconds", event.at, opened_at)
            if "waiting_since" in event.detail:
                since = datetime.fromisoformat(event.detail["waiting_since"])
                _measure(shares, "response_seconds", event.at, since)


def _measure(shares: _Shares, name: str, at: datetime, since: datetime) -> None:
    shares.care(at).lists.setdefault(name, []).append((at - since).total_seconds())


def _clock_outcomes(shares: _Shares, events: Sequence[EventFacts]) -> None:
    """Each clock once: when its goal was reached (met or not), or when its breach was recorded.

    A late answer to a clock already counted as breached is not counted again.
    """
    breached = {
        (event.detail["target"], event.detail["due_at"]) for event in events if event.kind == "sla_breached"
    }
    for event in events:
        if event.kind == "sla_breached":
            _outcome(shares, event.at, event.detail["target"], met=False)
            continue
        measured = (
            (ACKNOWLEDGEMENT, acknowledgement_detail(event)),
            (RESPONSE, event.detail if event.kind == "responded" else None),
            (RESOLUTION, event.detail if event.kind == "resolved" else None),
        )
        for target, detail in measured:
            if (
                detail
                and "due_at" in detail
                and (detail["met"] or (target, detail["due_at"]) not in breached)
            ):
                _outcome(shares, event.at, target, met=bool(detail["met"]))


def _outcome(shares: _Shares, at: datetime, target: str, *, met: bool) -> None:
    pair = shares.care(at).sla.setdefault(target, [0, 0])
    pair[0 if met else 1] += 1
