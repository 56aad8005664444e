"""The screenshots of the README's short tour of the web inbox, taken from the demo desk.

Run it from the repository root, after ``pip install -e '.[test]'`` (for Playwright) and
``apt-get install chromium``::

    .venv/bin/python docs/tour.py

It builds the demo desk in a temporary folder, on a clock of its own that stops on a Monday
morning: the demo source is polled a few times, a minute apart, and the automatic
acknowledgements are sent. The inbox is then served by uvicorn on a free loopback port, and
Debian's chromium, driven by Playwright, works one case as the desk's people would: Chiara
Conti (supervisor) hands Noah Bennett's case to Sara Greco (agent) and leaves a note, then both
open it. It writes, next to this file:

- ``inbox-queue.png``: the queue, as Chiara sees it;
- ``inbox-case.png``: the case, as Sara sees it while Chiara is typing a reply on the same case;
- ``inbox-phone.png``: the same page on a phone;
- ``inbox-stale.png``: Sara's reply refused, her draft kept, because Chiara's went first.

Nothing leaves the machine: the demo source reads bundled posts and writes its replies to a file
in the temporary folder, and the pages load nothing but the inbox's own files.
"""

from __future__ import annotations

import re
import secrets
import socket
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.resources import example_config
from social_care.runtime import Service, build_service, open_database
from social_care.storage.tables import Author, Case
from social_care.users import set_employee_password
from social_care.web.app import create_app

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"  # Debian's: Playwright does not download a browser here
PASSWORD = secrets.token_urlsafe(16)  # the desk lives as long as the tour
ADMIN = "admin@velora.example"
CHIARA = "chiara.conti@velora.example"
LUCA = "luca.marino@velora.example"
SARA = "sara.greco@velora.example"
CUSTOMER = "noah_b"  # three posts about a watch a firmware update broke
MONDAY = datetime(2026, 11, 23, 8, 40, tzinfo=UTC)  # 09:40 in Rome, where the desk works
POLLS = 5  # a minute apart: the demo's first burst, then four posts a minute, about 30 cases
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LIVE = 10_000  # milliseconds: live updates come from a stream polled about once a second
STARTUP_SECONDS = 10
OUTSIDE = re.compile(r"^(?!http://127\.0\.0\.1:)")  # any address but the inbox's

NOTE = "Same 4.2 firmware fault as @lukas_weber's. The rollout is paused; a fix is due this week."
CHIARAS_REPLY = (
    "Hi Noah, we're sorry: firmware 4.2 stopped some Pulse 3 watches at the logo. Please don't reset "
    "it again; the fix is coming this week and we'll write to you here as soon as it's out."
)


class TourClock:
    """The desk's time, and the inbox's: it moves only when the tour moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Desk:
    config: Config
    engine: Engine
    clock: TourClock
    service: Service


def demo_config(folder: Path) -> Config:
    """The shipped example configuration, with its database and the demo's replies in ``folder``."""
    raw = tomllib.loads(example_config().read_text(encoding="utf-8"))
    raw["database"]["path"] = str(folder / "social-care.db")
    demo = next(source for source in raw["sources"] if source["id"] == "demo")
    demo["options"]["replies_file"] = str(folder / "demo-replies.jsonl")
    return Config.model_validate(raw)


def build_desk(folder: Path) -> Desk:
    """The demo desk after a few minutes of a Monday morning: cases open, acknowledgements sent."""
    config = demo_config(folder)
    engine = open_database(config, {})
    clock = TourClock(MONDAY)
    service = build_service(config, engine, clock=clock)
    for _ in range(POLLS):
        service.poller.poll("demo")
        clock.advance(minutes=1)
        service.sender.run_once()
    for email in (ADMIN, CHIARA, LUCA, SARA):
        set_employee_password(config, engine, email, PASSWORD)
    return Desk(config, engine, clock, service)


