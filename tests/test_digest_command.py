"""``social-care digest`` as a manager runs it: a preview in the terminal, an HTML file, a mail sent now."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.config import Config
from social_care.runtime import build_service, open_database
from social_care.sla.sweeper import LogNotifier
from social_care.storage.tables import DigestRun, MailEntry
from tests.fakes.smtp_server import MailServer
from tests.support.clock import FakeClock
from tests.support.configs import config_from, example_raw
from tests.support.desk import Desk
from tests.support.processes import COMMAND

ROME = ZoneInfo("Europe/Rome")
MANAGER = "chiara.conti@velora.example"
# The command reads the real clock: the busy day is three days ago in Rome.
BUSY_DAY = datetime.now(ROME).date() - timedelta(days=3)


class Desktop:
    """A configuration file and its database, in a folder of their own, as a manager has them."""

    def __init__(self, folder: Path, *, smtp_port: int = 25, recipients: list[Any] | None = None) -> None:
        raw = example_raw()
        raw["database"]["path"] = str(folder / "social-care.db")
        raw["sources"][0]["options"]["replies_file"] = str(folder / "demo-replies.jsonl")
        raw["smtp"].update(enabled=True, port=smtp_port)
        raw["digest"]["recipients"] = (
            [MANAGER, {"email": "direzione@velora.example", "language": "it"}]
            if recipients is None
            else recipients
        )
        self.folder, self.file = folder, folder / "social-care.toml"
        self.file.write_bytes(tomli_w.dumps(raw).encode())
        self.config: Config = config_from(raw)
        self.engine: Engine = open_database(self.config, {})

    def busy_day(self) -> None:
        """Three complaints and a word of praise about Velora at noon in Rome."""
        desk = Desk(self.engine, self.config, FakeClock(datetime.combine(BUSY_DAY, time(12), ROME)))
        for number in range(3):
            desk.post(handle=f"customer{number}", category="complaint")
        desk.post(handle="fan", category="praise")

    def digest(self, *options: str) -> subprocess.CompletedProcess[str]:
        environ = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL"}}
        return subprocess.run(
            [COMMAND, "digest", "--config", str(self.file), *options],
            cwd=self.folder,
            env={**environ, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def digest_runs(self) -> list[DigestRun]:
        with Session(self.engine) as session:
            return list(session.exec(select(DigestRun)).all())

    def digest_mails(self) -> list[MailEntry]:
        with Session(self.engine) as session:
            return list(session.exec(select(MailEntry).where(MailEntry.purpose == "digest")).all())


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    desktop = Desktop(tmp_path)
    yield desktop
    desktop.engine.dispose()


def test_it_prints_the_first_recipients_digest_of_a_day_as_text(desktop: Desktop) -> None:
    desktop.busy_day()
    result = desktop.digest("--date", BUSY_DAY.isoformat())

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Daily digest · ")
    assert "- Mentions: 4 " in result.stdout and "- Complaints: 3 " in result.stdout
    assert desktop.digest_runs() == [], "a preview is not a digest made"


def test_it_speaks_the_recipients_language_when_asked_for_them(desktop: Desktop) -> None:
    desktop.busy_day()
    result = desktop.digest("--date", BUSY_DAY.isoformat(), "--to", "Direzione@velora.example")
    assert result.returncode == 0, result.stderr
    assert "Menzioni" in result.stdout


def test_by_default_it_shows_yesterday_and_says_when_that_was_quiet(desktop: Desktop) -> None:
    result = desktop.digest()
    yesterday = datetime.now(ROME).date() - timedelta(days=1)
    assert result.returncode == 0, result.stderr
    assert "Daily digest · " in result.stdout
    assert f"No mentions on {yesterday} (Europe/Rome); --date today shows today so far." in result.stderr


def test_html_goes_to_the_file_named_with_its_charts_inside(desktop: Desktop) -> None:
    desktop.busy_day()
    page = desktop.folder / "digest.html"
    result = desktop.digest("--date", BUSY_DAY.isoformat(), "--html", "digest.html")

    assert result.returncode == 0, result.stderr
    assert f"The digest's HTML is in {page}: open it in a browser." in result.stdout
    html = page.read_text(encoding="utf-8")
    assert "cid:" not in html
    assert html.count('src="data:image/png;base64,') == 2


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            ("--to", "boss@velora.example"),
            "--to: expected one of the digest's recipients"
            " (chiara.conti@velora.example, direzione@velora.example), found 'boss@velora.example'",
        ),
        (("--brand", "Orbis"), "--brand: expected one of the brands (Velora), found 'Orbis'"),
        (("--date", "03/12/2026"), "--date: expected a date such as"),
        (("--date", "2999-01-01"), "--date: 2999-01-01 has not begun yet in Europe/Rome"),
        (("--date", "today", "--send"), "is not over yet in Europe/Rome; its digest goes out tomorrow"),
        (("--brand", "Velora", "--send"), "--send sends a recipient's whole digest: leave out --brand"),
        (("--html", "no/such/folder/digest.html"), "Cannot write no/such/folder/digest.html"),
    ],
)
def test_a_request_it_cannot_serve_is_explained_with_exit_2(
    desktop: Desktop, options: tuple[str, ...], said: str
) -> None:
    result = desktop.digest(*options)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_without_recipients_it_says_how_to_add_one(tmp_path: Path) -> None:
    result = Desktop(tmp_path, recipients=[]).digest()
    assert result.returncode == 2
    assert "No digest recipients are configured: add some to [digest]" in result.stderr


def test_send_queues_it_once_and_the_morning_round_does_not_send_it_again(tmp_path: Path) -> None:
    server = MailServer()
    try:
        desktop = Desktop(tmp_path, smtp_port=server.port, recipients=[MANAGER])
        yesterday = datetime.now(ROME).date() - timedelta(days=1)

        first, second = desktop.digest("--send"), desktop.digest("--send")
        service = build_service(
            desktop.config, desktop.engine, clock=FakeClock(after_eight_today()), notifier=LogNotifier()
        )
        round_report = service.digests.run_once()
        service.mail_sender.run_once()
    finally:
        server.stop()

    assert first.returncode == 0, first.stderr
    assert f"Queued {MANAGER}'s digest of {yesterday} in the mail outbox" in first.stdout
    assert second.returncode == 1
    assert f"{MANAGER}'s digest of {yesterday} was made already" in second.stdout
    assert "not queued again" in second.stdout
    assert round_report.queued == []
    [run] = desktop.digest_runs()
    assert (run.recipient, run.day, run.state) == (MANAGER, yesterday, "queued")
    assert run.made_by.endswith("command line)") or run.made_by == "command line"
    [mail] = desktop.digest_mails()
    assert run.mail_id == mail.id
    [received] = server.inbox.mails
    assert received.recipients == [MANAGER]


def after_eight_today() -> datetime:
    """A minute from now, or from 08:00 in Rome if that is later: the morning round is due."""
    eight = datetime.combine(datetime.now(ROME).date(), time(8), ROME)
    return max(datetime.now(ROME), eight) + timedelta(minutes=1)


def test_a_day_is_any_local_date_up_to_today() -> None:
    from social_care.digest_command import BadDigestRequest, choose_day

    now = datetime(2026, 12, 6, 23, 30, tzinfo=ROME)
    assert choose_day(None, ROME, now).day == date(2026, 12, 5)
    assert choose_day("today", ROME, now).day == date(2026, 12, 6)
    assert choose_day(" 2026-11-30 ", ROME, now).day == date(2026, 11, 30)
    assert choose_day(None, ZoneInfo("America/New_York"), now).day == date(2026, 12, 5)
    with pytest.raises(BadDigestRequest):
        choose_day("2026-12-07", ROME, now)
