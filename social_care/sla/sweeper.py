"""The sweeper: warns the assignee as a target nears and escalates to the supervisor at breach.

Each warning and escalation is made once per case, target and due time: the
``sla_alerts`` row that records it is unique, inserted with "on conflict do
nothing", so two workers sweeping together cannot both make it. The row, the
case event and the case's next alert time are written in one transaction;
the notification (a mail queued in the mail outbox) is part of it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from social_care import events
from social_care.clock import Clock as TimeSource
from social_care.config.models import Config
from social_care.sla import BREACH, WARNING, Clock, running_clocks, set_due_times
from social_care.storage import tables
from social_care.storage.tables import Case, SlaAlert, saved_id

log = logging.getLogger(__name__)
Made = set[tuple[str, str, datetime]]
BATCH = 250  # cases per transaction: few statements each, short enough locks
_EVENT_KINDS = {WARNING: "sla_warning", BREACH: "sla_breached"}
CLOCK_COLUMNS = (
    "ack_due_at",
    "response_due_at",
    "resolution_due_at",
    "sla_next_alert_at",
    "last_activity_at",
)


@dataclass(frozen=True)
class Alert:
    """A warning or an escalation to tell someone about."""

    level: str
    case_id: int
    reference: str
    target: str
    due_at: datetime
    recipient: str


class Notifier(Protocol):
    def notify(self, session: Session, alert: Alert) -> None:
        """Tell someone, in the transaction that records the alert: both happen, or neither."""


class LogNotifier:
    """Writes alerts to the log; the case events are the record either way."""

    def notify(self, session: Session, alert: Alert) -> None:
        log.warning(
            "%s %s: %s due at %s (%s)",
            alert.reference,
            alert.level,
            alert.target,
            alert.due_at.isoformat(),
            alert.recipient or "nobody to tell",
        )


@dataclass
class SweepReport:
    warnings: int = 0
    escalations: int = 0
    alerts: list[Alert] = field(default_factory=list)


def made_alerts(session: Session, case_id: int) -> Made:
    rows = session.exec(select(SlaAlert).where(SlaAlert.case_id == case_id))
    return {(row.target, row.level, row.due_at) for row in rows}


def refresh_clocks(session: Session, config: Config, case: Case) -> None:
    """Recompute the case's due times and next alert, minding the alerts already made."""
    set_due_times(config, case, made_alerts(session, saved_id(case)) if case.id else ())


