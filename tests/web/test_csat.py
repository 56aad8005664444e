"""The satisfaction survey: a signed, expiring link in the resolution reply; one 1-5 answer per case."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care import csat
from social_care.config import Config
from social_care.storage.tables import CaseEvent, CsatResponse
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import csrf_of

SECRET_KEY = "test-secret-key"
AGENT = "luca.marino@velora.example"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/csat/\S+)")


def resolve_with_survey(desk: Desk, config: Config, tmp_path: Path, language: str = "en") -> str:
    """Resolve a case with a reply carrying the survey link; the link's path as the customer got it."""
    case_id = desk.post(language=language)
    desk.assign(case_id, "care-it", AGENT)
    text = csat.resolution_reply(config, SECRET_KEY, desk.case(case_id), "Fixed now.", desk.clock.now)
    desk.reply(case_id, AGENT, resolves=True, text=text)
    sent = [json.loads(line) for line in (tmp_path / "demo-replies.jsonl").read_text("utf-8").splitlines()]
    found = LINK.search(sent[-1]["text"])
    assert found, sent[-1]["text"]
    return found.group(1)


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    return Desk(engine, config, clock)


@pytest.fixture
def client(desk: Desk, config: Config, engine: Engine, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(config, engine, secret_key=SECRET_KEY, clock=clock)) as client:
        yield client


def scores(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return [row.score for row in session.exec(select(CsatResponse))]


def test_the_resolution_reply_carries_a_link_to_a_one_to_five_question(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient
) -> None:
    page = client.get(resolve_with_survey(desk, config, tmp_path))
    assert page.status_code == 200
    assert "How did we do?" in page.text
    assert [int(value) for value in re.findall(r'name="score" value="(\d)"', page.text)] == [1, 2, 3, 4, 5]


def test_an_answer_is_stored_once_with_its_event(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient, engine: Engine
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    token = csrf_of(client.get(path).text)
    assert client.post(path, data={"csrf": token, "score": "4"}).text.count("Thank you!") == 1
    again = client.post(path, data={"csrf": token, "score": "1"})
    assert (again.status_code, "Already answered" in again.text) == (409, True)
    assert "Already answered" in client.get(path).text
    assert scores(engine) == [4]
    with Session(engine) as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.kind == "csat_answered")).one()
        assert (event.actor, event.detail) == ("customer", {"score": 4})


def test_an_answer_without_the_pages_csrf_token_is_refused(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient, engine: Engine
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    client.get(path)
    refused = client.post(path, data={"csrf": "forged", "score": "5"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "Apri di nuovo il link" in refused.text and "Back to the queue" not in refused.text
    assert scores(engine) == []


def test_a_score_outside_one_to_five_is_asked_again(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient, engine: Engine
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    token = csrf_of(client.get(path).text)
    for wrong in ("9", "0", "four", "4.5", "²", ""):
        response = client.post(path, data={"csrf": token, "score": wrong})
        assert response.status_code == 422 and 'name="score"' in response.text, wrong
    assert scores(engine) == []


def test_a_damaged_or_forged_link_gets_a_clear_page(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient, engine: Engine
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    forged = "/csat/" + csat.survey_token("another-key", 1, desk.clock.now)
    token = csrf_of(client.get(path).text)
    for wrong in (path[:-3], forged, "/csat/nonsense"):
        page = client.get(wrong)
        assert (page.status_code, "This link is not valid" in page.text) == (400, True)
        assert client.post(wrong, data={"csrf": token, "score": "5"}).status_code == 400
    assert scores(engine) == []


def test_a_link_expires_after_the_configured_days(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient, clock: FakeClock
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    clock.advance(days=config.csat.link_valid_days, minutes=-1)
    assert client.get(path).status_code == 200
    clock.advance(minutes=2)
    page = client.get(path)
    assert (page.status_code, "This link has expired" in page.text) == (400, True)


def test_an_italian_customer_is_asked_in_italian(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient
) -> None:
    path = resolve_with_survey(desk, config, tmp_path, language="it")
    assert "Com&#39;è andata?" in client.get(path).text


def test_the_survey_needs_no_login_and_shows_nothing_of_the_inbox(
    desk: Desk, config: Config, tmp_path: Path, client: TestClient
) -> None:
    path = resolve_with_survey(desk, config, tmp_path)
    page = client.get(path, follow_redirects=False)
    assert page.status_code == 200 and "Log out" not in page.text
