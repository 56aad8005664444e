"""Polling one source: fetch since the stored cursor, store, then process.

The posts of a fetch and the cursor that follows them are committed in one
transaction, so a crash before the commit re-fetches (deduplication absorbs
it) and a crash after it loses nothing. Processing happens afterwards, one
mention per transaction, each taken under its own row lock so that however
many workers run, a post is processed once; anything left unprocessed is
picked up next cycle.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from connectors.base import Connector, ConnectorError
from responders.outbox import due_now
from social_care.backoff import retry_delay
from social_care.budget import ReadBudget, count_reads, paced_interval, projected_spend, updated_average
from social_care.clock import Clock
from social_care.pipeline import Pipeline
from social_care.posts import Batch, Post
from social_care.rate_limits import RequestGate
from social_care.source_health import FAILING
from social_care.storage.claims import claim, release
from social_care.storage.leases import LEASE, Heartbeat, reclaim_dead_leases
from social_care.storage.tables import Author, Mention, OutboxEntry, RejectedPayload, SourceState, saved_id
from social_care.switches import current_pause

log = logging.getLogger(__name__)
DEFAULT_RETRY_BASE_SECONDS = 30.0
REPLIES_FIRST_SECONDS = 5.0  # how long a poll waits for due replies when few requests are left
KEPT_PAYLOAD = 100_000  # characters of a rejected payload kept for a person to inspect


@dataclass(frozen=True)
class ReadLimit:
    """A source's monthly read quota and its configured polling interval."""

    monthly_quota: int
    interval_seconds: float


@dataclass
class PollReport:
    source_id: str
    fetched: int = 0
    new: int = 0
    rejected: int = 0
    matched: int = 0
    opened: int = 0
    queued_replies: int = 0
    error: str = ""
    skipped: bool = False
    case_ids: list[int] = field(default_factory=list)
    reads_used: int = 0
    quota: int | None = None
    projected_reads: int | None = None
    next_poll_at: datetime | None = None
    rate_limited_until: datetime | None = None  # the source's rate limit allowed no request this time


