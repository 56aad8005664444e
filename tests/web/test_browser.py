"""The inbox in a real browser: Debian's chromium driven by Playwright, against uvicorn on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, col, func, select

from social_care.cases import OPEN_STATES
from social_care.queue_views import PAGE_SIZE
from social_care.runtime import build_service, open_database
from social_care.storage.tables import Case
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.browser import ACTIVE_CONTENT, ServedApp, chromium
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.web.support import (
    ADMIN,
    DEMO_PASSWORD,
    IMG,
    SCRIPT,
    minutes_until_demo_posts_containing,
)

pytestmark = pytest.mark.browser


class Inbox:
    """The web inbox served by a real uvicorn in a background thread."""

    def __init__(self, tmp_path: Path) -> None:
        config = demo_config(tmp_path)
        self.engine = open_database(config, {})
        clock = self.clock = FakeClock()
        self.replies = Path(config.sources[0].options["replies_file"])
        self.public_url = config.service.public_url.rstrip("/")
        service = self.service = build_service(config, self.engine, clock=clock)
        service.poller.poll("demo")
        clock.advance(minutes=minutes_until_demo_posts_containing(config, SCRIPT, IMG))
        service.poller.poll("demo")
        set_employee_password(config, self.engine, ADMIN, DEMO_PASSWORD)
        self.served = ServedApp(create_app(config, self.engine, secret_key="browser-test-secret"))
        self.url = self.served.url

    def start(self) -> None:
        self.served.start()

    def stop(self) -> None:
        self.served.stop()
        self.engine.dispose()

    def open_cases(self) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).where(col(Case.status).in_(OPEN_STATES))).one()


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    inbox = Inbox(tmp_path)
    inbox.start()
    yield inbox
    inbox.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield browser.new_page()


def log_in(page: Page, inbox: Inbox, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{inbox.url}/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")


def test_a_manager_logs_in_through_the_form_sees_the_queue_and_logs_out(inbox: Inbox, page: Page) -> None:
    page.goto(f"{inbox.url}/queue")
    assert page.url == f"{inbox.url}/login"
    log_in(page, inbox)
    page.wait_for_selector("table.queue")
    assert page.url == f"{inbox.url}/queue"
    first_page = min(inbox.open_cases(), PAGE_SIZE)
    assert page.locator("table.queue tr.case").count() == first_page > 0
    assert page.locator("tr.case[data-case^='SC-']").count() == first_page
    assert page.locator("h1 small").inner_text().startswith(f"{inbox.open_cases()} cases")
    page.click("form.logout button[type=submit]")
    page.wait_for_url(f"{inbox.url}/login")
    assert page.locator("form[action='/login']").is_visible()
    page.goto(f"{inbox.url}/queue")
    assert page.url == f"{inbox.url}/login"


def test_a_hostile_post_is_text_on_the_screen_never_code(inbox: Inbox, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, inbox)
    page.wait_for_selector("table.queue")
    active = page.evaluate(ACTIVE_CONTENT, "table.queue")
    assert active == {"scripts": 0, "images": 0, "handlers": 0}
    for hostile in (SCRIPT, IMG):
        cell = page.locator("table.queue td.text", has_text=hostile)
        assert cell.count() >= 1 and cell.first.is_visible()
        assert hostile in cell.first.inner_text()
    assert dialogs == []


def test_a_wrong_password_keeps_the_login_page_with_an_error(inbox: Inbox, page: Page) -> None:
    log_in(page, inbox, password="not the password")
    assert page.locator("[role=alert]").inner_text() == "Wrong email or password."
    page.goto(f"{inbox.url}/queue")
    assert page.url == f"{inbox.url}/login"


def test_a_manager_answers_a_customer_from_the_case_page_and_resolves_the_case(
    inbox: Inbox, page: Page
) -> None:
    log_in(page, inbox)
    page.wait_for_selector("table.queue")
    inbox.service.sender.run_once()  # the automatic acknowledgements go first
    sent_before = inbox.replies.read_text(encoding="utf-8").splitlines() if inbox.replies.exists() else []
    link = page.locator("table.queue tr.case a.ref").first
    reference = link.inner_text()
    link.click()
    page.wait_for_selector("form#composer")
    assert page.locator("h1").inner_text().startswith(reference)
    post = page.locator("li.entry-post").last.get_attribute("data-post")
    page.fill("#composer textarea[name=text]", "We are sorry: a replacement is on its way.")
    page.check("#composer input[name=resolve]")
    page.click("#composer button[type=submit]")
    page.wait_for_selector("li.entry-reply")
    assert page.locator("[role=alert]").count() == 0, page.locator("[role=alert]").inner_text()
    assert "waiting to be sent" in page.locator("li.entry-reply").inner_text()
    inbox.clock.now = datetime.now(UTC)  # the page queued the reply at the real time
    assert inbox.service.sender.run_once().sent == 1
    sent = inbox.replies.read_text(encoding="utf-8").splitlines()[len(sent_before) :]
    [reply] = [json.loads(line) for line in sent]
    assert reply["in_reply_to"] == post
    assert reply["text"].startswith("We are sorry: a replacement is on its way.")
    assert f"{inbox.public_url}/csat/" in reply["text"]
    page.reload()
    assert page.locator("h1 small").inner_text().startswith("resolved")
    assert "Demo Admin resolved the case" in page.locator("ol.timeline li").last.inner_text()
