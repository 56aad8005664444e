"""``social-care run`` as a newcomer uses it: no credentials, cases in the queue within seconds."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.test_cli import COMMAND
from tests.web.support import ADMIN, csrf_of

PASSWORD_LINE = re.compile(r"Log in as (\S+) with password (\S+)")
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """A ``social-care run`` process and what it printed."""

    def __init__(self, cwd: Path, *options: str) -> None:
        self.port = free_port()
        environ = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SOCIAL_CARE_CONFIG"}
        }
        environ.update(COLUMNS="200", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [COMMAND, "run", "--port", str(self.port), *options],
            cwd=cwd,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started = time.monotonic()
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if found := pattern.search(line):
                return found
        raise AssertionError(f"never printed {pattern.pattern!r}; output:\n{''.join(self.output)}")

    def wait_until_serving(self) -> None:
        """The greeting comes just before uvicorn binds its port: wait for the port."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"nothing listens on port {self.port}; output:\n{''.join(self.output)}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=15)
        self.output.append(out)
        return self.process.returncode


@pytest.fixture
def start(tmp_path: Path) -> Iterator[type[Service]]:
    started: list[Service] = []

    class Started(Service):
        def __init__(self, *options: str) -> None:
            super().__init__(tmp_path, *options)
            started.append(self)

    yield Started
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.communicate(timeout=10)


def log_in(client: httpx2.Client, password: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": ADMIN, "password": password, "csrf": token})
    assert response.status_code == 303, response.text


def open_cases(client: httpx2.Client) -> int:
    return client.get("/queue").text.count('<tr class="case')


def test_the_demo_shows_cases_within_ten_seconds_and_stops_on_ctrl_c(start: type[Service]) -> None:
    service = start()
    email, password = service.wait_for(PASSWORD_LINE).groups()
    assert email == ADMIN
    service.wait_until_serving()
    with httpx2.Client(base_url=service.url, timeout=5) as client:
        log_in(client, password)
        while open_cases(client) == 0 and time.monotonic() - service.started < 10:
            time.sleep(0.2)
        assert open_cases(client) > 0, "no case in the queue 10 seconds after start"
    assert service.stop() == 0
    assert "social-care stopped." in "".join(service.output)
    assert "Traceback" not in "".join(service.output)


def test_a_second_start_keeps_the_password_and_the_cases(start: type[Service], tmp_path: Path) -> None:
    first = start()
    _, password = first.wait_for(PASSWORD_LINE).groups()
    first.wait_for(re.compile(r"demo: \d+ fetched"))
    assert first.stop() == 0
    second = start()
    second.wait_for(re.compile(r"with the password set earlier"))
    second.wait_until_serving()
    with httpx2.Client(base_url=second.url, timeout=5) as client:
        log_in(client, password)
        assert open_cases(client) > 0
    assert second.stop() == 0
    assert (tmp_path / "social-care.db").exists()


def test_web_and_workers_can_run_as_separate_processes(start: type[Service]) -> None:
    workers = start("--no-web")
    workers.wait_for(re.compile(r"Workers only"))
    _, password = workers.wait_for(PASSWORD_LINE).groups()
    workers.wait_for(re.compile(r"demo: \d+ fetched"))
    web = start("--no-workers")
    web.wait_for(re.compile(r"Inbox: "))
    web.wait_until_serving()
    with httpx2.Client(base_url=web.url, timeout=5) as client:
        log_in(client, password)
        assert open_cases(client) > 0
    assert workers.stop() == 0 and web.stop() == 0
    assert not any("demo:" in line for line in web.output), "the web process polled"
