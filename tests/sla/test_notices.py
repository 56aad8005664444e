"""Warnings reach the assignee and escalations the supervisor by e-mail, through a real SMTP server, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from social_care.runtime import mail_notifier
from tests.fakes.smtp_server import MailServer
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.support.desk import Desk

AGENT = "luca.marino@velora.example"
SUPERVISOR = "chiara.conti@velora.example"


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.stop()


def test_the_assignee_is_warned_and_the_supervisor_alerted_by_mail_once(
    engine: Engine, tmp_path: Path, server: MailServer
) -> None:
    def smtp(raw: Raw) -> None:
        raw["smtp"].update({"host": "127.0.0.1", "port": server.port})

    config = demo_config(tmp_path, smtp)
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, config, clock, notifier=mail_notifier(config, clock))
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)
    reference = desk.case(case_id).reference
    clock.advance(minutes=12)  # the example's complaints: acknowledged within 15 minutes, warned at 80%
    desk.service.sweeper.run_once()
    desk.service.sweeper.run_once()
    desk.service.mail_sender.run_once()
    assert [mail.message["Subject"] for mail in server.inbox.to(AGENT)] == [
        f"SLA warning: {reference} acknowledgement due at 2026-11-23 10:15"
    ]
    clock.advance(minutes=3)
    desk.service.sweeper.run_once()
    desk.service.mail_sender.run_once()
    escalations = server.inbox.to(SUPERVISOR)
    assert [mail.message["Subject"] for mail in escalations] == [
        f"SLA breached: {reference} acknowledgement was due at 2026-11-23 10:15"
    ]
    assert f"http://127.0.0.1:8000/cases/{case_id}" in escalations[0].part("plain")
    assert "Europe/Rome" in escalations[0].part("html")
    assert len(server.inbox.mails) == 2


def test_alerts_can_be_written_in_italian(engine: Engine, tmp_path: Path, server: MailServer) -> None:
    def italian(raw: Raw) -> None:
        raw["smtp"].update({"host": "127.0.0.1", "port": server.port})
        raw["sla_alerts"]["language"] = "it"

    config = demo_config(tmp_path, italian)
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, config, clock, notifier=mail_notifier(config, clock))
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)
    clock.advance(minutes=12)
    desk.service.sweeper.run_once()
    desk.service.mail_sender.run_once()
    [warning] = server.inbox.to(AGENT)
    reference = desk.case(case_id).reference
    assert (
        warning.message["Subject"].strip()  # a long subject is folded onto its own line
        == f"Scadenza SLA vicina: {reference}, presa in carico entro 2026-11-23 10:15"
    )
    assert "va gestito entro 2026-11-23 10:15 (Europe/Rome)" in warning.part("plain")


def test_an_unreachable_mail_server_delays_the_alert_and_does_not_stop_the_sweeper(
    engine: Engine, tmp_path: Path
) -> None:
    def nowhere(raw: Raw) -> None:
        raw["smtp"].update({"host": "127.0.0.1", "port": 9, "timeout_seconds": 2})

    config = demo_config(tmp_path, nowhere)
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, config, clock, notifier=mail_notifier(config, clock))
    desk.assign(desk.post(), "care-it", AGENT)
    clock.advance(minutes=15)
    assert desk.service.sweeper.run_once().escalations == 1
    assert desk.service.sweeper.run_once().escalations == 0
    report = desk.service.mail_sender.run_once()
    assert (report.sent, report.failed) == (0, 2)  # both alerts kept in the mail outbox, tried again later