class Sweeper:
    def __init__(
        self, engine: Engine, config: Config, *, clock: TimeSource, notifier: Notifier | None = None
    ) -> None:
        self._engine = engine
        self._config = config
        self._clock = clock
        self._notifier = notifier or LogNotifier()

    def run_once(self, limit: int = 1000) -> SweepReport:
        """Make the alerts due now, for up to ``limit`` cases, a batch of them per transaction."""
        now = self._clock()
        report = SweepReport()
        with Session(self._engine) as session:
            due = select(Case.id).where(col(Case.sla_next_alert_at) <= now)
            case_ids = [
                case_id for case_id in session.exec(due.order_by(col(Case.sla_next_alert_at)).limit(limit))
            ]
        for start in range(0, len(case_ids), BATCH):
            batch = [case_id for case_id in case_ids[start : start + BATCH] if case_id is not None]
            try:
                report.alerts.extend(self._sweep(batch, now))
            except Exception:  # one batch's trouble must not hold up the others' alerts
                log.exception(
                    "sweeping the SLA clocks of cases %s failed; they are tried again next time", batch
                )
        for alert in report.alerts:
            if alert.level == WARNING:
                report.warnings += 1
            else:
                report.escalations += 1
        return report

    def _sweep(self, case_ids: list[int], now: datetime) -> list[Alert]:
        with Session(self._engine) as session:
            # Locked (those another transaction holds are left to the next sweep): their clocks are
            # written back whole, and must not undo a change committed meanwhile.
            locked = select(Case).where(col(Case.id).in_(case_ids)).order_by(col(Case.id))
            cases = list(session.exec(locked.with_for_update(skip_locked=True)))
            made = made_alerts_of(session, case_ids)
            wanted = [
                (case, clock, level)
                for case in cases
                for clock in running_clocks(self._config, case)
                for level in (WARNING, BREACH)
                if clock.alert_at(level) <= now
                and (clock.target, level, clock.due_at) not in made[saved_id(case)]
            ]
            inserted = _insert_once(
                session, [(saved_id(case), clock, level) for case, clock, level in wanted], now
            )
            people = self._people(session)
            alerts, happened = [], []
            for case, clock, level in wanted:
                made[saved_id(case)].add((clock.target, level, clock.due_at))
                if (saved_id(case), clock.target, level, clock.due_at) in inserted:
                    alert = self._alert(case, clock, level, people)
                    happened.append((case, _EVENT_KINDS[level], now, _detail(alert)))
                    alerts.append(alert)
            events.record_many(session, happened)
            for case in cases:
                set_due_times(self._config, case, made[saved_id(case)])
            _save_clocks(session, cases)
            for alert in alerts:
                self._notifier.notify(session, alert)
            session.commit()
        return alerts

    def _alert(self, case: Case, clock: Clock, level: str, people: dict[int, str]) -> Alert:
        recipient = self._recipient(case, level, people)
        return Alert(level, saved_id(case), case.reference, clock.target, clock.due_at, recipient)

    @staticmethod
    def _people(session: Session) -> dict[int, str]:
        return {saved_id(person): person.email for person in session.exec(select(tables.Employee))}

    def _recipient(self, case: Case, level: str, people: dict[int, str]) -> str:
        """The assignee for a warning; the team's supervisor for a breach, or when nobody is assigned."""
        if level == WARNING and case.assignee_id is not None:
            return people.get(case.assignee_id, "")
        team = next((team for team in self._config.teams if team.name == case.team), None)
        return team.supervisor if team else ""


def _save_clocks(session: Session, cases: list[Case]) -> None:
    """Write the cases' due times, next alert and last activity in one statement (the ORM would
    send one per set of changed columns), and let the session forget them."""
    table = Case.__table__  # type: ignore[attr-defined]
    values = {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in CLOCK_COLUMNS}
    statement = table.update().where(table.c.id == bindparam("case_id")).values(values)
    rows = [
        {"case_id": saved_id(case), **{f"new_{name}": getattr(case, name) for name in CLOCK_COLUMNS}}
        for case in cases
    ]
    if rows:
        session.connection().execute(statement, rows)
    for case in cases:
        session.expunge(case)


def _detail(alert: Alert) -> dict[str, Any]:
    return {"target": alert.target, "due_at": alert.due_at.isoformat(), "recipient": alert.recipient}


def made_alerts_of(session: Session, case_ids: list[int]) -> dict[int, Made]:
    made: dict[int, Made] = {case_id: set() for case_id in case_ids}
    for row in session.exec(select(SlaAlert).where(col(SlaAlert.case_id).in_(case_ids))):
        made[row.case_id].add((row.target, row.level, row.due_at))
    return made


def _insert_once(
    session: Session, wanted: list[tuple[int, Clock, str]], now: datetime
) -> set[tuple[int, str, str, datetime]]:
    """Insert the alerts not made yet, in a few statements; those this call made (another worker's
    sweep may have made some meanwhile: the unique row decides, and RETURNING tells which)."""
    if not wanted:
        return set()
    values = [
        {"case_id": case_id, "target": clock.target, "level": level, "due_at": clock.due_at, "made_at": now}
        for case_id, clock, level in wanted
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = SlaAlert.__table__  # type: ignore[attr-defined]
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing()
        .returning(table.c.case_id, table.c.target, table.c.level, table.c.due_at)
    )
    return {tuple(row) for row in session.connection().execute(statement, values)}  # type: ignore[misc]
