"""The morning round: each recipient gets their yesterday once, after their send time, whoever sends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.digest.sending import RoundReport
from social_care.runtime import Service, build_service
from social_care.sla.sweeper import LogNotifier
from social_care.storage.tables import DigestRun, MailEntry
from tests.fakes.loopback import Loopback
from tests.fakes.smtp_server import MailServer
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk

ROME = "chiara.conti@velora.example"  # the section's defaults: Europe/Rome, 08:00
NEW_YORK = "ny@velora.example"
MONDAY = date(2026, 11, 23)
MONDAY_NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
TUESDAY_8_IN_ROME = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # Rome is UTC+1 in November


def digest_config(tmp_path: Path, *recipients: dict[str, Any], smtp_port: int = 25, **digest: Any) -> Config:
    def change(raw: dict[str, Any]) -> None:
        raw["digest"] = {
            "recipients": list(recipients) or [ROME, {"email": NEW_YORK, "timezone": "America/New_York"}],
            "send_at": time(8, 0),
            "timezone": "Europe/Rome",
            **digest,
        }
        raw["smtp"].update(enabled=True, port=smtp_port)

    return demo_config(tmp_path, change)


def worker(config: Config, engine: Engine, clock: FakeClock, name: str, **options: Any) -> Service:
    return build_service(config, engine, clock=clock, owner=name, notifier=LogNotifier(), **options)


def a_busy_monday(engine: Engine, config: Config) -> None:
    """Complaints and praise about Velora on Monday at noon in Rome."""
    desk = Desk(engine, config, FakeClock(MONDAY_NOON))
    for number in range(3):
        desk.post(handle=f"customer{number}", category="complaint")
    desk.post(handle="fan", category="praise")


def digest_mails(engine: Engine) -> list[MailEntry]:
    with Session(engine) as session:
        return list(session.exec(select(MailEntry).where(MailEntry.purpose == "digest")).all())


def made(engine: Engine) -> list[tuple[str, date, str]]:
    with Session(engine) as session:
        rows = session.exec(select(DigestRun).order_by(col(DigestRun.day), col(DigestRun.recipient)))
        return [(row.recipient, row.day, row.state) for row in rows]


def at_once(services: list[Service]) -> list[RoundReport]:
    """Every worker makes the morning round at the same moment."""
    start, reports, errors = threading.Barrier(len(services)), [], []

    def round_of(service: Service) -> None:
        start.wait()
        try:
            reports.append(service.digests.run_once())
        except Exception as error:  # the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=round_of, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return reports


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.stop()


def test_two_workers_at_once_send_each_due_recipient_one_mail_and_a_restart_sends_nothing_again(
    engine: Engine, tmp_path: Path, smtp: MailServer
) -> None:
    config = digest_config(tmp_path, smtp_port=smtp.port)
    a_busy_monday(engine, config)
    clock = FakeClock(TUESDAY_8_IN_ROME)
    workers = [worker(config, engine, clock, f"worker-{number}") for number in (1, 2)]

    reports = at_once(workers)
    for service in workers:
        service.mail_sender.run_once()

    assert sorted(what for report in reports for what in report.queued) == [f"{ROME} {MONDAY}"]
    assert made(engine) == [(ROME, MONDAY, "queued")]  # New York's 08:00 is still to come
    [received] = smtp.inbox.mails
    assert received.recipients == [ROME]
    assert received.message["Subject"].startswith("Velora · Mon 23 Nov: 4 mentions")

    clock.advance(minutes=5)
    restarted = worker(config, engine, clock, "worker-restarted")
    assert restarted.digests.run_once() == RoundReport()
    restarted.mail_sender.run_once()
    assert len(smtp.inbox.mails) == 1 and len(digest_mails(engine)) == 1


def test_after_three_days_down_only_yesterday_is_sent(engine: Engine, tmp_path: Path) -> None:
    config = digest_config(tmp_path, ROME)
    a_busy_monday(engine, config)
    clock = FakeClock(TUESDAY_8_IN_ROME)
    worker(config, engine, clock, "before").digests.run_once()

    clock.advance(days=3, minutes=30)  # back on Friday at 08:30 in Rome
    report = worker(config, engine, clock, "after").digests.run_once()

    assert report.queued == [f"{ROME} 2026-11-26"]
    assert [day for _, day, _ in made(engine)] == [MONDAY, date(2026, 11, 26)]
    assert len(digest_mails(engine)) == 2


@pytest.mark.parametrize(
    ("eight_in_rome", "day"),
    [
        (datetime(2026, 11, 24, 7, 0, tzinfo=UTC), date(2026, 11, 23)),  # winter: UTC+1
        (datetime(2026, 7, 14, 6, 0, tzinfo=UTC), date(2026, 7, 13)),  # summer: UTC+2
    ],
)
def test_a_recipient_in_rome_gets_theirs_from_eight_in_rome_and_not_a_minute_before(
    engine: Engine, tmp_path: Path, eight_in_rome: datetime, day: date
) -> None:
    config = digest_config(tmp_path, {"email": ROME, "timezone": "Europe/Rome", "send_at": time(8, 0)})
    clock = FakeClock(eight_in_rome)
    clock.advance(minutes=-1)
    service = worker(config, engine, clock, "worker")

    assert service.digests.run_once() == RoundReport()
    clock.advance(minutes=1)
    assert service.digests.run_once().queued == [f"{ROME} {day}"]
    assert made(engine) == [(ROME, day, "queued")]


def test_a_quiet_day_is_skipped_for_who_asked_and_told_briefly_to_the_others(
    engine: Engine, tmp_path: Path
) -> None:
    config = digest_config(tmp_path, ROME, {"email": "quiet@velora.example", "send_on_quiet_days": False})
    report = worker(config, engine, FakeClock(TUESDAY_8_IN_ROME), "worker").digests.run_once()

    assert report.queued == [f"{ROME} {MONDAY}"] and report.skipped == [f"quiet@velora.example {MONDAY}"]
    assert made(engine) == [(ROME, MONDAY, "queued"), ("quiet@velora.example", MONDAY, "skipped")]
    [mail] = digest_mails(engine)
    assert mail.recipients == [ROME] and mail.subject == "Velora · Mon 23 Nov: no mentions"


def test_a_busy_day_reaches_even_who_skips_quiet_ones(engine: Engine, tmp_path: Path) -> None:
    config = digest_config(tmp_path, {"email": "quiet@velora.example", "send_on_quiet_days": False})
    a_busy_monday(engine, config)
    worker(config, engine, FakeClock(TUESDAY_8_IN_ROME), "worker").digests.run_once()
    assert made(engine) == [("quiet@velora.example", MONDAY, "queued")]


def test_a_disabled_digest_sends_nothing(engine: Engine, tmp_path: Path) -> None:
    config = digest_config(tmp_path, enabled=False)
    a_busy_monday(engine, config)
    assert worker(config, engine, FakeClock(TUESDAY_8_IN_ROME), "worker").digests.run_once() == RoundReport()
    assert made(engine) == [] and digest_mails(engine) == []


class ChatHook(BaseHTTPRequestHandler):
    """A chat service's webhook on loopback, keeping what apprise posts to it."""

    posted: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).posted.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        """Quiet: the test reads what was posted."""


