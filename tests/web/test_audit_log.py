"""The audit log: sign-ins, the kill switch, API tokens and triage models are recorded with who did
them and from where, in the same transaction, and only an admin reads the log, newest first.

The inbox is driven over HTTP with a controlled clock, from chosen client addresses; the
commands run in-process against the same database, as the person at the terminal named
"marta" (the command line's operator).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from social_care import audit
from social_care.classify import RuleClassifier
from social_care.cli import app as command
from social_care.config import Config
from social_care.config.models import LearningSettings
from social_care.learning.retraining import WORKER, retrain_if_due
from social_care.storage.tables import AuditEvent
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.learning.examples import house_examples, write_jsonl
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config, example_raw
from tests.support.desk import Desk
from tests.web.support import ADMIN, DEMO_PASSWORD, IMG, SCRIPT, QueuePage, csrf_of, log_in

LUCA = "luca.marino@velora.example"  # agent
CHIARA = "chiara.conti@velora.example"  # supervisor
OPERATOR = "marta (command line)"
HOME = "203.0.113.9"
ROW = re.compile(r'<tr class="audit-event kind-([a-z_]+)" data-event="(\d+)"')


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    for email in (ADMIN, LUCA, CHIARA):
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return Desk(engine, config, clock)


def inbox(desk: Desk, address: str = HOME) -> TestClient:
    """A browser at ``address`` on the inbox, which runs on the desk's clock."""
    app = create_app(desk.config, desk.engine, secret_key="audit-test-secret", clock=desk.clock)
    return TestClient(app, client=(address, 50000), follow_redirects=False)


