"""``social-care run`` as a newcomer uses it: no credentials, cases in the queue within seconds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx2
import pytest

from social_care.resources import example_config
from tests.test_cli import COMMAND
from tests.web.support import ADMIN, QueuePage, csrf_of, free_port

PASSWORD_LINE = re.compile(r"Log in as (\S+) with password (\S+) ")
SET_EARLIER = re.compile(rf"Log in as {re.escape(ADMIN)} .*with the password set earlier")
POLLED = re.compile(r"demo: \d+ fetched")
SENT = re.compile(r"outbox: [1-9]\d* sent")
STARTUP_SECONDS = 20
FIRST_CASE_SECONDS = 10
STOP_SECONDS = 10


class Service:
    """A ``social-care run`` process, and its output read line by line as it comes."""

    def __init__(self, cwd: Path, *options: str) -> None:
        self.port = free_port()
        environ = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SOCIAL_CARE_CONFIG"}
        }
        environ.update(COLUMNS="60", PYTHONUNBUFFERED="1")  # narrow: no line may be wrapped
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [COMMAND, "run", "--port", str(self.port), *options],
            cwd=cwd,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._arrived = threading.Condition()
        self._ended = 0
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], into: list[str]) -> None:
        for line in stream:
            with self._arrived:
                into.append(line)
                self._arrived.notify_all()
        with self._arrived:
            self._ended += 1
            self._arrived.notify_all()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def wait_for(self, pattern: re.Pattern[str], seconds: float = STARTUP_SECONDS) -> re.Match[str]:
        """The first line so far, on stdout or stderr, matching ``pattern``; waits up to ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._arrived:
            while not (found := pattern.search(self.output)):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._ended == len(self._readers):
                    raise AssertionError(f"never printed {pattern.pattern!r}; output:\n{self.output}")
                self._arrived.wait(remaining)
        return found

    def stop(self, signal_number: int = signal.SIGINT) -> int:
        self.process.send_signal(signal_number)
        return self.finish(STOP_SECONDS)

    def finish(self, seconds: float) -> int:
        """The exit code, once the process has ended and all its output is read."""
        code = self.process.wait(timeout=seconds)
        for reader in self._readers:
            reader.join(timeout=seconds)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Starts ``social-care run`` in ``tmp_path``; every process started is ended after the test."""
    started: list[Service] = []

    def starter(*options: str) -> Service:
        started.append(Service(tmp_path, *options))
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
    service = start()
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
    first = start()
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
    workers = start("--no-web")
    workers.wait_for(re.compile(r"Workers only"))
    _, password = workers.wait_for(PASSWORD_LINE).groups()
    workers.wait_for(POLLED)
    web = start("--no-workers")
    web.wait_for(re.compile(r"Inbox: "))
    with httpx2.Client(base_url=web.url, timeout=5) as client:
        eventually(lambda: serving(client), by=web.started + STARTUP_SECONDS, what="the inbox never served")
        log_in(client, password)
        assert cases_in_queue(client) > 0
    assert workers.stop() == 0 and web.stop() == 0
    assert not POLLED.search(web.output), "the web process polled"
