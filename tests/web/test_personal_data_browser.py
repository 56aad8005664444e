"""A person's request clicked through in Debian's chromium: from the header to the person, the JSON
downloaded, the erasure refused until the handle is typed again, then done and in the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.browser import ServedApp, chromium
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.web.support import ADMIN, DEMO_PASSWORD

pytestmark = pytest.mark.browser
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
COMPLAINT = "My Velora Pulse died again 😡 — Anna from Turin"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'people.db'}")
    migrate.upgrade(engine)
    config, clock = demo_config(tmp_path), FakeClock()
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    desk = Desk(engine, config, clock)
    desk.post(handle="anna_b", text=COMPLAINT)
    desk.post(handle="bruno", text="Velora Casa is great")
    served = ServedApp(create_app(config, engine, secret_key="people-browser-secret", clock=clock))
    served.start()
    yield served.url
    served.stop()
    engine.dispose()


def find_anna(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("load")
    page.click("nav a[href='/personal-data']")
    page.select_option("select[name=platform]", "demo")
    page.fill("input[name=handle]", "@anna_b")
    page.click("form.person-find button[type=submit]")
    page.wait_for_load_state("load")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_an_admin_exports_then_erases_a_persons_data(served: str, width: int, height: int) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
        find_anna(page, served)
        assert "1 post in 1 case" in page.locator("section.person-found").inner_text()
        assert page.evaluate(FITS), f"the page scrolls sideways at {width} px"

        with page.expect_download() as download:
            page.click("text=Export as JSON")
        exported = json.loads(Path(download.value.path()).read_text("utf-8"))
        assert [post["text"] for post in exported["posts"]] == [COMPLAINT]

        page.fill("input[name=confirm]", "anna")
        page.click("button.danger")
        page.wait_for_load_state("load")
        assert "nothing was erased" in page.locator("[role=alert]").inner_text()

        page.fill("input[name=confirm]", "anna_b")
        page.click("button.danger")
        page.wait_for_load_state("load")
        assert "from 1 post in 1 case" in page.locator("section.person-erased").inner_text()

        page.click("nav a[href='/audit']")
        page.wait_for_load_state("load")
        kinds = page.locator("tr.audit-event td.what").all_inner_texts()
        assert kinds[:2] == ["Erased a person's data", "Exported a person's data"]
