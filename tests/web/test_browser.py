"""The inbox in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from social_care.runtime import build_service, open_database
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config
from tests.web.support import ADMIN, DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser

POSTS = [
    post(
        "b1",
        "@velora the app shows <script>window.pwned=1</script> as my name, broken",
        direct=True,
        handle="b1",
    ),
    post("b2", "@velora do you ship the Velora Pulse to Switzerland?", direct=True, handle="b2"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox_url(tmp_path: Path) -> Iterator[str]:
    """The inbox over a SQLite database with two cases, served by uvicorn on loopback."""
    config = scenario_config(tmp_path, POSTS)
    engine = open_database(config, {})
    build_service(config, engine, clock=FakeClock()).poller.poll("demo")
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, engine, secret_key="browser-test"),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_a_manager_logs_in_sees_the_queue_and_logs_out(inbox_url: str, page: Page) -> None:
    page.goto(f"{inbox_url}/queue")
    assert page.url == f"{inbox_url}/login"
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.queue")
    assert page.locator("tr.case").count() == 2
    assert page.locator("tr.case", has_text="Switzerland").count() == 1
    page.click("text=Log out")
    page.wait_for_url(f"{inbox_url}/login")
    page.goto(f"{inbox_url}/queue")
    assert page.url == f"{inbox_url}/login"


def test_a_hostile_post_is_text_in_the_browser_not_code(inbox_url: str, page: Page) -> None:
    page.goto(f"{inbox_url}/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.queue")
    assert page.locator("table.queue script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("td.text", has_text="<script>window.pwned=1</script>").count() == 1


def test_a_wrong_password_shows_an_error(inbox_url: str, page: Page) -> None:
    page.goto(f"{inbox_url}/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong email or password."
