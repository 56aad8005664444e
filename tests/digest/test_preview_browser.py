"""The preview file in Debian's chromium: its charts load, nothing runs, nothing is fetched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from social_care.digest.preview import write_preview
from social_care.digest.render import render_digest
from social_care.mail import MailTemplates
from social_care.resources import bundled
from tests.digest.days import HOSTILE, a_brand_day, a_digest, a_quiet_brand_day
from tests.support.browser import chromium

pytestmark = pytest.mark.browser
IMAGES = """() => [...document.images].map((image) => ({
    complete: image.complete, width: image.naturalWidth, height: image.naturalHeight, alt: image.alt,
}))"""
ACTIVE = """() => ({
    scripts: document.querySelectorAll("script").length,
    handlers: [...document.querySelectorAll("*")].filter(
        (element) => [...element.attributes].some((attribute) => attribute.name.startsWith("on"))
    ).length,
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize(("width", "language"), [(1100, "en"), (390, "it")])
def test_the_preview_shows_its_charts_runs_nothing_and_fetches_nothing(
    browser: Browser, tmp_path: Path, width: int, language: str
) -> None:
    templates = MailTemplates(bundled("templates") / "mail")
    digest = a_digest(a_brand_day(), a_quiet_brand_day("Orbis"), language=language)
    path = write_preview(render_digest(digest, templates), tmp_path / "digest.html")
    page = browser.new_page(viewport={"width": width, "height": 900})
    dialogs: list[str] = []
    fetched: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: fetched.append(request.url))
    try:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(IMAGES)
        active = page.evaluate(ACTIVE)
        seen = page.inner_text("body")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    finally:
        page.close()

    assert len(images) == 2
    assert all(image["complete"] and image["width"] > 0 and image["height"] > 0 for image in images), images
    assert all(image["alt"] for image in images)
    assert active == {"scripts": 0, "handlers": 0}
    assert dialogs == []
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    for hostile in HOSTILE:
        assert hostile in seen
    assert overflow <= 0, "the digest fits the screen's width"
