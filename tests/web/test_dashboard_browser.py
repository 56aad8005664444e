"""The dashboard in Debian's chromium, at a desk's width and a phone's: it fits, its charts are drawn,
and the page's strict content policy refuses nothing it needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page
from sqlalchemy import Engine

from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.web.app import create_app
from tests.support.browser import ServedApp, chromium
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.web.support import DEMO_PASSWORD
from tests.web.test_dashboard import CHIARA, desk_with_passwords, tell_the_day

pytestmark = pytest.mark.browser
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
BARS = """() => [...document.querySelectorAll("svg.volume-chart rect[class^=series]")]
    .map((bar) => bar.getBBox().height)"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    migrate.upgrade(engine)
    config, clock = demo_config(tmp_path), FakeClock()
    tell_the_day(desk_with_passwords(engine, config, clock))
    served = ServedApp(create_app(config, engine, secret_key="dashboard-browser-secret", clock=clock))
    served.start()
    yield served.url
    served.stop()
    engine.dispose()


def open_dashboard(page: Page, url: str) -> list[str]:
    """Log in as Chiara and open the dashboard from the header; what the browser complained of
    (a refused style or shape, a script error, a failed request) but the favicon no page names."""
    complaints: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            complaints.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", console)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    page.goto(f"{url}/login")
    page.fill("input[name=email]", CHIARA)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("load")
    page.click("nav a[href='/dashboard']")
    page.wait_for_load_state("load")
    return complaints


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_dashboard_fits_the_screen_and_draws_its_charts(served: str, width: int, height: int) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height})
        complaints = open_dashboard(page, served)
        assert page.locator("h1").inner_text().startswith("Dashboard")
        assert page.evaluate(FITS), f"the page scrolls sideways at {width} px"
        bars = page.evaluate(BARS)
        assert len(bars) == 5 and all(bar > 0 for bar in bars)  # 00:00 one team, 09:00 three, 10:00 one
        assert page.locator(".attainment-row").count() == 6
        assert page.locator(".attainment-bar").first.bounding_box()["width"] > 40  # type: ignore[index]
        assert complaints == []
