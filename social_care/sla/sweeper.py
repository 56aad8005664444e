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
from typing import Protocol

from sqlalchemy import Engine
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

    def run_once(self, limit: int = 200) -> SweepReport:
        now = self._clock()
        report = SweepReport()
        with Session(self._engine) as session:
            due = select(Case.id).where(col(Case.sla_next_alert_at) <= now)
            case_ids = list(session.exec(due.order_by(col(Case.sla_next_alert_at)).limit(limit)))
        for case_id in case_ids:
            if case_id is None:
                continue
            try:
                report.alerts.extend(self._sweep(case_id, now))
            except Exception:  # one case's trouble must not hold up the others' alerts
                log.exception(
                    "sweeping the SLA clocks of case %s failed; it is tried again next time", case_id
                )
        for alert in report.alerts:
            if alert.level == WARNING:
                report.warnings += 1
            else:
                report.escalations += 1
        return report

    def _sweep(self, case_id: int, now: datetime) -> list[Alert]:
        with Session(self._engine) as session:
            case = session.get_one(Case, case_id)
            made = made_alerts(session, case_id)
            alerts = []
            for clock in running_clocks(self._config, case):
                for level in (WARNING, BREACH):
                    if clock.alert_at(level) <= now and (clock.target, level, clock.due_at) not in made:
                        alert = self._make(session, case, clock, level, now)
                        made.add((clock.target, level, clock.due_at))
                        if alert:
                            alerts.append(alert)
            set_due_times(self._config, case, made)
            session.add(case)
            for alert in alerts:
                self._notifier.notify(session, alert)
            session.commit()
        return alerts

    def _make(self, session: Session, case: Case, clock: Clock, level: str, now: datetime) -> Alert | None:
        if not _insert_once(session, case, clock, level, now):
            return None
        recipient = self._recipient(session, case, level)
        kind = "sla_warning" if level == WARNING else "sla_breached"
        events.record(
            session,
            case,
            kind,
            at=now,
            target=clock.target,
            due_at=clock.due_at.isoformat(),
            recipient=recipient,
        )
        return Alert(level, saved_id(case), case.reference, clock.target, clock.due_at, recipient)

    def _recipient(self, session: Session, case: Case, level: str) -> str:
        """The assignee for a warning; the team's supervisor for a breach, or when nobody is assigned."""
        if level == WARNING and case.assignee_id is not None:
            return session.get_one(tables.Employee, case.assignee_id).email
        team = next((team for team in self._config.teams if team.name == case.team), None)
        return team.supervisor if team else ""


def _insert_once(session: Session, case: Case, clock: Clock, level: str, now: datetime) -> bool:
    values = {
        "case_id": saved_id(case),
        "target": clock.target,
        "level": level,
        "due_at": clock.due_at,
        "made_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SlaAlert).values(**values).on_conflict_do_nothing().returning(col(SlaAlert.id))
    # RETURNING says whether this insert made the row; rowcount is not reliable here (psycopg reports -1).
    return session.execute(statement).first() is not None
