"""The installed ``social-care`` command, run as a person would run it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlmodel import Session, select

from social_care.cli import app
from social_care.resources import example_config
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import MailEntry
from tests.fakes.smtp_server import MailServer
from tests.support.processes import COMMAND, STARTUP_SECONDS, Service
from tests.web.support import free_port


def social_care(
    *args: str, cwd: Path, stdin: str = "", environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        **{
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SOCIAL_CARE_CONFIG"}
        },
        **(environ or {}),
    }
    environ["COLUMNS"] = "200"
    return subprocess.run(
        [COMMAND, *args],
        cwd=cwd,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FOUR_PROBLEMS = textwrap.dedent(
    """
    [[brands]]
    name = "Velora"

    [[sources]]
    id = "x-main"
    platform = "demo"
    brand = "Velora"
    poll_interval_seconds = "every minute"
    credentials = { bearer_token = "SOCIAL_CARE_TEST_UNSET_TOKEN" }
    sort_order = "newest"

    [smtp]
    password_env = "SOCIAL_CARE_TEST_UNSET_SMTP"

    [[teams]]
    name = "care"

    [[routing]]
    name = "complaints"
    team = "support"
    """
)


def test_help_lists_every_command_with_a_description(tmp_path: Path) -> None:
    result = social_care("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command, words in {
        "run": "Run everything",
        "check-config": "Validate a configuration",
        "poll": "Poll one source",
        "db": "database schema",
        "user": "sign-in",
    }.items():
        line = next(line for line in result.stdout.splitlines() if f" {command} " in line)
        assert words in line


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    result = social_care("check-config", str(example_config()), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "warning" not in result.stdout + result.stderr


def with_two_warnings(tmp_path: Path) -> Path:
    """The example with the demo's auto_reply left out and mail on where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = example_config().read_text(encoding="utf-8").replace("auto_reply = true\n", "", 1)
    text = text.replace(
        'enabled = false\nhost = "127.0.0.1"\nport = 25', f'enabled = true\nhost = "127.0.0.1"\nport = {port}'
    )
    path = tmp_path / "warned.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_config_prints_warnings_after_valid_and_still_exits_0(tmp_path: Path) -> None:
    path = with_two_warnings(tmp_path)
    result = social_care("check-config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    valid, heading, auto_reply, mail = result.stdout.splitlines()
    assert valid.startswith(f"{path}: valid (")
    assert heading == "2 warnings (valid, but probably not doing what was meant):"
    assert auto_reply.startswith(
        f"  - {path}: sources[0].auto_reply: expected auto_reply = true for source 'demo'"
    )
    assert mail.startswith(
        f"  - {path}: smtp.enabled: expected a mail server accepting connections at 127.0.0.1:"
    )


def test_run_prints_the_warnings_as_it_starts(tmp_path: Path) -> None:
    path = with_two_warnings(tmp_path)
    service = Service(tmp_path, "--no-web", "--config", str(path))
    try:
        service.wait_for(re.compile(r"WARNING social_care\.config: .*sources\[0\]\.auto_reply: expected"))
        service.wait_for(re.compile(r"WARNING social_care\.config: .*smtp\.enabled: expected"))
        service.wait_for(re.compile(r"Workers only"))  # started: Ctrl-C now stops it cleanly
        assert service.stop() == 0, service.output
    finally:
        service.close()


def with_mail_server(tmp_path: Path, server: MailServer, name: str) -> Path:
    """The example with mail on, through ``server``, waiting up to two minutes for its answers."""
    text = example_config().read_text(encoding="utf-8")
    text = text.replace(
        'enabled = false\nhost = "127.0.0.1"\nport = 25',
        f'enabled = true\nhost = "127.0.0.1"\nport = {server.port}',
    )
    text = text.replace("timeout_seconds = 10.0\n", "timeout_seconds = 120.0\n")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ctrl_c_does_not_wait_for_a_mail_server_that_takes_its_time_and_the_mail_goes_out_next_start(
    tmp_path: Path,
) -> None:
    """The mail job is inside a send the server does not answer: Ctrl-C still stops the service
    within seconds, and the mail it was sending is sent by the next start."""
    arrived, answer = threading.Event(), threading.Event()

    def keep_the_sender_waiting() -> None:
        arrived.set()
        answer.wait(STARTUP_SECONDS)

    slow, later = MailServer(), MailServer()
    slow.inbox.while_receiving = keep_the_sender_waiting
    slow_config = with_mail_server(tmp_path, slow, "slow.toml")
    later_config = with_mail_server(tmp_path, later, "later.toml")
    try:
        first = Service(tmp_path, "--no-web", "--config", str(slow_config))
        try:
            assert arrived.wait(STARTUP_SECONDS), f"no mail reached the server; output:\n{first.output}"
            assert first.stop() == 0, first.output
        finally:
            answer.set()
            first.close()
        [interrupted] = [entry for entry in mail_entries(tmp_path) if entry.state == "sending"]
        second = Service(tmp_path, "--no-web", "--config", str(later_config))
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while mail_entries(tmp_path, interrupted.id)[0].state != "sent":
                assert time.monotonic() < deadline, f"not sent again; output:\n{second.output}"
                time.sleep(0.2)
            assert second.stop() == 0, second.output
        finally:
            second.close()
    finally:
        slow.stop()
        later.stop()
    assert interrupted.subject in [mail.message["Subject"] for mail in later.inbox.mails]
    assert "Traceback" not in first.output + second.output


def mail_entries(tmp_path: Path, entry_id: int | None = None) -> list[MailEntry]:
    """The service's mail outbox, or the one entry ``entry_id``, read from its database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'social-care.db'}")
    query = select(MailEntry) if entry_id is None else select(MailEntry).where(MailEntry.id == entry_id)
    try:
        with Session(engine) as session:
            return list(session.exec(query).all())
    finally:
        engine.dispose()


def test_check_config_prints_all_four_problems_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(FOUR_PROBLEMS, encoding="utf-8")
    result = social_care("check-config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "4 problems" in result.stderr
    assert "sources[0].poll_interval_seconds: expected a whole number, found 'every minute'" in result.stderr
    assert "sources[0].sort_order: expected one of" in result.stderr
    assert (
        "smtp.password_env: expected a secret in environment variable SOCIAL_CARE_TEST_UNSET_SMTP"
        in result.stderr
    )
    assert "routing[0].team: expected the name of one of the teams (care), found 'support'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_service_refuses_to_start_on_an_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(FOUR_PROBLEMS, encoding="utf-8")
    result = social_care("run", "--config", str(path), "--port", "1", cwd=tmp_path)
    assert result.returncode == 2 and "routing[0].team" in result.stderr and "Traceback" not in result.stderr


def test_poll_once_reports_what_it_fetched_matched_and_queued(tmp_path: Path) -> None:
    first = social_care("poll", "demo", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "demo: fetched 12, new 12" in first.stdout and "cases opened" in first.stdout
    assert (tmp_path / "social-care.db").exists()
    again = social_care("poll", "demo", "--once", cwd=tmp_path)
    assert "fetched 0, new 0" in again.stdout


def test_poll_names_the_enabled_sources_when_given_an_unknown_one(tmp_path: Path) -> None:
    result = social_care("poll", "twitter", "--once", cwd=tmp_path)
    assert result.returncode == 2 and "enabled sources: demo" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = social_care("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    head = migrate.head_revision(make_engine("sqlite://"))
    assert f"is at revision {head}" in result.stdout and (tmp_path / "social-care.db").exists()


def test_set_password_rejects_short_passwords_and_unknown_people(tmp_path: Path) -> None:
    short = social_care(
        "user", "set-password", "admin@velora.example", "--password-stdin", cwd=tmp_path, stdin="abc\n"
    )
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    unknown = social_care(
        "user", "set-password", "who@example.com", "--password-stdin", cwd=tmp_path, stdin="x" * 12
    )
    assert unknown.returncode == 2 and "No employee" in unknown.stderr
    ok = social_care(
        "user", "set-password", "admin@velora.example", "--password-stdin", cwd=tmp_path, stdin="x" * 12
    )
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("args", [("--help",), ("db", "--help"), ("user", "--help")])
def test_no_command_prints_a_traceback_for_help(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert "Traceback" not in social_care(*args, cwd=tmp_path).stderr


def test_run_refuses_to_run_nothing(tmp_path: Path) -> None:
    result = social_care("run", "--no-web", "--no-workers", cwd=tmp_path)
    assert result.returncode == 2 and "Nothing to run" in result.stderr


def test_help_says_where_the_configuration_comes_from(tmp_path: Path) -> None:
    result = social_care("poll", "--help", cwd=tmp_path)
    assert "[default: $SOCIAL_CARE_CONFIG, ./social-care.toml, the demo]" in result.stdout


def test_rollups_rebuild_says_how_many_cases_it_read(tmp_path: Path) -> None:
    result = social_care("rollups", "rebuild", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Rollups rebuilt from the events of 0 cases in \d", result.stdout)


@pytest.mark.parametrize(
    "command",
    [
        ("run", "--no-web"),
        ("db", "upgrade"),
        ("pause",),
        ("report", "--since", "2026-11-01"),
        ("learn",),
        ("model", "list"),
        ("labels", "export"),
    ],
)
def test_an_unreachable_database_is_named_with_where_its_address_came_from(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    nobody_listens = f"postgresql://care:s3cret@127.0.0.1:{free_port()}/care"
    result = social_care(*command, cwd=tmp_path, environ={"DATABASE_URL": nobody_listens})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"Cannot open the database postgresql+psycopg://care:***@127.0.0.1:{nobody_listens.split(':')[3]}"
        " (from $DATABASE_URL): connection failed"
    )
    assert result.stderr.rstrip().endswith("expected a database server accepting connections")
    assert "s3cret" not in result.stderr + result.stdout


def test_a_sqlite_file_that_cannot_be_made_is_named_with_its_setting(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    config = tmp_path / "social-care.toml"
    example = example_config().read_text(encoding="utf-8")
    config.write_text(
        example.replace('path = "social-care.db"', f'path = "{blocked}/care.db"', 1), encoding="utf-8"
    )
    result = social_care("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"Cannot open the database sqlite:///{blocked}/care.db (from [database] path): "
    )
    assert result.stderr.rstrip().endswith("expected a SQLite file that can be written")


def test_help_names_a_type_for_each_option_that_takes_a_value_and_none_for_a_flag(tmp_path: Path) -> None:
    top, run = social_care("--help", cwd=tmp_path).stdout, social_care("run", "--help", cwd=tmp_path).stdout
    assert "<bool>" not in top + run
    lines = {line.split()[1]: " ".join(line.split()) for line in run.splitlines() if line.startswith("│ --")}
    assert lines["--port"].startswith("│ --port PORT Port to serve the inbox on [default: 8000]")
    assert lines["--config"].startswith("│ --config -c PATH Configuration file")
    assert lines["--web"].startswith("│ --web --no-web Serve the web inbox in this process [default: web]")
    assert lines["--help"].startswith("│ --help Show this message and exit.")


def every_command(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each command of the ``social-care`` tree, by its words on the command line."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from every_command(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_takes_the_configuration_with_config() -> None:
    commands = dict(every_command(typer.main.get_command(app)))
    assert ("check-config",) in commands and ("labels", "import") in commands
    takes = {
        name: any("--config" in param.opts for param in command.params) for name, command in commands.items()
    }
    assert [" ".join(name) for name, config in takes.items() if not config] == []


def test_check_config_takes_its_file_with_config_or_as_its_argument(tmp_path: Path) -> None:
    example = str(example_config())
    for arguments in (("--config", example), ("-c", example), (example,), (example, "--config", example)):
        result = social_care("check-config", *arguments, cwd=tmp_path)
        assert result.returncode == 0 and result.stdout.startswith(f"{example}: valid"), arguments
    other = tmp_path / "other.toml"
    both = social_care("check-config", example, "--config", str(other), cwd=tmp_path)
    assert both.returncode == 2
    assert both.stderr.strip() == f"Two files to check: {example} and --config {other}; give one."
