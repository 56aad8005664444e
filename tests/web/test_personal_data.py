"""A person's request from the inbox: an admin finds an author, exports what is kept about them as
JSON, or erases it after typing the handle again; each is in the audit log with who and from where."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.config import Config
from social_care.storage.tables import AuditEvent, Author, Mention
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import ADMIN, DEMO_PASSWORD, SCRIPT, csrf_of, log_in

CHIARA = "chiara.conti@velora.example"  # supervisor
OFFICE = "198.51.100.7"
COMPLAINT = "My Velora Pulse died again, Anna from Turin"


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    for email in (ADMIN, CHIARA):
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    desk = Desk(engine, config, clock)
    desk.post(handle="anna_b", text=COMPLAINT)
    clock.advance(days=2)
    desk.post(handle="anna_b", text="Still waiting for my Velora Pulse")
    desk.post(handle="bruno", text="Velora Casa is great")
    with Session(engine) as session:
        anna = session.exec(select(Author).where(Author.handle == "anna_b")).one()
        anna.name = SCRIPT
        session.add(anna)
        session.commit()
    return desk


@pytest.fixture
def admin(desk: Desk) -> TestClient:
    app = create_app(desk.config, desk.engine, secret_key="person-test-secret", clock=desk.clock)
    client = TestClient(app, client=(OFFICE, 50000), follow_redirects=False)
    log_in(client, ADMIN)
    return client


def find(client: TestClient, handle: str = "@anna_b") -> str:
    page = client.get("/personal-data", params={"platform": "demo", "handle": handle})
    assert page.status_code == 200, page.text
    return page.text


def test_the_admin_finds_the_person_and_sees_what_is_kept_before_acting(admin: TestClient) -> None:
    page = find(admin, "@ANNA_B")
    assert "2 posts in 2 cases" in page
    assert SCRIPT not in page and "&lt;script&gt;" in page, "a stranger's display name is escaped"
    missing = admin.get("/personal-data", params={"platform": "demo", "handle": "nobody"})
    assert missing.status_code == 404 and "Nobody with the handle" in missing.text


def test_the_export_downloads_everything_about_them_and_is_audited(admin: TestClient, desk: Desk) -> None:
    token = csrf_of(find(admin))
    answer = admin.post("/personal-data/export", data={"platform": "demo", "handle": "anna_b", "csrf": token})

    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="demo-anna_b.json"'
    assert answer.headers["cache-control"] == "no-store"
    data = json.loads(answer.text)
    assert [post["text"] for post in data["posts"]] == [COMPLAINT, "Still waiting for my Velora Pulse"]
    assert "Velora Casa is great" not in answer.text
    with Session(desk.engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.kind == "person_exported")).all()
    assert (event.actor, event.employee_id, event.address) == (ADMIN, desk.employee(ADMIN), OFFICE)


def test_erasing_needs_the_handle_typed_again_then_erases_and_is_audited(
    admin: TestClient, desk: Desk
) -> None:
    token = csrf_of(find(admin))
    form = {"platform": "demo", "handle": "anna_b", "csrf": token}

    unconfirmed = admin.post("/personal-data/forget", data={**form, "confirm": "anna"})
    assert unconfirmed.status_code == 400 and "nothing was erased" in unconfirmed.text
    with Session(desk.engine) as session:
        assert COMPLAINT in session.exec(select(Mention.text)).all()

    erased = admin.post("/personal-data/forget", data={**form, "confirm": "@Anna_B"})
    assert erased.status_code == 200 and "2 posts in 2 cases" in erased.text
    with Session(desk.engine) as session:
        texts = session.exec(select(Mention.text).order_by(Mention.id)).all()
        [event] = session.exec(select(AuditEvent).where(AuditEvent.kind == "person_forgotten")).all()
    assert texts == ["", "", "Velora Casa is great"]
    assert (event.actor, event.address) == (ADMIN, OFFICE) and "anna" not in event.subject
    assert admin.get("/personal-data", params={"platform": "demo", "handle": "anna_b"}).status_code == 404


def test_without_the_forms_token_nothing_is_exported_or_erased(admin: TestClient, desk: Desk) -> None:
    form = {"platform": "demo", "handle": "anna_b", "confirm": "anna_b"}
    assert admin.post("/personal-data/export", data=form).status_code == 403
    assert admin.post("/personal-data/forget", data=form).status_code == 403
    with Session(desk.engine) as session:
        assert COMPLAINT in session.exec(select(Mention.text)).all()
        assert session.exec(select(AuditEvent).where(AuditEvent.kind.startswith("person_"))).all() == []


def test_only_admins_see_the_page_and_its_link(desk: Desk, admin: TestClient) -> None:
    app = create_app(desk.config, desk.engine, secret_key="person-test-secret", clock=desk.clock)
    supervisor = TestClient(app, follow_redirects=False)
    log_in(supervisor, CHIARA)
    assert supervisor.get("/personal-data").status_code == 403
    assert 'href="/personal-data"' not in supervisor.get("/queue").text
    assert 'href="/personal-data"' in admin.get("/queue").text


def test_the_case_page_leads_an_admin_to_the_customers_data(admin: TestClient, desk: Desk) -> None:
    with Session(desk.engine) as session:
        case_id = session.exec(select(Mention.case_id).where(Mention.text == COMPLAINT)).one()
    page = admin.get(f"/cases/{case_id}").text
    assert 'href="/personal-data?platform=demo&amp;handle=anna_b"' in page
    assert "2 posts in 2 cases" in admin.get("/personal-data?platform=demo&handle=anna_b").text


def test_blocking_a_customer_is_audited_with_who_and_from_where(admin: TestClient, desk: Desk) -> None:
    with Session(desk.engine) as session:
        case_id = session.exec(select(Mention.case_id).where(Mention.text == COMPLAINT)).one()
        anna = session.exec(select(Author).where(Author.handle == "anna_b")).one()
    token = csrf_of(admin.get(f"/cases/{case_id}").text)
    form = {"csrf": token, "blocked": "true", "next": f"/cases/{case_id}"}
    assert admin.post(f"/authors/{anna.id}/flags", data=form).status_code == 303
    assert admin.post(f"/authors/{anna.id}/flags", data=form).status_code == 303, "no change: no new row"
    with Session(desk.engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.kind == "author_flagged")).all()
    assert (event.actor, event.address, event.subject) == (ADMIN, OFFICE, f"demo author #{anna.id}")
    assert event.detail == {"blocked": True, "opted_out": False}
