"""The digest archive: supervisors and admins read what each recipient got; the mail in it runs nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.config import Config
from social_care.directory import sync_directory
from social_care.web.app import create_app
from tests.digest.days import HOSTILE
from tests.web.archive import AGENT, SUPERVISOR, a_digest_mail, archived, passwords
from tests.web.support import ADMIN, DEMO_PASSWORD, QueuePage, log_in

SECRET_KEY = "test-secret-key"


@pytest.fixture
def client(config: Config, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as session:
        sync_directory(session, config)
    passwords(config, engine)
    with TestClient(create_app(config, engine, secret_key=SECRET_KEY)) as client:
        yield client


@pytest.fixture
def run_id(engine: Engine) -> int:
    return archived(engine, a_digest_mail())


def pages(run_id: int) -> list[str]:
    return ["/digests", f"/digests/{run_id}", f"/digests/{run_id}/mail"]


def test_a_stranger_is_sent_to_the_login(client: TestClient, run_id: int) -> None:
    for path in pages(run_id):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_an_agent_is_refused_every_digest_page_and_is_not_shown_the_link(
    client: TestClient, run_id: int
) -> None:
    log_in(client, AGENT, DEMO_PASSWORD)
    for path in pages(run_id):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Your role does not allow this." in response.text
        assert HOSTILE[0] not in response.text
    assert 'href="/digests"' not in client.get("/queue").text


@pytest.mark.parametrize("email", [SUPERVISOR, ADMIN])
def test_supervisors_and_admins_find_the_archive_from_the_queue_and_read_every_page(
    client: TestClient, run_id: int, email: str
) -> None:
    log_in(client, email, DEMO_PASSWORD)
    assert 'href="/digests"' in client.get("/queue").text
    for path in pages(run_id):
        assert client.get(path).status_code == 200, path


def test_the_list_shows_each_day_newest_first_with_its_subject_or_why_none_was_sent(
    client: TestClient, engine: Engine, run_id: int
) -> None:
    quiet = archived(engine, None, day=date(2026, 12, 1))
    later = archived(engine, a_digest_mail(), day=date(2026, 12, 5), to="direzione@velora.example")
    log_in(client)
    html = client.get("/digests").text

    assert html.index("Sat 05 Dec 2026") < html.index("Thu 03 Dec 2026") < html.index("Tue 01 Dec 2026")
    assert f'href="/digests/{later}"' in html and f'href="/digests/{run_id}"' in html
    assert f'href="/digests/{quiet}"' not in html
    assert "not sent: a quiet day" in html
    assert "pending" in html, "the state of the mail in the outbox"


def test_a_digest_page_frames_the_mail_sandboxed_and_shows_the_text_escaped(
    client: TestClient, run_id: int
) -> None:
    log_in(client)
    html = client.get(f"/digests/{run_id}").text

    assert f'src="/digests/{run_id}/mail" sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert [item for item in QueuePage(html).active if not item.startswith("<iframe")] == []


def test_the_mail_is_served_under_a_policy_that_runs_nothing_and_fetches_nothing(
    client: TestClient, run_id: int
) -> None:
    log_in(client)
    response = client.get(f"/digests/{run_id}/mail")
    policy = response.headers["content-security-policy"]

    assert "default-src 'none'" in policy and "img-src data:" in policy and "sandbox" in policy
    assert "script-src" not in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "cid:" not in response.text and response.text.count('src="data:image/png;base64,') == 2
    assert '<base target="_blank">' in response.text


def test_an_unknown_digest_or_one_without_a_mail_is_not_found(client: TestClient, engine: Engine) -> None:
    quiet = archived(engine, None)
    log_in(client)
    assert client.get("/digests/999999").status_code == 404
    assert client.get(f"/digests/{quiet}/mail").status_code == 404
    page = client.get(f"/digests/{quiet}")
    assert page.status_code == 200 and "No mail was sent for this day: a quiet day." in page.text
