"""Sending replies exactly once: claim, send, record.

An entry is claimed with a lease and marked ``sending`` (attempt counted) in
one transaction; the platform call happens outside any transaction; the
platform's id is recorded in a second one. If the process dies between the
two, the entry is left ``sending`` with an expired lease; if the call timed
out, lost its connection or got a 5xx after the request went out, the entry is
left ``unknown``. Either way, before trying again the sender asks the platform
whether our reply is already there, so the customer never receives it twice.
A reply the platform refuses for good is
dead; one refused because of our account waits, with its source marked
failing (see :mod:`social_care.source_health`), until a person clears it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, or_, true
from sqlmodel import Session, col, select

from connectors.base import Connector, ConnectorError
from social_care import lifecycle
from social_care.backoff import retry_delay
from social_care.clock import Clock
from social_care.rate_limits import RequestGate
from social_care.source_health import FAILING, mark_failing
from social_care.storage.claims import claim_next
from social_care.storage.leases import LEASE, Heartbeat
from social_care.storage.tables import Case, OutboxEntry, SourceState
from social_care.switches import current_pause

log = logging.getLogger(__name__)
AUTOMATIC = "system"  # ``created_by`` of the entries no person wrote
RETRY_BASE_SECONDS = 30
UNKNOWN = "unknown"  # the last attempt may have been posted: settle it with the platform first
UNSETTLED = ("sending", UNKNOWN)


@dataclass
class SendReport:
    sent: int = 0
    reconciled: int = 0
    failed: int = 0
    dead: int = 0


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        connectors: Mapping[str, Connector],
        *,
        clock: Clock,
        owner: str,
        max_attempts: int = 5,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        gates: Mapping[str, RequestGate] | None = None,
    ) -> None:
        self._engine = engine
        self._connectors = connectors
        self._clock = clock
        self._owner = owner
        self._max_attempts = max_attempts
        self._lease = lease
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self._gates = dict(gates or {})

    def run_once(self, limit: int = 50) -> SendReport:
        """Send what is due; while automatic replies are paused, only what a person wrote."""
        report = SendReport()
        for _ in range(limit):
            entry_id = self._claim_next()
            if entry_id is None:
                break
            self._deliver(entry_id, report)
        return report

    def _claim_next(self) -> int | None:
        """Claim one entry due now; the pause is read for each one, so a pause given in the
        middle of a batch holds the rest of it."""
        now = self._clock()
        with Session(self._engine) as session:
            people_only = current_pause(session) is not None
        failing = select(SourceState.source_id).where(col(SourceState.status) == FAILING)
        ready = and_(
            col(OutboxEntry.source_id).in_(list(self._connectors)),
            col(OutboxEntry.source_id).not_in(failing),
            due_now(now, people_only=people_only),
        )
        return claim_next(
            self._engine,
            OutboxEntry,
            ready=ready,
            order_by=OutboxEntry.next_attempt_at,
            owner=self._owner,
            now=now,
            lease=self._lease,
        )

    def _deliver(self, entry_id: int, report: SendReport) -> None:
        """Send one claimed entry, its lease renewed while the platform takes its time."""
        with Heartbeat(self._engine, OutboxEntry, entry_id, owner=self._owner, clock=self._clock):
            self._deliver_claimed(entry_id, report)

    def _deliver_claimed(self, entry_id: int, report: SendReport) -> None:
        """Settle an attempt whose outcome is unknown, else send; no transaction is held while the
        platform is called (on SQLite it would hold every other worker's writes)."""
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id)
            if self._rate_limited(session, entry):
                return
            unsettled = entry.state in UNSETTLED
            recorded = _recorded_replies(session, entry) if unsettled else set()
            reply_to, text, source_id = entry.in_reply_to, entry.text, entry.source_id
        connector = self._connectors[source_id]
        if unsettled and self._settled(entry_id, connector.find_reply, reply_to, recorded, report):
            return
        if not self._mark_sending(entry_id, report):
            return
        try:
            platform_id = connector.reply(reply_to, text)
        except ConnectorError as error:
            self._record_failure(entry_id, error, report)
            return
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id, with_for_update=True)
            if entry.state == "sent":  # our call outlived the lease and the next sender settled it
                log.warning("outbox entry %s was recorded by another sender meanwhile", entry_id)
                return
            self._record_sent(session, entry, platform_id)
            report.sent += 1

    def _rate_limited(self, session: Session, entry: OutboxEntry) -> bool:
        """Put the entry off, unattempted, while its source's rate limit allows no request."""
        gate = self._gates.get(entry.source_id)
        free_at = gate.free_at(session) if gate is not None else None
        if free_at is None:
            return False
        if entry.state == "sending":
            entry.state = UNKNOWN  # a sender died mid-send: it still needs settling, once there is room
        entry.next_attempt_at = free_at
        entry.lease_owner = entry.lease_expires_at = None
        session.add(entry)
        session.commit()
        return True

    def _settled(
        self,
        entry_id: int,
        find_reply: Callable[..., str | None],
        reply_to: str,
        recorded: set[str],
        report: SendReport,
    ) -> bool:
        """Ask the platform whether an attempt whose outcome was lost went out; true when the entry
        needs nothing more now (the reply was there, or the platform could not be asked yet)."""
        try:
            found = find_reply(reply_to, exclude=recorded)
        except ConnectorError as error:
            log.warning("cannot check outbox entry %s with the platform yet: %s", entry_id, error)
            self._check_later(entry_id, error)
            return True
        if found is None:
            return False
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id, with_for_update=True)
            if entry.state != "sent":
                self._record_sent(session, entry, found)
                report.reconciled += 1
        return True

    def _check_later(self, entry_id: int, error: ConnectorError) -> None:
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id, with_for_update=True)
            if not self._still_ours(entry):
                return
            entry.state = UNKNOWN
            entry.next_attempt_at = self._clock() + self._backoff(max(entry.attempts, 1), error.retry_after)
            entry.lease_owner = entry.lease_expires_at = None
            session.add(entry)
            session.commit()

    def _mark_sending(self, entry_id: int, report: SendReport) -> bool:
        """Count the attempt and mark it ``sending`` before the call; false when the entry was
        given up instead (see :meth:`_give_up_unsettled`)."""
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id, with_for_update=True)
            if not self._still_ours(entry):
                return False
            if entry.state in UNSETTLED and self._give_up_unsettled(session, entry, report):
                return False
            entry.state, entry.attempts = "sending", entry.attempts + 1
            session.add(entry)
            session.commit()
        return True

    def _still_ours(self, entry: OutboxEntry) -> bool:
        """Whether this sender still holds the entry: a sender whose lease lapsed while it waited on
        the platform, and which another sender took over, must change nothing (above all, not send)."""
        if entry.lease_owner == self._owner and entry.state not in ("sent", "dead", lifecycle.CANCELLED):
            return True
        log.warning("outbox entry %s was taken over by another sender meanwhile (%s)", entry.id, entry.state)
        return False

    def _give_up_unsettled(self, session: Session, entry: OutboxEntry, report: SendReport) -> bool:
        """After the platform said our reply is not there: give up instead of sending it again when
        the platform failed it too often, or when an automatic reply is no longer wanted (the case
        was closed or answered by a person while its outcome was unknown)."""
        case = session.get_one(Case, entry.case_id)
        unwanted = lifecycle.automatic_reply_unwanted(case) if entry.created_by == AUTOMATIC else ""
        if unwanted:
            entry.state, entry.last_error = lifecycle.CANCELLED, f"cancelled: {unwanted}"
        elif entry.state == UNKNOWN and entry.attempts >= self._max_attempts:
            entry.state = "dead"  # a process that died mid-send ("sending") is not the reply's fault
            report.dead += 1
        else:
            return False
        entry.lease_owner = entry.lease_expires_at = None
        session.add(entry)
        session.commit()
        return True

    def _record_sent(self, session: Session, entry: OutboxEntry, platform_id: str) -> None:
        now = self._clock()
        entry.state, entry.platform_reply_id, entry.sent_at = "sent", platform_id, now
        entry.lease_owner = entry.lease_expires_at = None
        session.add(entry)
        lifecycle.reply_sent(session, entry, now)
        session.commit()

    def _record_failure(self, entry_id: int, error: ConnectorError, report: SendReport) -> None:
        """A refusal of this one reply kills the entry; a refusal of the account stops the source.

        When the platform refuses our account (revoked keys, a suspended account) the
        entry is not to blame: it waits, and the source is marked failing, so neither
        polls nor other replies hammer the platform until a person fixes it.
        """
        now = self._clock()
        with Session(self._engine) as session:
            entry = session.get_one(OutboxEntry, entry_id, with_for_update=True)
            if not self._still_ours(entry):
                return
            entry.last_error = str(error)[:500]
            if error.retry_after is not None and not (error.permanent or error.outcome_unknown):
                entry.attempts -= 1  # the platform asked us to wait: that attempt was not the reply's
            entry.lease_owner = entry.lease_expires_at = None
            if error.permanent and not error.only_this_post:
                entry.state, entry.next_attempt_at = "failed", now
                mark_failing(session, entry.source_id, str(error))
                report.failed += 1
            elif error.outcome_unknown:
                # Perhaps posted: the next attempt asks the platform first (and gives up there).
                entry.state = UNKNOWN
                entry.next_attempt_at = now + self._backoff(entry.attempts, error.retry_after)
                report.failed += 1
            elif error.permanent or entry.attempts >= self._max_attempts:
                entry.state = "dead"
                report.dead += 1
            else:
                entry.state = "failed"
                entry.next_attempt_at = now + self._backoff(entry.attempts, error.retry_after)
                report.failed += 1
            attempts = entry.attempts
            session.add(entry)
            session.commit()
        log.warning("outbox entry %s not sent (attempt %s): %s", entry_id, attempts, error)

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        return retry_delay(attempts, base_seconds=RETRY_BASE_SECONDS, retry_after=retry_after, rng=self._rng)


def due_now(now: datetime, *, people_only: bool) -> ColumnElement[bool]:
    """The entries a sender would take now (leases aside): due to be tried, or left mid-send by a
    sender that died; while automatic replies are paused, only those a person wrote."""
    return and_(
        col(OutboxEntry.created_by) != AUTOMATIC if people_only else true(),
        or_(
            and_(
                col(OutboxEntry.state).in_(("pending", "failed", UNKNOWN)),
                col(OutboxEntry.next_attempt_at) <= now,
            ),
            col(OutboxEntry.state) == "sending",
        ),
    )


def _recorded_replies(session: Session, entry: OutboxEntry) -> set[str]:
    """Our replies to the same post that other entries already recorded: not the one being settled."""
    recorded = session.exec(
        select(OutboxEntry.platform_reply_id).where(
            OutboxEntry.source_id == entry.source_id,
            OutboxEntry.in_reply_to == entry.in_reply_to,
            OutboxEntry.id != entry.id,
            col(OutboxEntry.platform_reply_id).is_not(None),
        )
    ).all()
    return {str(known) for known in recorded}
