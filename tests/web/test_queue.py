"""The queue page: only for signed-in people, CSRF on every form, strangers' text escaped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.config import Config
from social_care.runtime import build_service
from social_care.storage.tables import Case
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config
from tests.web.support import ADMIN, DEMO_PASSWORD, csrf_of, log_in

HOSTILE = [
    post(
        "h1", "@velora the app shows <script>alert('x')</script> as my name, broken", direct=True, handle="h1"
    ),
    post("h2", "Velora Casa login page says <img src=x onerror=alert(1)> and fails", handle="h2"),
    post(
        "h3", "@velora my Velora Pay bill reads {{ 7*7 }} and I was charged twice", direct=True, handle="h3"
    ),
    post("h4", "Velora Pulse is not working at all", handle="h4", name="<b onmouseover=alert(2)>Eve</b>"),
]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return scenario_config(tmp_path, HOSTILE)


@pytest.fixture
def client(config: Config, engine: Engine, clock: FakeClock) -> Iterator[TestClient]:
    build_service(config, engine, clock=clock).poller.poll("demo")
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    with TestClient(create_app(config, engine, secret_key="test-secret-key")) as client:
        yield client


def test_pages_need_a_signed_in_person(client: TestClient) -> None:
    for path in ("/", "/queue"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": ADMIN, "password": "guess", "csrf": token})
    assert response.status_code == 401 and "Wrong email or password." in response.text
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_login_without_the_csrf_token_is_refused_even_with_the_right_password(client: TestClient) -> None:
    client.get("/login")
    assert client.post("/login", data={"email": ADMIN, "password": DEMO_PASSWORD}).status_code == 403
    forged = {"email": ADMIN, "password": DEMO_PASSWORD, "csrf": "forged"}
    assert client.post("/login", data=forged).status_code == 403
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_the_queue_lists_every_open_case(client: TestClient, engine: Engine) -> None:
    log_in(client)
    page = client.get("/queue")
    assert page.status_code == 200
    with Session(engine) as session:
        cases = session.exec(select(Case)).all()
    assert len(cases) == 4
    assert page.text.count('<tr class="case') == len(cases)
    for case in cases:
        assert case.reference in page.text
    assert "@h3" in page.text and "charged twice" in page.text


def test_strangers_text_is_shown_escaped_never_as_markup(client: TestClient) -> None:
    log_in(client)
    page = client.get("/queue").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b onmouseover=alert(2)&gt;Eve&lt;/b&gt;" in page
    assert "{{ 7*7 }}" in page and "49" not in page
    assert "<script>" not in page and "<img" not in page and "<b onmouseover" not in page


def test_responses_carry_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    log_in(client)
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/queue").status_code == 200
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_someone_removed_from_the_configuration_is_signed_out(
    client: TestClient, config: Config, engine: Engine
) -> None:
    log_in(client)
    from social_care.directory import sync_directory

    remaining = [person for person in config.employees if person.email != ADMIN]
    with Session(engine) as session:
        sync_directory(session, config.model_copy(update={"employees": remaining}))
    assert client.get("/queue", follow_redirects=False).status_code == 303