@pytest.fixture
def terminal(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``social-care ...`` at marta's terminal, on the test's database."""
    raw = example_raw()
    raw["database"]["path"] = str(tmp_path / "unused.db")
    raw["sources"][0]["options"]["replies_file"] = str(tmp_path / "demo-replies.jsonl")
    settings = tmp_path / "social-care.toml"
    settings.write_bytes(tomli_w.dumps(raw).encode())
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("getpass.getuser", lambda: "marta")
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(command, [*args, "--config", str(settings)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    yield run


def recorded(engine: Engine, kind: str | None = None) -> list[AuditEvent]:
    with Session(engine) as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.id))
        if kind:
            statement = statement.where(AuditEvent.kind == kind)
        return list(session.exec(statement))


def sign_in(client: TestClient, email: str, password: str) -> int:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf": token}).status_code


def event_ids(html: str) -> list[int]:
    return [int(found.group(2)) for found in ROW.finditer(html)]


def kinds_shown(html: str) -> set[str]:
    return {found.group(1) for found in ROW.finditer(html)}


# -- what is recorded -----------------------------------------------------------------------------


def test_a_sign_in_a_refused_one_and_a_sign_out_are_recorded_with_the_address(desk: Desk) -> None:
    client = inbox(desk)
    assert sign_in(client, LUCA, "not the password") == 401
    desk.clock.advance(minutes=1)
    log_in(client, LUCA)
    desk.clock.advance(minutes=1)
    client.post("/logout", data={"csrf": csrf_of(client.get("/queue").text)})
    refused, signed_in, signed_out = recorded(desk.engine)
    assert (refused.kind, refused.actor, refused.address, refused.employee_id) == (
        audit.SIGN_IN_REFUSED,
        LUCA,
        HOME,
        None,
    )
    assert refused.detail == {"reason": "wrong email or password"}
    assert (signed_in.kind, signed_in.actor, signed_in.address) == (audit.SIGNED_IN, LUCA, HOME)
    assert signed_in.employee_id == desk.employee(LUCA)
    assert signed_in.at == refused.at + timedelta(minutes=1), "the inbox's clock, not the wall's"
    assert (signed_out.kind, signed_out.actor, signed_out.address) == (audit.SIGNED_OUT, LUCA, HOME)
    assert signed_out.at == desk.clock.now


def test_a_refused_email_is_kept_as_typed_cut_short_and_a_throttled_attempt_says_so(desk: Desk) -> None:
    client = inbox(desk)
    assert sign_in(client, "x" * 500 + "@velora.example", "guess") == 401
    assert sign_in(client, "correct horse battery staple", "guess") == 401
    for _ in range(5):
        assert sign_in(client, LUCA, "guess") == 401
    assert sign_in(client, LUCA, DEMO_PASSWORD) == 429, "throttled, even with the right password"
    refusals = recorded(desk.engine, audit.SIGN_IN_REFUSED)
    assert refusals[0].actor == "x" * 200
    assert refusals[1].actor == "(not an e-mail address)", "a password typed in the wrong field is not kept"
    refusals = refusals[1:]
    assert [event.detail["reason"] for event in refusals[1:]] == ["wrong email or password"] * 5 + [
        "throttled"
    ]
    assert refusals[-1].actor == LUCA and refusals[-1].address == HOME
    assert recorded(desk.engine, audit.SIGNED_IN) == []


def test_behind_a_configured_proxy_the_address_recorded_is_the_one_it_names(
    desk: Desk, tmp_path: Path
) -> None:
    def behind_proxy(raw: Raw) -> None:
        raw["service"]["trusted_proxies"] = ["127.0.0.1"]

    desk.config = demo_config(tmp_path, behind_proxy)
    proxy, stranger = inbox(desk, "127.0.0.1"), inbox(desk, "192.0.2.50")
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    for client in (proxy, stranger):
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": LUCA, "password": "guess", "csrf": token}, headers=forwarded)
    assert [event.address for event in recorded(desk.engine)] == ["198.51.100.7", "192.0.2.50"], (
        "only the configured proxy is believed, as the login throttle believes it"
    )


def test_the_kill_switch_flipped_at_the_command_line_is_recorded_with_who_and_why(
    engine: Engine, terminal: Any
) -> None:
    terminal("pause", "--reason", "product recall")
    terminal("resume")
    engaged, released = recorded(engine)
    assert (engaged.kind, engaged.actor, engaged.detail) == (
        audit.KILL_SWITCH_ENGAGED,
        OPERATOR,
        {"reason": "product recall"},
    )
    assert (released.kind, released.actor) == (audit.KILL_SWITCH_RELEASED, OPERATOR)


def test_a_token_made_and_revoked_is_recorded_by_number_and_holder_never_its_secret(
    engine: Engine, terminal: Any
) -> None:
    secret = terminal("token", "create", LUCA, "--name", "nightly report").stdout.strip()
    token_id = terminal("token", "list").stdout.split()[0]
    terminal("token", "revoke", token_id)
    terminal("token", "revoke", token_id)  # already revoked: nothing more happened
    made, revoked = recorded(engine)
    assert (made.kind, made.actor, made.subject) == (
        audit.TOKEN_CREATED,
        OPERATOR,
        f"token #{token_id} of {LUCA}",
    )
    assert made.detail == {"name": "nightly report"}
    assert (revoked.kind, revoked.actor, revoked.subject) == (
        audit.TOKEN_REVOKED,
        OPERATOR,
        f"token #{token_id} of {LUCA}",
    )
    stored = json.dumps([[event.actor, event.subject, event.detail] for event in (made, revoked)])
    assert secret.startswith("sc_") and secret not in stored


def test_labels_imported_and_models_activated_or_rolled_back_are_recorded(
    engine: Engine, terminal: Any, tmp_path: Path, clock: FakeClock
) -> None:
    labels = write_jsonl(tmp_path / "house.jsonl", house_examples(60))
    terminal("labels", "import", str(labels), "--by", "the care team")
    terminal("learn", "--folds", "3", "--activate")
    terminal("model", "rollback")
    terminal("model", "activate", "1")
    fresh = [dict(row, id=f"more-{row['id']}") for row in house_examples(60, seed=5)]
    more = write_jsonl(tmp_path / "more.jsonl", fresh)
    terminal("labels", "import", str(more))
    settings = LearningSettings(retrain_after_labels=10, folds=3, activate_when_better=True)
    assert retrain_if_due(engine, settings, RuleClassifier(), at=clock.now) is not None
    events = [(event.kind, event.actor, event.subject) for event in recorded(engine)]
    assert events == [
        (audit.LABELS_IMPORTED, OPERATOR, "house.jsonl"),
        (audit.MODEL_ACTIVATED, OPERATOR, "model 1"),
        (audit.MODEL_ROLLED_BACK, OPERATOR, "model 1"),
        (audit.MODEL_ACTIVATED, OPERATOR, "model 1"),
        (audit.LABELS_IMPORTED, OPERATOR, "more.jsonl"),
        (audit.MODEL_ACTIVATED, WORKER, "model 2"),
    ]
    imported, activated, rolled_back = recorded(engine)[:3]
    assert imported.detail["count"] == 120 and imported.detail["labels_from"] == "the care team"
    assert (
        activated.detail["labels"] == 120
        and activated.detail["macro_f1"] > activated.detail["rules_macro_f1"]
    )
    assert rolled_back.detail == {"now_deciding": "the rules alone"}
    assert recorded(engine)[-1].at == clock.now


# -- the page -------------------------------------------------------------------------------------


def test_only_an_admin_may_read_the_audit_log_and_only_an_admin_is_shown_the_way(desk: Desk) -> None:
    assert inbox(desk).get("/audit").headers["location"] == "/login"
    for email in (LUCA, CHIARA):
        client = inbox(desk)
        log_in(client, email)
        assert client.get("/audit").status_code == 403, email
        assert 'href="/audit"' not in client.get("/queue").text
    admin = inbox(desk)
    log_in(admin)
    assert admin.get("/audit").status_code == 200
    assert 'href="/audit">Audit</a>' in admin.get("/queue").text


def many_events(desk: Desk, count: int) -> None:
    """``count`` events a minute apart: Chiara's pauses and resumes, and Luca's sign-ins."""
    with Session(desk.engine) as session:
        for number in range(count):
            desk.clock.advance(minutes=1)
            kind, actor = (audit.KILL_SWITCH_ENGAGED, CHIARA) if number % 3 == 0 else (audit.SIGNED_IN, LUCA)
            audit.record(session, kind, at=desk.clock.now, actor=actor, subject=f"event {number}")
        session.commit()


def test_the_admin_reads_the_newest_first_a_hundred_a_page(desk: Desk) -> None:
    many_events(desk, 230)
    admin = inbox(desk)
    log_in(admin)  # the 231st event
    first = admin.get("/audit").text
    ids = event_ids(first)
    assert len(ids) == 100 and ids == sorted(ids, reverse=True) and ids[0] == recorded(desk.engine)[-1].id
    assert "Signed in" in first and "admin@velora.example" in first
    older = re.search(r'href="(/audit\?before=\d+)" rel="next">Older', first)
    assert older is not None
    second = event_ids(admin.get(older.group(1)).text)
    assert len(second) == 100 and second[0] == ids[-1] - 1
    last = admin.get(f"/audit?before={second[-1]}").text
    assert event_ids(last) == list(range(second[-1] - 1, 0, -1)) and 'rel="next"' not in last
    assert 'href="/audit">Newest</a>' in last


def test_times_are_shown_in_the_viewers_time_zone(desk: Desk, tmp_path: Path) -> None:
    def admin_in_tokyo(raw: Raw) -> None:
        next(person for person in raw["employees"] if person["email"] == ADMIN)["timezone"] = "Asia/Tokyo"

    desk.config = demo_config(tmp_path, admin_in_tokyo)
    admin = inbox(desk)
    log_in(admin)
    assert "2026-11-23 18:00:00" in admin.get("/audit").text, "09:00 UTC is 18:00 in Tokyo"


def test_the_log_filters_by_kind_and_by_the_start_of_who_did_it(desk: Desk) -> None:
    many_events(desk, 9)
    admin = inbox(desk)
    log_in(admin)
    pauses = admin.get("/audit", params={"kind": audit.KILL_SWITCH_ENGAGED}).text
    assert kinds_shown(pauses) == {audit.KILL_SWITCH_ENGAGED} and len(event_ids(pauses)) == 3
    assert f'<option value="{audit.KILL_SWITCH_ENGAGED}" selected>' in pauses
    for who in ("chiara", "CHIARA.conti@", CHIARA):
        shown = admin.get("/audit", params={"actor": who}).text
        assert len(event_ids(shown)) == 3, who
    lucas = admin.get("/audit", params={"actor": "luca", "kind": audit.SIGNED_IN}).text
    assert len(event_ids(lucas)) == 6
    assert event_ids(admin.get("/audit", params={"actor": "%"}).text) == [], (
        "a % is a character, not a wildcard"
    )
    assert event_ids(admin.get("/audit", params={"actor": "hiara"}).text) == [], "the start, not any part"


def test_a_mangled_address_is_refused_plainly(desk: Desk) -> None:
    admin = inbox(desk)
    log_in(admin)
    for params in ({"before": "abc"}, {"before": "-3"}, {"before": "9" * 40}, {"kind": "everything"}):
        response = admin.get("/audit", params=params)
        assert response.status_code == 400, params
        assert 'class="error"' in response.text and "Traceback" not in response.text


def test_what_strangers_typed_is_shown_as_text(desk: Desk) -> None:
    client = inbox(desk)
    assert sign_in(client, "<script>alert(1)</script>@velora.example", "guess") == 401
    with Session(desk.engine) as session:
        audit.record(
            session, audit.PERSON_FORGOTTEN, at=desk.clock.now, actor=SCRIPT, subject=IMG, reason=SCRIPT
        )
        session.commit()
    admin = inbox(desk)
    log_in(admin)
    page = admin.get("/audit").text
    assert QueuePage(page).active == [], "nothing stored runs on the page"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "reason: &lt;script&gt;" in page