def case_of(engine: Engine, handle: str) -> int:
    """The id of the first case of the customer with ``handle``."""
    with Session(engine) as session:
        statement = (
            select(Case.id).join(Author, col(Author.id) == col(Case.author_id)).where(Author.handle == handle)
        )
        case_id = session.exec(statement.order_by(col(Case.id))).first()
    if case_id is None:
        raise LookupError(f"the demo desk has no case of @{handle}")
    return case_id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(desk: Desk) -> Iterator[str]:
    """The inbox on a free loopback port, on the desk's clock; its address."""
    app = create_app(desk.config, desk.engine, secret_key=secrets.token_urlsafe(32), clock=desk.clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield browser
        finally:
            browser.close()


class Tour:
    """People using the inbox at ``url``, each in a browser context of their own."""

    def __init__(self, browser: Browser, url: str, desk: Desk) -> None:
        self.browser = browser
        self.url = url
        self.desk = desk

    def signed_in(self, email: str, viewport: dict[str, int] = DESKTOP, **options: Any) -> Page:
        context = self.browser.new_context(viewport=viewport, device_scale_factor=1, **options)
        context.route(OUTSIDE, lambda route: route.abort())  # the pages load only the inbox's files
        page = context.new_page()
        page.set_default_timeout(LIVE)
        page.goto(f"{self.url}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{self.url}/queue")
        return page

    def on_case(self, email: str, case_id: int, **options: Any) -> Page:
        page = self.signed_in(email, **options)
        page.goto(f"{self.url}/cases/{case_id}")
        page.wait_for_selector("#timeline")
        return page

    def hand_over(self, chiara: Page, case_id: int) -> None:
        """Chiara gives the case to Sara, with a note for her, a couple of minutes later."""
        self.desk.clock.advance(minutes=2)
        chiara.goto(f"{self.url}/cases/{case_id}")
        chiara.select_option("form[action$='/assign'] select[name=assignee]", label="Sara Greco")
        chiara.click("form[action$='/assign'] button[type=submit]")
        expect(chiara.locator("#facts .assignee")).to_have_text("Sara Greco")
        self.desk.clock.advance(minutes=1)
        chiara.fill("#note-text", NOTE)
        chiara.click("#note-form button[type=submit]")
        expect(chiara.locator("#timeline li.entry-note")).to_contain_text("rollout is paused")
        self.desk.clock.advance(minutes=2)


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.mouse.move(0, 0)  # no hover effects in the picture
    path = DOCS / name
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    print(f"wrote {path.relative_to(DOCS.parent)} ({path.stat().st_size // 1024} kB)")


def start_writing(sara: Page, chiara: Page) -> None:
    """Sara starts from a saved reply and opens the triage correction; Chiara writes a reply too."""
    sara.select_option("#saved-reply", label="Ask for the order number")
    sara.click("#insert-reply")
    expect(sara.locator("#reply-count")).not_to_have_text("0 / 280")
    sara.click("#correct summary")
    chiara.locator("#reply-text").press_sequentially("Hi Noah, we're sorry", delay=20)
    expect(sara.locator("#presence")).to_have_text("Chiara Conti is typing…", timeout=LIVE)


def send_first(chiara: Page, sara: Page, desk: Desk) -> None:
    """Chiara sends her reply and it goes out; Sara, her draft still there, presses Send after her."""
    chiara.fill("#reply-text", CHIARAS_REPLY)
    chiara.click("#composer button[type=submit]")
    expect(chiara.locator("#timeline li.entry-reply")).to_contain_text("Chiara Conti")
    desk.service.sender.run_once()
    expect(sara.locator("#changed-live")).to_be_visible(timeout=LIVE)
    sara.click("#composer button[type=submit]")
    expect(sara.locator(".error[role=alert] ul.what-changed")).to_be_visible()
    expect(sara.locator("#reply-text")).to_have_value(re.compile("order number"))  # her draft, kept


def take_screenshots(browser: Browser, url: str, desk: Desk) -> None:
    tour = Tour(browser, url, desk)
    case_id = case_of(desk.engine, CUSTOMER)
    chiara = tour.signed_in(CHIARA)
    tour.hand_over(chiara, case_id)
    chiara.goto(f"{url}/queue")
    shoot(chiara, "inbox-queue.png")

    sara = tour.on_case(SARA, case_id)
    chiara.goto(f"{url}/cases/{case_id}")
    start_writing(sara, chiara)
    shoot(sara, "inbox-case.png", full_page=True)

    phone = tour.on_case(SARA, case_id, viewport=PHONE, is_mobile=True, has_touch=True)
    shoot(phone, "inbox-phone.png", full_page=True)
    phone.context.close()

    send_first(chiara, sara, desk)
    shoot(sara, "inbox-stale.png", full_page=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="social-care-tour-") as folder:
        desk = build_desk(Path(folder))
        try:
            with serving(desk) as url, chromium() as browser:
                take_screenshots(browser, url, desk)
        finally:
            desk.engine.dispose()


if __name__ == "__main__":
    main()
