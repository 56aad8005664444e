"""``social-care run`` as a newcomer uses it: no credentials, cases in the queue within seconds."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from social_care.resources import example_config
from tests.support.processes import STARTUP_SECONDS, Service
from tests.web.support import ADMIN, QueuePage, csrf_of

PASSWORD_LINE = re.compile(r"Log in as (\S+) with password (\S+) ")
NOBODY_YET = re.compile(rf"Nobody can sign in yet\. .* social-care user set-password {re.escape(ADMIN)} ")
SET_EARLIER = re.compile(rf"Log in as {re.escape(ADMIN)} .*with the password set earlier")
POLLED = re.compile(r"demo: \d+ fetched")
SENT = re.compile(r"outbox: [1-9]\d* sent")
FIRST_CASE_SECONDS = 10


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Starts ``social-care run`` in ``tmp_path``; every process started is ended after the test."""
    started: list[Service] = []

    def starter(*options: str, terminal: bool = False) -> Service:
        started.append(Service(tmp_path, *options, terminal=terminal))
        return started[-1]

    yield starter
    for service in started:
        service.close()


def eventually(check: Callable[[], bool], *, by: float, what: str) -> None:
    """Ask ``check`` until it says yes or the monotonic clock passes ``by``."""
    while not check():
        assert time.monotonic() < by, what
        time.sleep(0.1)


def serving(client: httpx2.Client) -> bool:
    try:
        return client.get("/login").status_code == 200
    except httpx2.TransportError:
        return False


def log_in(client: httpx2.Client, password: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": ADMIN, "password": password, "csrf": token})
    assert response.status_code == 303, response.text


def cases_in_queue(client: httpx2.Client) -> int:
    return len(QueuePage(client.get("/queue").text).rows)


def test_the_demo_shows_a_case_within_ten_seconds_and_ctrl_c_stops_it_cleanly(
    start: Callable[..., Service], tmp_path: Path
) -> None:
    service = start(terminal=True)
    email, password = service.wait_for(PASSWORD_LINE).groups()
    assert email == ADMIN
    with httpx2.Client(base_url=service.url, timeout=5) as client:
        eventually(
            lambda: serving(client), by=service.started + STARTUP_SECONDS, what="the inbox never served"
        )
        log_in(client, password)
        eventually(
            lambda: cases_in_queue(client) > 0,
            by=service.started + FIRST_CASE_SECONDS,
            what=f"no case in the queue {FIRST_CASE_SECONDS}s after start; output:\n{service.output}",
        )
    assert service.stop(signal.SIGINT) == 0, service.output
    assert "social-care stopped.\n" in service.stdout
    assert "Traceback" not in service.output
    assert (tmp_path / "social-care.db").exists()


def test_sigterm_stops_it_as_cleanly_as_ctrl_c(start: Callable[..., Service], tmp_path: Path) -> None:
    service = start()
    service.wait_for(SENT)
    assert (tmp_path / "demo-replies.jsonl").exists()
    assert service.stop(signal.SIGTERM) == 0, service.output
    assert "social-care stopped.\n" in service.stdout
    assert "Traceback" not in service.output


def test_a_second_start_keeps_the_password_and_the_cases(start: Callable[..., Service]) -> None:
    first = start(terminal=True)
    _, password = first.wait_for(PASSWORD_LINE).groups()
    first.wait_for(POLLED)
    assert first.stop() == 0, first.output
    second = start()
    second.wait_for(SET_EARLIER)
    assert not PASSWORD_LINE.search(second.output)
    with httpx2.Client(base_url=second.url, timeout=5) as client:
        eventually(
            lambda: serving(client), by=second.started + STARTUP_SECONDS, what="the inbox never served"
        )
        log_in(client, password)
        assert cases_in_queue(client) > 0
    assert second.stop() == 0, second.output


def test_a_configuration_routing_to_an_unknown_team_stops_the_start_with_exit_code_2(
    tmp_path: Path, start: Callable[..., Service]
) -> None:
    example = example_config().read_text(encoding="utf-8")
    broken = example.replace('team = "payments"', 'team = "billing"', 1)
    assert broken != example
    (tmp_path / "broken.toml").write_text(broken, encoding="utf-8")
    service = start("--config", "broken.toml")
    assert service.finish(STARTUP_SECONDS) == 2
    assert "routing[0].team: expected the name of one of the teams" in "".join(service.stderr)
    assert "found 'billing'" in "".join(service.stderr)
    assert "Traceback" not in service.output
    assert not (tmp_path / "social-care.db").exists()


def test_web_and_workers_can_run_as_separate_processes(start: Callable[..., Service]) -> None:
    workers = start("--no-web", terminal=True)
    workers.wait_for(re.compile(r"Workers only"))
    workers.wait_for(POLLED)
    web = start("--no-workers", terminal=True)
    web.wait_for(re.compile(r"Inbox: "))
    _, password = web.wait_for(PASSWORD_LINE).groups()
    with httpx2.Client(base_url=web.url, timeout=5) as client:
        eventually(lambda: serving(client), by=web.started + STARTUP_SECONDS, what="the inbox never served")
        log_in(client, password)
        assert cases_in_queue(client) > 0
    assert workers.stop() == 0 and web.stop() == 0
    assert not POLLED.search(web.output), "the web process polled"
    assert not PASSWORD_LINE.search(workers.output), "a process serving no inbox made the password"


def test_a_generated_password_is_shown_only_on_a_terminal_never_in_a_log(
    start: Callable[..., Service],
) -> None:
    logged = start()  # its output goes to a pipe, as under a service manager that keeps a log
    logged.wait_for(NOBODY_YET)
    logged.wait_for(POLLED)
    assert logged.stop() == 0, logged.output
    assert not PASSWORD_LINE.search(logged.output)
    shown = start(terminal=True)
    shown.wait_for(PASSWORD_LINE)  # not "set earlier": the first process made none
    assert shown.stop() == 0, shown.output
