"""Which address a sign-in comes from: the one that connected, or one a configured proxy names.

Run as a real ``social-care run`` process, since the question is what the server believes
of a request's ``X-Forwarded-For`` before the app ever sees it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from social_care.resources import example_config
from tests.support.processes import STARTUP_SECONDS, Service
from tests.web.support import ADMIN, csrf_of


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Service | httpx2.Client]]:
    """What a test started (processes, clients), each ended or closed after it."""
    things: list[Service | httpx2.Client] = []
    yield things
    for thing in things:
        thing.close()


def inbox(tmp_path: Path, started: list[Service | httpx2.Client], *, trusted_proxies: str) -> httpx2.Client:
    """A client of the inbox served with ``[service] trusted_proxies`` set as given."""
    example = example_config().read_text(encoding="utf-8")
    configured = example.replace("trusted_proxies = []", f"trusted_proxies = {trusted_proxies}", 1)
    assert "trusted_proxies = []" in example
    (tmp_path / "social-care.toml").write_text(configured, encoding="utf-8")
    service = Service(tmp_path, "--no-workers")
    started.append(service)
    service.wait_for(re.compile(r"Inbox: "))
    client = httpx2.Client(base_url=service.url, timeout=5)
    started.append(client)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if client.get("/login").status_code == 200:
                return client
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, f"the inbox never served; output:\n{service.output}"
        time.sleep(0.1)


def wrong_password(client: httpx2.Client, forwarded_for: str) -> int:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": ADMIN, "password": "not the password", "csrf": token},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_a_forwarded_address_from_a_client_that_is_no_configured_proxy_is_not_believed(
    tmp_path: Path, started: list[Service | httpx2.Client]
) -> None:
    client = inbox(tmp_path, started, trusted_proxies="[]")
    statuses = [wrong_password(client, f"198.51.100.{number}") for number in range(6)]
    assert statuses == [401] * 5 + [429], "a made-up X-Forwarded-For bought more guesses"


def test_a_configured_proxy_names_the_address_each_sign_in_comes_from(
    tmp_path: Path, started: list[Service | httpx2.Client]
) -> None:
    client = inbox(tmp_path, started, trusted_proxies='["127.0.0.1"]')
    one_each = [wrong_password(client, f"198.51.100.{number}") for number in range(6)]
    same = [wrong_password(client, "203.0.113.9") for _ in range(6)]
    elsewhere = wrong_password(client, "192.0.2.1")
    assert one_each == [401] * 6, "people behind the proxy were counted as one"
    assert same == [401] * 5 + [429]
    assert elsewhere == 401
