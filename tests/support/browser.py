"""Debian's chromium, driven by Playwright, for the tests that look at pages as people do, and the
app it looks at, served by uvicorn on loopback."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from tests.web.support import free_port

CHROMIUM = Path("/usr/bin/chromium")  # Playwright cannot download its own browser here
STARTUP_SECONDS = 10
ACTIVE_CONTENT = """(selector) => {
    const inside = [...document.querySelectorAll(`${selector} *`)];
    const handles = (element) => [...element.attributes].some((attribute) => attribute.name.startsWith("on"));
    return {
        scripts: inside.filter((element) => element.tagName === "SCRIPT").length,
        images: inside.filter((element) => element.tagName === "IMG").length,
        handlers: inside.filter(handles).length,
    };
}"""  # page.evaluate(ACTIVE_CONTENT, selector): what could run inside the elements selected


class ServedApp:
    """``app`` served by a real uvicorn in a background thread, on a free loopback port at ``url``."""

    def __init__(self, app: FastAPI) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        # an open event stream would otherwise hold the shutdown until the page went away
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, f"uvicorn did not start within {STARTUP_SECONDS}s"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_SECONDS)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless chromium; the test is skipped without one, and fails under CI=true."""
    if not CHROMIUM.exists():
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield browser
        finally:
            browser.close()
