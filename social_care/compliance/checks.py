"""Deletion compliance: ask each platform, in batches, whether the posts we keep still stand.

X's developer terms require removing a post deleted or made private on X
within 24 hours of learning of it, and Reddit's require the same of deleted
and removed content. Every post still kept whole is asked about once per
``[compliance] recheck_hours``, the longest unseen first (a post read within
that time stands, and is not read twice), ``check_batch`` ids per request (100
on both platforms). A post the platform leaves unanswered counts as checked
too: it is asked about again after ``recheck_hours``, never in a loop. What the
platform says is gone is scrubbed in the same transaction that records the
check (:mod:`.scrubbing`): the check is the moment we learn of it, so the
24 hours are kept with room to spare. The case keeps its times and events, and
its timeline says why the post went.

Checks cost reads: X bills each post returned. A source with a
``monthly_read_quota`` lets checks spend its reads only down to the share kept
for polling (``keep_for_polling``); what is not checked then waits for the
next run. Each batch is chosen and asked about under the source's lease, taken
and given back around it: a poll and a check of one source never run at once,
two workers never ask about the same posts, and a long run never holds
polling up for more than a request. A platform failure stops that source's checks for this
run (the posts stay due) and leaves its polling alone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlmodel import Session, col

from connectors.base import Connector, ConnectorError, PostsChecked
from social_care import audit
from social_care.budget import count_reads, month_of
from social_care.clock import Clock
from social_care.compliance import scrubbing
from social_care.config.models import ComplianceSettings
from social_care.storage.claims import claim, release
from social_care.storage.leases import LEASE, Heartbeat
from social_care.storage.tables import Mention, SourceState

log = logging.getLogger(__name__)
ACTOR = "compliance check"


@dataclass
class SourceChecked:
    """One source's part of a run: posts asked about, found gone (by why), reads spent, and why
    it stopped early, if it did."""

    source_id: str
    asked: int = 0
    gone: Counter[str] = field(default_factory=Counter)
    profiles: int = 0
    reads: int = 0
    requests: int = 0
    stopped: str = ""
    still_due: int = 0

    def line(self) -> str:
        gone = ", ".join(f"{count} {why}" for why, count in sorted(self.gone.items())) or "none gone"
        text = f"{self.source_id}: {self.asked} posts checked in {self.requests} requests ({gone})"
        if self.profiles:
            text += f", {self.profiles} author profiles blanked"
        if self.still_due:
            text += f"; {self.still_due} still due"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        return text


@dataclass
class ChecksReport:
    sources: list[SourceChecked] = field(default_factory=list)
    unable: list[str] = field(default_factory=list)  # sources whose platform cannot be asked

    @property
    def scrubbed(self) -> int:
        return sum(sum(source.gone.values()) for source in self.sources)


def _last_seen() -> ColumnElement[datetime]:
    """When the platform last showed the post: its latest check, else when it was read."""
    return func.coalesce(col(Mention.checked_at), col(Mention.fetched_at))


class DeletionChecks:
    def __init__(
        self,
        engine: Engine,
        connectors: Mapping[str, Connector],
        settings: ComplianceSettings,
        *,
        clock: Clock,
        owner: str,
        quotas: Mapping[str, int | None] | None = None,
        keep_text_days: int = 0,
        lease: timedelta = LEASE,
    ) -> None:
        """``quotas``: each source's monthly read quota (None: unmetered). ``keep_text_days``: posts
        older than that lose their text to the retention purge anyway and are not asked about."""
        self._engine = engine
        self._connectors = connectors
        self._settings = settings
        self._clock = clock
        self._owner = owner
        self._quotas = dict(quotas or {})
        self._keep_text_days = keep_text_days
        self._lease = lease

    def run_once(self, *, by: str = ACTOR) -> ChecksReport:
        """Check every source's due posts, as far as each one's limits allow."""
        report = ChecksReport()
        for source_id, connector in self._connectors.items():
            if connector.check_batch <= 0:
                report.unable.append(source_id)
                continue
            checked = self.check_source(source_id, connector)
            report.sources.append(checked)
            if checked.stopped:
                log.warning("compliance: %s", checked.line())
        if report.sources and any(source.asked for source in report.sources):
            with Session(self._engine) as session:
                audit.record(
                    session,
                    audit.COMPLIANCE_CHECKED,
                    at=self._clock(),
                    actor=by,
                    subject=", ".join(source.source_id for source in report.sources if source.asked),
                    checked=sum(source.asked for source in report.sources),
                    scrubbed=report.scrubbed,
                )
                session.commit()
        return report

    def check_source(self, source_id: str, connector: Connector) -> SourceChecked:
        checked = SourceChecked(source_id)
        limit = max(self._settings.max_posts_per_run, connector.check_batch)
        while checked.asked < limit:
            now = self._clock()
            if not self._claim(source_id, now):
                checked.stopped = "the source is busy (a poll or another worker's check); the rest waits"
                break
            try:
                batch = self._due(source_id, now, connector.check_batch)
                if not batch:
                    break
                room = self._reads_left(source_id, now)
                if room is not None and room < len(batch):
                    checked.stopped = "the read budget left for checks is spent"
                    break
                heartbeat = Heartbeat(
                    self._engine, SourceState, source_id, owner=self._owner, clock=self._clock
                )
                try:
                    with heartbeat:  # a request slowed by the rate limit outlasts a lease's 15 s
                        answer = connector.check_posts([external_id for _, external_id in batch])
                except ConnectorError as error:
                    checked.stopped = str(error)
                    break
                self._record(source_id, batch, answer, checked)
            finally:
                self._release(source_id)
        checked.still_due = self._count_due(source_id, self._clock())
        return checked

    # -- what is due ----------------------------------------------------------

    def _due_condition(self, source_id: str, now: datetime) -> list[object]:
        """Posts kept whole, processed (the pipeline is done with them), and neither read nor checked
        within ``recheck_hours``: a post just read stands, and costs no second read so soon."""
        recheck = now - timedelta(hours=self._settings.recheck_hours)
        conditions: list[object] = [
            col(Mention.source_id) == source_id,
            col(Mention.removed) == "",
            col(Mention.processed_at).is_not(None),
            _last_seen() <= recheck,
        ]
        if self._keep_text_days:
            conditions.append(col(Mention.fetched_at) > now - timedelta(days=self._keep_text_days))
        return conditions

    def _due(self, source_id: str, now: datetime, size: int) -> list[tuple[int, str]]:
        with Session(self._engine) as session:
            rows = session.execute(
                select(col(Mention.id), col(Mention.external_id))
                .where(*self._due_condition(source_id, now))  # type: ignore[arg-type]
                .order_by(_last_seen(), col(Mention.id))
                .limit(size)
            ).all()
        return [(mention_id, external_id) for mention_id, external_id in rows]

    def _count_due(self, source_id: str, now: datetime) -> int:
        with Session(self._engine) as session:
            return int(
                session.execute(
                    select(func.count()).where(*self._due_condition(source_id, now))  # type: ignore[arg-type]
                ).scalar_one()
            )

    # -- the source's lease and budget ------------------------------------------

    def _reads_left(self, source_id: str, now: datetime) -> int | None:
        """Reads checks may still spend this month, or None when the source has no quota."""
        quota = self._quotas.get(source_id)
        if quota is None:
            return None
        with Session(self._engine) as session:
            state = session.get(SourceState, source_id)
            used = state.reads_used if state and state.reads_month == month_of(now) else 0
        return int(quota * (1 - self._settings.keep_for_polling)) - used

    def _claim(self, source_id: str, now: datetime) -> bool:
        with Session(self._engine) as session:
            if session.get(SourceState, source_id) is None:
                return False  # never polled: nothing of it is stored
            claimed = claim(
                session,
                SourceState,
                ready=col(SourceState.source_id) == source_id,
                order_by=SourceState.source_id,
                owner=self._owner,
                now=now,
                lease=self._lease,
            )
            session.commit()
        return bool(claimed)

    def _release(self, source_id: str) -> None:
        with Session(self._engine) as session:
            release(session, SourceState, source_id, self._owner)
            session.commit()

    # -- what the platform said -------------------------------------------------

    def _record(
        self, source_id: str, batch: list[tuple[int, str]], answer: PostsChecked, checked: SourceChecked
    ) -> None:
        now = self._clock()
        ids = {external_id: mention_id for mention_id, external_id in batch}
        gone: dict[str, list[int]] = {}
        for external_id, why in answer.gone.items():
            if external_id in ids:
                gone.setdefault(why, []).append(ids[external_id])
        with Session(self._engine) as session:
            # Every post asked about counts as checked, the ones the platform left unanswered too:
            # they are asked again after ``recheck_hours``, not at once in a loop that spends the budget.
            session.execute(
                update(Mention).where(col(Mention.id).in_(list(ids.values()))).values(checked_at=now)
            )
            touched: list[int] = []
            hidden: list[int] = []
            for why, mention_ids in sorted(gone.items()):
                scrubbed = scrubbing.scrub_posts(session, mention_ids, why=why, at=now, actor=ACTOR)
                checked.gone[why] += len(scrubbed)
                authors = scrubbing.authors_of(session, scrubbed)
                (hidden if why == scrubbing.PROTECTED else touched).extend(authors)
            # A private account hides the whole profile; otherwise it goes with its last post kept.
            blank = set(hidden) | set(scrubbing.without_kept_posts(session, touched))
            checked.profiles += scrubbing.scrub_profiles(session, blank, at=now)
            state = session.get_one(SourceState, source_id)
            count_reads(state, answer.reads, now)
            session.add(state)
            session.commit()
        checked.asked += len(batch)
        checked.reads += answer.reads
        checked.requests += 1
