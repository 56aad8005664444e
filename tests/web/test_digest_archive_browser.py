"""An archived digest in Debian's chromium: its charts load inside the frame, and nothing in it ever runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page
from sqlmodel import Session

from social_care.directory import sync_directory
from social_care.runtime import open_database
from social_care.web.app import create_app
from tests.digest.days import HOSTILE
from tests.support.browser import ServedApp, chromium
from tests.support.configs import demo_config
from tests.web.archive import SUPERVISOR, a_digest_mail, archived, passwords, tampered
from tests.web.support import DEMO_PASSWORD

pytestmark = pytest.mark.browser
IMAGES = """() => [...document.images].map((image) => ({
    complete: image.complete, width: image.naturalWidth, height: image.naturalHeight,
}))"""


class Archive:
    """The inbox, served by a real uvicorn on loopback, with a digest as sent and one tampered with."""

    def __init__(self, tmp_path: Path) -> None:
        config = demo_config(tmp_path)
        self.engine = open_database(config, {})
        with Session(self.engine) as session:
            sync_directory(session, config)
        passwords(config, self.engine)
        mail = a_digest_mail()
        self.sent = archived(self.engine, mail)
        self.tampered = archived(self.engine, tampered(mail), to="direzione@velora.example")
        self.served = ServedApp(create_app(config, self.engine, secret_key="browser-test-secret"))
        self.url = self.served.url
        self.served.start()

    def stop(self) -> None:
        self.served.stop()
        self.engine.dispose()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    archive = Archive(tmp_path)
    yield archive
    archive.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1100, "height": 900})


def open_digest(page: Page, archive: Archive, run_id: int) -> Frame:
    """Log in as a supervisor, go from the queue to the archive, open one digest; its mail's frame."""
    page.goto(f"{archive.url}/login")
    page.fill("input[name=email]", SUPERVISOR)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.click("nav a[href='/digests']")
    page.click(f"a[href='/digests/{run_id}']")
    page.wait_for_load_state("load")
    frame = page.frame_locator("iframe.digest-mail")
    frame.locator("body").wait_for()
    [mail] = [frame for frame in page.frames if frame.url.endswith(f"/digests/{run_id}/mail")]
    return mail


def test_an_archived_digest_shows_its_charts_and_its_strangers_text_as_text(
    archive: Archive, page: Page
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    mail = open_digest(page, archive, archive.sent)

    images = mail.evaluate(IMAGES)
    assert len(images) == 2
    assert all(image["complete"] and image["width"] > 0 and image["height"] > 0 for image in images), images
    seen = mail.inner_text("body")
    for hostile in HOSTILE:
        assert hostile in seen
    assert dialogs == []


def test_script_in_an_archived_digest_never_runs_even_if_escaping_had_failed(
    archive: Archive, page: Page
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    mail = open_digest(page, archive, archive.tampered)

    assert mail.evaluate("() => document.querySelectorAll('script').length") == 2, "the attack is there"
    assert mail.evaluate("() => document.body.dataset.ran ?? 'nothing'") == "nothing"
    assert dialogs == []
