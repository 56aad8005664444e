"""The queue page: only for signed-in people, CSRF on every form, strangers' text shown as text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from social_care.cases import OPEN_STATES
from social_care.config import Config
from social_care.runtime import Service, build_service
from social_care.storage.tables import Author, Case, Mention
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.web.support import (
    ADMIN,
    DEMO_PASSWORD,
    IMG,
    SCRIPT,
    TEMPLATE,
    QueuePage,
    Row,
    csrf_of,
    log_in,
    minutes_until_demo_posts_containing,
)

SECRET_KEY = "test-secret-key"
NEXT = re.compile(r'id="next-page" href="([^"]+)"')
AGENT = "james.wright@velora.example"


@pytest.fixture
def service(config: Config, engine: Engine, clock: FakeClock) -> Service:
    """The real pipeline after the demo source's first poll."""
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    return service


@pytest.fixture
def client(service: Service, config: Config, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(config, engine, secret_key=SECRET_KEY)) as client:
        yield client


def open_cases(engine: Engine) -> dict[str, tuple[str, str]]:
    """Each open case's reference -> its author's handle and the text of its latest post."""
    latest = select(func.max(Mention.id)).group_by(col(Mention.case_id))
    statement = (
        select(Case, Author.handle, Mention.text)
        .join(Author, col(Author.id) == col(Case.author_id))
        .join(Mention, col(Mention.case_id) == col(Case.id))
        .where(col(Case.status).in_(OPEN_STATES), col(Mention.id).in_(latest))
    )
    with Session(engine) as session:
        return {case.reference: (handle, text) for case, handle, text in session.exec(statement)}


def every_row(client: TestClient, url: str = "/queue?view=open") -> tuple[list[Row], list[str]]:
    """The rows of every page of a view, following its "Next" links; and each page's active content."""
    rows: list[Row] = []
    active: list[str] = []
    while url:
        html = client.get(url).text
        page = QueuePage(html)
        rows += page.rows
        active += page.active
        found = NEXT.search(html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    return rows, active


def test_every_page_but_the_login_sends_a_stranger_to_the_login(client: TestClient) -> None:
    for path in ("/", "/queue"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.get("/login").status_code == 200
    assert client.get("/static/inbox.css").status_code == 200


def test_a_wrong_password_gets_401_and_an_error_and_no_session(client: TestClient) -> None:
    for email, password in ((ADMIN, "not the password"), ("nobody@velora.example", DEMO_PASSWORD)):
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"email": email, "password": password, "csrf": token})
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
        assert client.get("/queue", follow_redirects=False).status_code == 303