class Poller:
    def __init__(
        self,
        engine: Engine,
        connectors: Mapping[str, Connector],
        pipeline: Pipeline,
        *,
        clock: Clock,
        owner: str,
        lease: timedelta = LEASE,
        limits: Mapping[str, ReadLimit] | None = None,
        intervals: Mapping[str, float] | None = None,
        gates: Mapping[str, RequestGate] | None = None,
        rng: random.Random | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self._engine = engine
        self._connectors = connectors
        self._pipeline = pipeline
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._limits = dict(limits or {})
        self._intervals = dict(intervals or {})
        self._gates = dict(gates or {})
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self._stopping = stopping or threading.Event()

    def poll(self, source_id: str, *, process: bool = True) -> PollReport:
        """Fetch and store what is new, then process what is stored, all under the source's lease.

        The lease is renewed while the work runs and given back at the end, whatever
        happens; a process that dies holding it loses it within seconds. With
        ``process=False`` the posts are only stored, for :meth:`process_pending` to take.
        """
        report = PollReport(source_id)
        cursor = self._claim(source_id)
        if cursor is False:
            report.skipped = True
            return report
        heartbeat = Heartbeat(self._engine, SourceState, source_id, owner=self._owner, clock=self._clock)
        try:
            with heartbeat:
                self._fetch(source_id, cursor if isinstance(cursor, str) else None, report)
                if process:
                    self.process_pending(source_id, report)
        finally:
            with Session(self._engine) as session:
                release(session, SourceState, source_id, self._owner)
                session.commit()
        return report

    def _fetch(self, source_id: str, cursor: str | None, report: PollReport) -> None:
        if (until := self._request_room(source_id)) is not None:
            report.rate_limited_until = until
            self._postpone(source_id, until)
            return
        try:
            batch = self._connectors[source_id].fetch(cursor)
        except ConnectorError as error:
            self._record_failure(source_id, error)
            report.error = str(error)
            return
        report.fetched, report.rejected = len(batch.posts), len(batch.rejected)
        report.new = self._store(source_id, batch, report)

    def _request_room(self, source_id: str) -> datetime | None:
        """When this source may make requests again, if not now: its rate limit's window is full,
        or few requests are left in it and replies are due to go out first."""
        gate = self._gates.get(source_id)
        if gate is None or not gate.limited:
            return None
        now = self._clock()
        with Session(self._engine) as session:
            free_at = gate.free_at(session)
            if free_at is not None or not gate.tight(session):
                return free_at
            due = due_now(now, people_only=current_pause(session) is not None)
            waiting = session.exec(
                select(OutboxEntry.id).where(OutboxEntry.source_id == source_id, due)
            ).first()
        return now + timedelta(seconds=REPLIES_FIRST_SECONDS) if waiting is not None else None

    def process_pending(self, source_id: str, report: PollReport) -> None:
        """Process each stored, unprocessed post of the source exactly once.

        Each post is taken under its own row lock and checked again: a post another
        worker holds is skipped (``SKIP LOCKED``), one it finished meanwhile is seen
        processed. On SQLite the transaction's write lock does the same. Once the
        service is stopping, the posts not begun are left for the next poll.
        """
        with Session(self._engine) as session:
            pending = session.exec(
                select(Mention.id)
                .where(Mention.source_id == source_id, col(Mention.processed_at).is_(None))
                .order_by(col(Mention.id))
            ).all()
        for mention_id in pending:
            if self._stopping.is_set():
                break
            with Session(self._engine) as session:
                mention = _take_unprocessed(session, mention_id)
                if mention is None:
                    continue
                try:
                    outcome = self._pipeline.process(session, mention, self._clock())
                    session.commit()
                except Exception:
                    session.rollback()
                    log.exception("mention %s could not be processed; it will be retried", mention_id)
                    continue
            report.matched += outcome.matched
            report.opened += outcome.opened
            report.queued_replies += outcome.acknowledgement == "allowed"
            if outcome.case_id is not None:
                report.case_ids.append(outcome.case_id)

    def _claim(self, source_id: str) -> str | bool | None:
        """The stored cursor (``None`` for a first poll), or ``False`` if another worker holds it.

        A lease held by a process of this host that has died is taken back first.
        """
        now = self._clock()
        with Session(self._engine) as session:
            if session.get(SourceState, source_id) is None:
                session.add(SourceState(source_id=source_id))
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
        for attempt in range(2):
            with Session(self._engine) as session:
                claimed = claim(
                    session,
                    SourceState,
                    ready=self._ready(source_id, now),
                    order_by=SourceState.source_id,
                    owner=self._owner,
                    now=now,
                    lease=self._lease,
                )
                session.commit()
                if claimed:
                    return session.get_one(SourceState, source_id).cursor
            if attempt == 0 and not reclaim_dead_leases(self._engine, SourceState, now, me=self._owner):
                break
        return False

    def _ready(self, source_id: str, now: datetime) -> ColumnElement[bool]:
        return and_(
            col(SourceState.source_id) == source_id,
            col(SourceState.status) != FAILING,
            or_(col(SourceState.next_poll_at).is_(None), col(SourceState.next_poll_at) <= now),
        )

    def _store(self, source_id: str, batch: Batch, report: PollReport) -> int:
        now = self._clock()
        platform = self._connectors[source_id].platform
        with Session(self._engine) as session:
            new = sum(_store_post(session, source_id, platform, post, now) for post in batch.posts)
            for rejected in batch.rejected:
                session.add(
                    RejectedPayload(
                        source_id=source_id,
                        received_at=now,
                        reason=rejected.reason,
                        payload=rejected.payload[:KEPT_PAYLOAD],
                    )
                )
            state = session.get_one(SourceState, source_id)
            state.cursor, state.last_polled_at, state.status = batch.cursor, now, "ok"
            state.failures, state.last_error = 0, ""
            self._spend(state, batch.billed_reads, now, report)
            if batch.poll_again_after is not None and batch.poll_again_after > now:
                # The platform's remaining quota is low: the next poll waits for it to last.
                state.next_poll_at = max(state.next_poll_at or now, batch.poll_again_after)
                report.next_poll_at = state.next_poll_at
            session.add(state)
            session.commit()
        return new

    def _spend(self, state: SourceState, reads: int, now: datetime, report: PollReport) -> None:
        """Count the reads against this month and, under a quota, space out the next poll."""
        first = count_reads(state, reads, now)
        state.reads_per_poll = updated_average(state.reads_per_poll, reads, first)
        state.next_poll_at = None
        report.reads_used = state.reads_used
        limit = self._limits.get(state.source_id)
        if limit is None:
            return
        budget = ReadBudget(limit.monthly_quota, state.reads_used, state.reads_per_poll)
        interval = paced_interval(budget, now, limit.interval_seconds)
        if interval > limit.interval_seconds:
            state.next_poll_at = now + timedelta(seconds=interval)
        report.quota, report.next_poll_at = limit.monthly_quota, state.next_poll_at
        report.projected_reads = projected_spend(budget, now, interval)

    def _postpone(self, source_id: str, until: datetime) -> None:
        with Session(self._engine) as session:
            state = session.get_one(SourceState, source_id)
            state.next_poll_at = until
            session.add(state)
            session.commit()

    def _record_failure(self, source_id: str, error: ConnectorError) -> None:
        """Back off: as long as the platform asked (with a little jitter), else doubling from the
        source's poll interval; a permanent failure stops the source until a person acts."""
        now = self._clock()
        with Session(self._engine) as session:
            state = session.get_one(SourceState, source_id)
            state.failures += 1
            state.status = FAILING if error.permanent else "backing_off"
            state.last_error = str(error)[:500]
            delay = retry_delay(
                state.failures,
                base_seconds=self._intervals.get(source_id, DEFAULT_RETRY_BASE_SECONDS),
                retry_after=error.retry_after,
                rng=self._rng,
            )
            state.next_poll_at = now + delay
            session.add(state)
            session.commit()
        log.warning("source %s: %s", source_id, error)


def _take_unprocessed(session: Session, mention_id: int | None) -> Mention | None:
    """The mention, locked for this transaction, if it is still unprocessed and no other worker holds it."""
    statement = (
        select(Mention)
        .where(Mention.id == mention_id, col(Mention.processed_at).is_(None))
        .with_for_update(skip_locked=True)
    )
    return session.exec(statement).first()


def _store_post(session: Session, source_id: str, platform: str, post: Post, now: datetime) -> int:
    """Store one post unless it is already stored; 1 when it was new."""
    known = select(Mention.id).where(Mention.platform == platform, Mention.external_id == post.external_id)
    if session.exec(known).first() is not None:
        return 0
    author = _author(session, platform, post)
    try:
        with session.begin_nested():
            session.add(
                Mention(
                    source_id=source_id,
                    platform=platform,
                    external_id=post.external_id,
                    url=post.url,
                    author_id=saved_id(author),
                    text=post.text,
                    language=post.language,
                    posted_at=post.created_at,
                    fetched_at=now,
                    thread_id=post.thread.thread_id,
                    parent_id=post.thread.parent_id,
                    direct=post.direct,
                    is_retweet=post.is_retweet,
                    raw=json.loads(json.dumps(post.raw, default=str)),
                )
            )
    except IntegrityError:
        # Only a twin stored meanwhile by another worker makes this a duplicate; any other refusal
        # must fail the batch, or the cursor would move past a post that was never stored.
        if session.exec(known).first() is not None:
            return 0
        raise
    return 1


def _author(session: Session, platform: str, post: Post) -> Author:
    statement = select(Author).where(Author.platform == platform, Author.external_id == post.author.id)
    author = session.exec(statement).first() or Author(
        platform=platform, external_id=post.author.id, handle=""
    )
    author.handle, author.name, author.erased_at = post.author.handle, post.author.name, None
    if post.author.followers is not None:
        author.followers = post.author.followers
    session.add(author)
    session.flush()
    return author
