"""Who may see a case and act on it: the scope is the same for every page, action and feed.

An agent sees the cases of their teams and acts on those assigned to them (or takes
an unassigned one); a supervisor acts for their teams; nobody answers from an account
they are not authorised for, and nobody assigns a case outside its team.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from social_care.config import Config
from social_care.storage.tables import Author, Case, CaseEvent, Employee, OutboxEntry
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, QueuePage, action_form, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it
SARA = "sara.greco@velora.example"  # agent, care-it and care-en
PAOLA = "paola.ricci@velora.example"  # agent, payments
CHIARA = "chiara.conti@velora.example"  # supervisor of every team
PEOPLE = (LUCA, SARA, PAOLA, CHIARA)

ACTIONS = ("reply", "note", "dismiss", "reopen", "take", "assign", "release", "correct", "presence")


def client_for(config: Config, engine: Engine, clock: FakeClock) -> TestClient:
    return TestClient(create_app(config, engine, secret_key="scope-test-secret", clock=clock))


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = Desk(engine, config, clock)
    for email in PEOPLE:
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return desk


@pytest.fixture
def client(desk: Desk, config: Config, engine: Engine, clock: FakeClock) -> Iterator[TestClient]:
    with client_for(config, engine, clock) as client:
        yield client


@pytest.fixture
def lucas_case(desk: Desk) -> int:
    case_id = desk.post(text="@velora il mio Pulse non si accende", language="it")
    desk.assign(case_id, "care-it", LUCA)
    return case_id


def trail(engine: Engine) -> tuple[int, int]:
    """How many events and outgoing messages the desk holds: an action refused adds none."""
    with Session(engine) as session:
        events = session.exec(select(func.count()).select_from(CaseEvent)).one()
        messages = session.exec(select(func.count()).select_from(OutboxEntry)).one()
    return events, messages


def employee_id(engine: Engine, email: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Employee.id).where(Employee.email == email)).one() or 0


def test_an_agent_does_not_see_a_case_of_a_team_they_are_not_in(
    client: TestClient, lucas_case: int, engine: Engine
) -> None:
    log_in(client, PAOLA)
    page = client.get(f"/cases/{lucas_case}")
    assert page.status_code == 404
    assert "Paola Ricci" in page.text and 'href="/queue"' in page.text, "the refusal keeps the inbox's header"
    assert QueuePage(client.get("/queue").text).rows == []
    assert client.get(f"/cases/{lucas_case}/live").status_code == 404


def test_no_action_reaches_a_case_outside_the_persons_scope(
    client: TestClient, lucas_case: int, engine: Engine
) -> None:
    log_in(client, PAOLA)
    form = action_form(client.get("/queue").text) | {
        "seen": "999999",
        "text": "hello",
        "reply_key": "a-key-of-sixteen-chars",
        "reason": "spam",
        "assignee": str(employee_id(engine, PAOLA)),
        "category": "praise",
        "cluster": "other",
        "priority": "low",
        "team": "payments",
    }
    before = trail(engine)
    for action in ACTIONS:
        response = client.post(f"/cases/{lucas_case}/{action}", data=form, follow_redirects=False)
        assert response.status_code == 404, action
    assert trail(engine) == before


def test_an_agent_sees_the_cases_of_their_team_but_acts_only_on_their_own(
    client: TestClient, lucas_case: int, engine: Engine
) -> None:
    log_in(client, SARA)
    page = client.get(f"/cases/{lucas_case}").text
    assert "Send reply" not in page and "Take it" not in page
    form = action_form(page) | {"text": "Mine now", "reply_key": "a-key-of-sixteen-chars", "reason": "spam"}
    before = trail(engine)
    for action in ("reply", "dismiss", "take", "release", "correct", "assign"):
        response = client.post(f"/cases/{lucas_case}/{action}", data=form, follow_redirects=False)
        assert response.status_code == 403, action
    assert trail(engine) == before


def test_an_agent_takes_an_unassigned_case_of_their_team(
    client: TestClient, desk: Desk, engine: Engine
) -> None:
    case_id = desk.post(text="Velora Pulse broken")
    with Session(engine) as session:
        case = session.get_one(Case, case_id)
        case.team = "care-it"
        session.add(case)
        session.commit()
    log_in(client, SARA)
    page = client.get(f"/cases/{case_id}").text
    assert "Take it" in page and "Send reply" not in page
    response = client.post(f"/cases/{case_id}/take", data=action_form(page), follow_redirects=False)
    assert response.status_code == 303
    case = desk.case(case_id)
    assert (case.assignee_id, case.status) == (employee_id(engine, SARA), "assigned")
    assert "Sara Greco took the case" in client.get(f"/cases/{case_id}").text


def test_nobody_replies_from_an_account_they_are_not_authorised_for(
    engine: Engine, clock: FakeClock, tmp_path: pytest.TempPathFactory
) -> None:
    def luca_without_accounts(raw: Raw) -> None:
        next(person for person in raw["employees"] if person["email"] == LUCA)["accounts"] = []

    config = demo_config(tmp_path, luca_without_accounts)  # type: ignore[arg-type]
    desk = Desk(engine, config, clock)
    set_employee_password(config, engine, LUCA, DEMO_PASSWORD)
    case_id = desk.post(text="@velora Pulse?", language="it")
    desk.assign(case_id, "care-it", LUCA)
    with client_for(config, engine, clock) as client:
        log_in(client, LUCA)
        page = client.get(f"/cases/{case_id}").text
        assert "Send reply" not in page, "the case is his, the account is not"
        form = action_form(page) | {"text": "Ciao!", "reply_key": "a-key-of-sixteen-chars"}
        response = client.post(f"/cases/{case_id}/reply", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert trail(engine)[1] == 0


def test_nobody_assigns_a_case_outside_its_team(client: TestClient, lucas_case: int, engine: Engine) -> None:
    for person in (LUCA, CHIARA):
        log_in(client, person)
        page = client.get(f"/cases/{lucas_case}").text
        assert "Paola Ricci" not in page, "only the case's team is offered"
        form = action_form(page) | {"assignee": str(employee_id(engine, PAOLA))}
        response = client.post(f"/cases/{lucas_case}/assign", data=form, follow_redirects=False)
        assert response.status_code == 422
    log_in(client, LUCA)
    form = action_form(client.get(f"/cases/{lucas_case}").text) | {"assignee": str(employee_id(engine, SARA))}
    assert client.post(f"/cases/{lucas_case}/assign", data=form, follow_redirects=False).status_code == 303
    sara = employee_id(engine, SARA)
    with Session(engine) as session:
        assert session.get_one(Case, lucas_case).assignee_id == sara


def test_a_case_no_rule_routed_is_for_supervisors(client: TestClient, desk: Desk) -> None:
    case_id = desk.post(text="Velora?", category="other")
    log_in(client, SARA)
    assert client.get(f"/cases/{case_id}").status_code == 404
    log_in(client, CHIARA)
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert [row.reference for row in QueuePage(client.get("/queue").text).rows] == [f"SC-{case_id:06d}"]


def test_only_supervisors_set_others_away_and_only_within_their_teams(
    client: TestClient, desk: Desk, engine: Engine
) -> None:
    sara = employee_id(engine, SARA)
    log_in(client, LUCA)
    token = action_form(client.get("/queue").text)["csrf"]
    assert client.get("/team").status_code == 403
    refused = client.post(f"/people/{sara}/availability", data={"csrf": token, "available": "false"})
    assert refused.status_code == 403
    log_in(client, CHIARA)
    token = action_form(client.get("/team").text)["csrf"]
    response = client.post(
        f"/people/{sara}/availability", data={"csrf": token, "available": "false"}, follow_redirects=False
    )
    assert response.status_code == 303
    with Session(engine) as session:
        assert session.get_one(Employee, sara).available is False


def test_only_a_supervisor_blocks_a_customer(client: TestClient, lucas_case: int, engine: Engine) -> None:
    with Session(engine) as session:
        author_id = session.get_one(Case, lucas_case).author_id
    log_in(client, LUCA)
    form = action_form(client.get(f"/cases/{lucas_case}").text) | {
        "blocked": "true",
        "next": "//evil.example",
    }
    assert client.post(f"/authors/{author_id}/flags", data=form, follow_redirects=False).status_code == 403
    log_in(client, CHIARA)
    form = action_form(client.get(f"/cases/{lucas_case}").text) | {
        "blocked": "true",
        "next": "//evil.example",
    }
    response = client.post(f"/authors/{author_id}/flags", data=form, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/queue")
    with Session(engine) as session:
        assert session.get_one(Author, author_id).blocked is True
        assert session.exec(select(col(Author.opted_out_at))).one() is None