def test_login_without_its_sessions_csrf_token_is_refused_even_with_the_right_password(
    client: TestClient, config: Config, engine: Engine
) -> None:
    client.get("/login")
    right = {"email": ADMIN, "password": DEMO_PASSWORD}
    assert client.post("/login", data=right).status_code == 403
    assert client.post("/login", data={**right, "csrf": "forged"}).status_code == 403
    with TestClient(create_app(config, engine, secret_key=SECRET_KEY)) as other:
        someone_elses = csrf_of(other.get("/login").text)
    assert client.post("/login", data={**right, "csrf": someone_elses}).status_code == 403
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_the_queue_lists_every_open_case_with_reference_author_and_text(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        closed = session.exec(select(Case).order_by(col(Case.id))).first()
        assert closed is not None
        resolved = closed.reference
        session.execute(update(Case).where(col(Case.id) == closed.id).values(status="resolved"))
        session.commit()
    log_in(client)
    rows, _ = every_row(client)
    expected = open_cases(engine)
    assert len(expected) > 0
    assert sorted(row.reference for row in rows) == sorted(expected)
    assert resolved not in {row.reference for row in rows}
    for row in rows:
        handle, text = expected[row.reference]
        assert row.reference in row.cells[0]
        assert f"@{handle}" in row.cells[3]
        assert text in row.cells[4]


def test_hostile_post_text_is_shown_escaped_never_as_markup(
    client: TestClient, service: Service, clock: FakeClock, config: Config, engine: Engine
) -> None:
    clock.advance(minutes=minutes_until_demo_posts_containing(config, SCRIPT, IMG, TEMPLATE))
    service.poller.poll("demo")
    log_in(client)
    html = client.get("/queue").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert SCRIPT not in html and "<img" not in html
    rows, active = every_row(client)
    assert active == []
    shown = {row.reference: row.cells[4] for row in rows}
    for hostile in (SCRIPT, IMG, TEMPLATE):
        cases = [reference for reference, (_, text) in open_cases(engine).items() if hostile in text]
        assert cases, f"no open case shows the demo post with {hostile}"
        assert all(hostile in shown[reference] for reference in cases)


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    log_in(client)
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.get("/queue").status_code == 200
    response = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_logout_also_voids_copies_of_the_session_cookie(client: TestClient) -> None:
    log_in(client)
    copied = dict(client.cookies)
    token = csrf_of(client.get("/queue").text)
    client.post("/logout", data={"csrf": token})
    client.cookies.clear()
    client.cookies.update(copied)
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_a_new_password_voids_every_session_signed_before(
    client: TestClient, config: Config, engine: Engine
) -> None:
    log_in(client)
    set_employee_password(config, engine, ADMIN, "a brand new passphrase")
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_someone_removed_from_the_configuration_loses_their_session_at_the_next_start(
    client: TestClient, config: Config, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    set_employee_password(config, engine, AGENT, DEMO_PASSWORD)
    log_in(client, AGENT)
    assert client.get("/queue").status_code == 200

    def remove_agent(raw: Raw) -> None:
        raw["employees"] = [person for person in raw["employees"] if person["email"] != AGENT]

    restarted = demo_config(tmp_path, change=remove_agent)
    build_service(restarted, engine, clock=clock)
    with TestClient(create_app(restarted, engine, secret_key=SECRET_KEY), cookies=client.cookies) as again:
        assert again.get("/queue", follow_redirects=False).status_code == 303
        token = csrf_of(again.get("/login").text)
        answer = again.post("/login", data={"email": AGENT, "password": DEMO_PASSWORD, "csrf": token})
        assert answer.status_code == 401


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    answers = [client.get("/login"), client.get("/queue", follow_redirects=False)]
    answers.append(client.post("/login", data={"email": ADMIN, "password": DEMO_PASSWORD}))
    log_in(client)
    answers.append(client.get("/queue"))
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_service_reached_over_https_tells_browsers_to_keep_to_https(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    def over(url: str) -> Callable[[Raw], None]:
        def change(raw: Raw) -> None:
            raw["service"]["public_url"] = url

        return change

    for url, hsts in (("https://care.velora.example", "max-age=31536000"), ("http://127.0.0.1:8000", None)):
        app = create_app(demo_config(tmp_path, over(url)), engine, secret_key=SECRET_KEY, clock=clock)
        with TestClient(app) as client:
            assert client.get("/login").headers.get("strict-transport-security") == hsts, url


def test_after_five_wrong_passwords_that_address_waits_before_trying_that_account_again(
    service: Service, config: Config, engine: Engine, clock: FakeClock
) -> None:
    def attempt(client: TestClient, password: str) -> tuple[int, str]:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"email": ADMIN, "password": password, "csrf": token}, follow_redirects=False
        )
        return response.status_code, response.text

    with TestClient(create_app(config, engine, secret_key=SECRET_KEY, clock=clock)) as client:
        for guess in range(5):
            assert attempt(client, f"guess {guess}")[0] == 401
        status, page = attempt(client, DEMO_PASSWORD)
        assert status == 429 and "Too many wrong passwords: try again in 15 minutes." in page
        assert client.get("/queue", follow_redirects=False).status_code == 303
        clock.advance(minutes=15)
        assert attempt(client, DEMO_PASSWORD)[0] == 303
        assert client.get("/queue").status_code == 200
