"""The case page: its posts shown as text, and a reply, resolution or dismissal by someone allowed to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.storage.tables import CaseEvent, OutboxEntry
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, SCRIPT, action_form, log_in

SECRET_KEY = "test-secret-key"
REPLY_KEY = re.compile(r'name="reply_key" value="([^"]+)"')
ASSIGNEE = "luca.marino@velora.example"
OTHER_AGENT = "sara.greco@velora.example"
SUPERVISOR = "chiara.conti@velora.example"


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = Desk(engine, config, clock)
    for email in (ASSIGNEE, OTHER_AGENT, SUPERVISOR):
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return desk


@pytest.fixture
def case_id(desk: Desk) -> int:
    case_id = desk.post(text=f"@velora my Pulse is dead {SCRIPT}")
    desk.assign(case_id, "care-it", ASSIGNEE)
    return case_id


@pytest.fixture
def client(desk: Desk, config: Config, engine: Engine, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(config, engine, secret_key=SECRET_KEY, clock=clock)) as client:
        yield client


def reply_form(client: TestClient, case_id: int, text: str, *, resolve: bool = False) -> dict[str, str]:
    """The reply form of the case page, filled in as a person would (or forged, when the page has none)."""
    page = client.get(f"/cases/{case_id}").text
    found = REPLY_KEY.search(page)
    form = action_form(page) | {"reply_key": found.group(1) if found else "a-forged-reply-key", "text": text}
    return form | ({"resolve": "true"} if resolve else {})


def send(client: TestClient, case_id: int, form: dict[str, str]) -> tuple[int, str]:
    """Post the form; the status code and the page shown."""
    response = client.post(f"/cases/{case_id}/reply", data=form, follow_redirects=False)
    return response.status_code, response.text


def reply(client: TestClient, case_id: int, text: str, *, resolve: bool = False) -> int:
    return send(client, case_id, reply_form(client, case_id, text, resolve=resolve))[0]


def outbox_texts(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [entry.text for entry in session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id)))]


def sent_texts(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "demo-replies.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines]


def test_the_page_needs_a_signed_in_person(client: TestClient, case_id: int) -> None:
    response = client.get(f"/cases/{case_id}", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_the_customers_post_is_shown_as_text(client: TestClient, case_id: int) -> None:
    log_in(client, ASSIGNEE)
    page = client.get(f"/cases/{case_id}").text
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_the_assignees_reply_is_sent_once_and_recorded_as_theirs(
    client: TestClient, case_id: int, desk: Desk, tmp_path: Path
) -> None:
    log_in(client, ASSIGNEE)
    assert reply(client, case_id, "Sorry! Try holding the button for 10 seconds.") == 303
    assert desk.service.sender.run_once().sent == 1
    assert desk.service.sender.run_once().sent == 0
    assert sent_texts(tmp_path) == ["Sorry! Try holding the button for 10 seconds."]
    case = desk.case(case_id)
    assert (case.status, case.first_response_at) == ("responded", desk.clock.now)
    assert "Luca Marino</b> · reply" in client.get(f"/cases/{case_id}").text


def test_a_resolving_reply_carries_the_survey_link_and_closes_the_case(
    client: TestClient, case_id: int, desk: Desk, tmp_path: Path
) -> None:
    log_in(client, ASSIGNEE)
    assert reply(client, case_id, "Replaced under warranty.", resolve=True) == 303
    desk.service.sender.run_once()
    [text] = sent_texts(tmp_path)
    assert text.startswith("Replaced under warranty.\n\nHow did we do?")
    assert "http://127.0.0.1:8000/csat/" in text
    assert desk.case(case_id).status == "resolved"


def test_another_agent_may_not_act_but_a_supervisor_may(
    client: TestClient, case_id: int, engine: Engine
) -> None:
    log_in(client, OTHER_AGENT)
    assert "Send reply" not in client.get(f"/cases/{case_id}").text
    status, page = send(client, case_id, reply_form(client, case_id, "Not my case"))
    assert (status, "You may not act on this case." in page) == (403, True)
    log_in(client, SUPERVISOR)
    assert reply(client, case_id, "Taking this one.") == 303
    with Session(engine) as session:
        assert [entry.text for entry in session.exec(select(OutboxEntry))] == ["Taking this one."]


def test_a_reply_without_the_forms_token_is_refused(client: TestClient, case_id: int, engine: Engine) -> None:
    log_in(client, ASSIGNEE)
    response = client.post(f"/cases/{case_id}/reply", data={"csrf": "forged", "text": "hi"})
    assert response.status_code == 403
    with Session(engine) as session:
        assert session.exec(select(OutboxEntry)).all() == []


def test_an_empty_reply_is_refused(client: TestClient, case_id: int) -> None:
    log_in(client, ASSIGNEE)
    assert reply(client, case_id, "   ") == 422


def test_a_case_can_be_marked_spam(client: TestClient, case_id: int, desk: Desk) -> None:
    log_in(client, ASSIGNEE)
    form = action_form(client.get(f"/cases/{case_id}").text) | {"reason": "spam"}
    response = client.post(f"/cases/{case_id}/dismiss", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert desk.case(case_id).status == "spam"


def test_the_same_form_sent_twice_sends_one_reply(
    client: TestClient, case_id: int, desk: Desk, engine: Engine, tmp_path: Path
) -> None:
    log_in(client, ASSIGNEE)
    form = reply_form(client, case_id, "Sorry! A replacement is on its way.")
    assert send(client, case_id, form)[0] == 303
    assert send(client, case_id, form)[0] == 303  # a double click, or the browser retrying the post
    assert outbox_texts(engine) == ["Sorry! A replacement is on its way."]
    desk.service.sender.run_once()
    assert sent_texts(tmp_path) == ["Sorry! A replacement is on its way."]


def test_a_reply_form_without_its_key_is_refused(client: TestClient, case_id: int, engine: Engine) -> None:
    log_in(client, ASSIGNEE)
    form = reply_form(client, case_id, "Hello") | {"reply_key": ""}
    assert send(client, case_id, form)[0] == 422
    assert outbox_texts(engine) == []


def test_a_case_is_not_resolved_twice_while_its_resolution_is_on_its_way(
    client: TestClient, case_id: int, engine: Engine
) -> None:
    log_in(client, ASSIGNEE)
    assert reply(client, case_id, "Replaced under warranty.", resolve=True) == 303
    status, page = send(client, case_id, reply_form(client, case_id, "Replaced, again.", resolve=True))
    assert status == 409
    assert "already on its way" in page and "Replaced, again.</textarea>" in page
    assert len(outbox_texts(engine)) == 1


def test_a_resolved_case_takes_a_reply_but_no_second_survey(
    client: TestClient, case_id: int, desk: Desk, engine: Engine
) -> None:
    log_in(client, ASSIGNEE)
    assert reply(client, case_id, "Replaced under warranty.", resolve=True) == 303
    desk.service.sender.run_once()
    assert reply(client, case_id, "Closing it once more.", resolve=True) == 409
    assert reply(client, case_id, "You are welcome!") == 303
    assert outbox_texts(engine)[1:] == ["You are welcome!"]
    desk.service.sender.run_once()
    assert desk.case(case_id).status == "resolved"


def test_a_case_marked_spam_takes_no_reply(
    client: TestClient, case_id: int, desk: Desk, engine: Engine
) -> None:
    desk.dismiss(case_id, "spam", ASSIGNEE)
    log_in(client, ASSIGNEE)
    status, page = send(client, case_id, reply_form(client, case_id, "Hello there"))
    assert (status, "is marked spam" in page) == (409, True)
    assert outbox_texts(engine) == []


def test_a_reply_too_long_for_the_platform_is_refused_and_kept_on_the_page(
    client: TestClient, case_id: int, engine: Engine
) -> None:
    log_in(client, ASSIGNEE)
    text = f"{SCRIPT} " + "w" * 240  # fits the demo platform's 280 characters alone, not with the survey link
    assert reply(client, case_id, text) == 303
    status, page = send(client, case_id, reply_form(client, case_id, text, resolve=True))
    assert status == 422
    assert "with the survey link; demo takes at most 280" in page
    assert f"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; {'w' * 240}</textarea>" in page
    assert SCRIPT not in page
    assert outbox_texts(engine) == [text]


def test_marking_a_case_spam_twice_is_one_event(client: TestClient, case_id: int, engine: Engine) -> None:
    log_in(client, ASSIGNEE)
    form = action_form(client.get(f"/cases/{case_id}").text) | {"reason": "spam"}
    for _ in range(2):
        response = client.post(f"/cases/{case_id}/dismiss", data=form, follow_redirects=False)
        assert response.status_code == 303
    with Session(engine) as session:
        kinds = [event.kind for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id))]
    assert kinds.count("marked_spam") == 1


def test_a_mangled_case_address_gets_a_page_not_json(client: TestClient, case_id: int) -> None:
    stranger = client.get("/cases/not-a-number", follow_redirects=False)
    assert (stranger.status_code, stranger.headers["location"]) == (303, "/login")
    log_in(client, ASSIGNEE)
    response = client.get("/cases/not-a-number", follow_redirects=False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "This address or form is not valid" in response.text and "Back to the queue" in response.text