@pytest.fixture
def chat_hook() -> Iterator[Loopback]:
    ChatHook.posted, ChatHook.status = [], 200
    server = Loopback(ChatHook)
    yield server
    server.stop()


def test_the_short_version_goes_to_chat_once_with_a_link_to_the_archive(
    engine: Engine, tmp_path: Path, chat_hook: Loopback
) -> None:
    config = digest_config(tmp_path, ROME, chat_urls_env="DIGEST_CHAT_URLS")
    a_busy_monday(engine, config)
    environ = {"DIGEST_CHAT_URLS": chat_hook.base_url.replace("http://", "json://") + "/hook"}
    clock = FakeClock(TUESDAY_8_IN_ROME)
    service = worker(config, engine, clock, "worker", environ=environ)

    service.digests.run_once()
    clock.advance(minutes=1)
    service.digests.run_once()

    [mail] = digest_mails(engine)
    [posted] = ChatHook.posted
    with Session(engine) as session:
        run = session.exec(select(DigestRun)).one()
    assert posted["title"] == mail.subject
    assert posted["message"] == f"{mail.subject}\n{config.service.public_url}/digests/{run.id}"
    assert run.chat == "sent"


def test_a_chat_that_refuses_the_message_is_recorded_and_the_mail_still_goes(
    engine: Engine, tmp_path: Path, chat_hook: Loopback
) -> None:
    ChatHook.status = 500
    config = digest_config(tmp_path, ROME, chat_urls_env="DIGEST_CHAT_URLS")
    environ = {"DIGEST_CHAT_URLS": chat_hook.base_url.replace("http://", "json://") + "/hook"}
    service = worker(config, engine, FakeClock(TUESDAY_8_IN_ROME), "worker", environ=environ)

    assert service.digests.run_once().queued == [f"{ROME} {MONDAY}"]
    assert len(ChatHook.posted) == 1 and len(digest_mails(engine)) == 1
    with Session(engine) as session:
        assert session.exec(select(DigestRun.chat)).one().startswith("failed: ")
