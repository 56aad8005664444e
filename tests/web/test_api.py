"""The JSON API: a person's token opens exactly what the inbox shows them, and acts as the case page does.

The same scope decides (404 outside it, 403 for a case one may see but not act on),
a stale ``seen`` is refused with what changed, a reply is queued once per request key,
and only a live bearer token of an active person opens it; the token is kept as a hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import tomli_w
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from social_care import api_tokens
from social_care.cli import app as command
from social_care.config import Config
from social_care.directory import sync_directory
from social_care.queue_views import QueueQuery
from social_care.storage.tables import ApiToken, Case, CaseEvent, OutboxEntry
from social_care.users import set_employee_password
from social_care.web.api_models import QueueParams
from social_care.web.app import create_app
from social_care.web.queue_bulk import ACTIONS
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config, example_raw
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it
SARA = "sara.greco@velora.example"  # agent, care-it and care-en
PAOLA = "paola.ricci@velora.example"  # agent, payments
CHIARA = "chiara.conti@velora.example"  # supervisor of every team
ADMIN = "admin@velora.example"
KEY = "a-request-key-of-24-chars"
ACTIONS_ON_A_CASE = ("reply", "take", "assign", "release", "correct", "dismiss", "reopen")


class Api:
    """One person's token, sent as a bearer token on every request."""

    def __init__(self, client: TestClient, secret: str) -> None:
        self.client, self.secret = client, secret

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", params=params, headers=self._headers())

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", json=body, headers=self._headers())

    def seen(self, case_id: int) -> int:
        """The case's latest change, as the API shows it."""
        return int(self.get(f"/cases/{case_id}").json()["seen"])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def token_for(desk: Desk, email: str, name: str = "test") -> str:
    _, secret = api_tokens.create_token(desk.config, desk.engine, email, name, desk.clock.now, by=ADMIN)
    return secret


def set_case(engine: Engine, case_id: int, **values: object) -> None:
    with Session(engine) as session:
        case = session.get_one(Case, case_id)
        for name, value in values.items():
            setattr(case, name, value)
        session.add(case)
        session.commit()


def trail(engine: Engine) -> tuple[int, int]:
    """How many events and outgoing messages the desk holds: an action refused adds none."""
    with Session(engine) as session:
        events = session.exec(select(func.count()).select_from(CaseEvent)).one()
        messages = session.exec(select(func.count()).select_from(OutboxEntry)).one()
    return events, messages


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    return Desk(engine, config, clock)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    app = create_app(desk.config, desk.engine, secret_key="api-test-secret", clock=desk.clock)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api(desk: Desk, client: TestClient) -> dict[str, Api]:
    """A token for each person of the tests, by email."""
    return {email: Api(client, token_for(desk, email)) for email in (LUCA, SARA, PAOLA, CHIARA, ADMIN)}


@pytest.fixture
def cases(desk: Desk) -> dict[str, int]:
    """Luca's Italian complaint, an unassigned care-it inquiry with a suggested reply, Sara's care-en
    case waiting on the customer, Paola's payments case due in ten minutes, an unrouted post, a case
    of a team since removed from the configuration, and a resolved care-it case."""
    made = {
        "lucas": desk.post(handle="giulia_r", language="it", text="Il Pulse non si accende"),
        "care_it_queue": desk.post(handle="marco_b", category="inquiry", language="it", text="Casa e Pay?"),
        "saras": desk.post(handle="anna_b", text="My Velora Casa drops the wifi"),
        "paolas": desk.post(handle="piero_p", text="Velora Pay charged me twice"),
        "unrouted": desk.post(handle="zz", category="other", text="velora random"),
        "old_team": desk.post(handle="old_t", text="Velora?"),
        "resolved": desk.post(handle="old_one", text="Broken Pay card"),
    }
    desk.assign(made["lucas"], "care-it", LUCA)
    desk.assign(made["saras"], "care-en", SARA)
    desk.reply(made["saras"], SARA)
    desk.assign(made["paolas"], "payments", PAOLA)
    desk.assign(made["resolved"], "care-it", LUCA)
    desk.resolve(made["resolved"], LUCA)
    for case_id in made.values():  # no clock runs but the one the "due" view is about
        set_case(desk.engine, case_id, ack_due_at=None, response_due_at=None, resolution_due_at=None)
    set_case(desk.engine, made["care_it_queue"], team="care-it", suggested_reply="Sì, insieme.")
    set_case(desk.engine, made["old_team"], team="retired-team")
    set_case(desk.engine, made["paolas"], response_due_at=desk.clock.now + timedelta(minutes=10))
    return made


# -- who sees what -----------------------------------------------------------------------------------

EVERY_OPEN = {"lucas", "care_it_queue", "saras", "paolas", "unrouted"}
SEES: dict[str, dict[str, set[str]]] = {
    LUCA: {
        "mine": {"lucas"},
        "team": {"care_it_queue"},
        "waiting": set(),
        "suggested": {"care_it_queue"},
        "due": set(),
        "closed": {"resolved"},
    },
    PAOLA: {
        "mine": {"paolas"},
        "team": set(),
        "waiting": set(),
        "suggested": set(),
        "due": {"paolas"},
        "closed": set(),
    },
    CHIARA: {
        "mine": set(),
        "team": {"care_it_queue"},
        "open": EVERY_OPEN,
        "waiting": {"saras"},
        "suggested": {"care_it_queue"},
        "due": {"paolas"},
        "closed": {"resolved"},
    },
    ADMIN: {
        "mine": set(),
        "team": {"care_it_queue", "old_team"},
        "open": EVERY_OPEN | {"old_team"},
        "waiting": {"saras"},
        "suggested": {"care_it_queue"},
        "due": {"paolas"},
        "closed": {"resolved"},
    },
}


@pytest.mark.parametrize("email", list(SEES))
def test_each_token_sees_exactly_its_holders_scope_in_every_view(
    api: dict[str, Api], cases: dict[str, int], email: str
) -> None:
    names = {case_id: name for name, case_id in cases.items()}
    for view, expected in SEES[email].items():
        answer = api[email].get("/queue", view=view).json()
        assert {names[row["case"]["id"]] for row in answer["rows"]} == expected, view
        counts = {item["name"]: item["count"] for item in answer["views"]}
        assert counts == {name: len(held) for name, held in SEES[email].items()}, "the counts, view by view"


def test_the_queue_rows_carry_the_case_its_customer_its_latest_post_and_its_latest_change(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    answer = api[LUCA].get("/queue").json()
    assert answer["view"] == "mine" and answer["order"] == "due" and answer["next"] == ""
    (row,) = answer["rows"]
    assert row["case"]["reference"] == f"SC-{cases['lucas']:06d}"
    assert (row["case"]["team"], row["case"]["assignee"], row["case"]["status"]) == (
        "care-it",
        "Luca Marino",
        "assigned",
    )
    assert (row["author"]["handle"], row["latest_post"]) == ("giulia_r", "Il Pulse non si accende")
    assert row["seen"] == api[LUCA].seen(cases["lucas"])
    assert api[CHIARA].get("/queue").json()["view"] == "open", "a supervisor starts from everything open"
    due = api[PAOLA].get("/queue", view="due").json()["rows"][0]["case"]
    assert (
        due["due_at"]
        == due["response_due_at"]
        == (desk.clock.now + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    )


def test_filters_and_search_narrow_a_view_and_one_the_desk_does_not_know_is_refused(
    api: dict[str, Api], cases: dict[str, int]
) -> None:
    chiara = api[CHIARA]
    rows = chiara.get("/queue", view="open", team="care-it", category="inquiry").json()["rows"]
    assert [row["case"]["id"] for row in rows] == [cases["care_it_queue"]]
    rows = chiara.get("/queue", view="open", q="wifi").json()["rows"]
    assert [row["case"]["id"] for row in rows] == [cases["saras"]]
    for params, named in (
        ({"category": "gossip"}, "category 'gossip'"),
        ({"view": "open", "since": "yesterday"}, "since 'yesterday'"),
        ({"after": "%%%"}, "after"),
        ({"colour": "red"}, "colour"),
    ):
        refused = chiara.get("/queue", **params)
        assert refused.status_code == 422 and named in refused.json()["detail"], params
    refused = api[LUCA].get("/queue", view="open")
    assert refused.status_code == 422 and "view 'open'" in refused.json()["detail"], (
        "All open is for supervisors"
    )


def test_the_api_takes_the_web_queues_own_parameters() -> None:
    assert list(QueueParams.model_fields) == [item.name for item in fields(QueueQuery)]


def test_a_case_outside_the_tokens_scope_does_not_exist_for_it(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    paola, lucas = api[PAOLA], cases["lucas"]
    assert paola.get(f"/cases/{lucas}").status_code == 404
    assert paola.get("/cases/999999").json() == {"detail": "No such case."}, "the same answer as for no case"
    before = trail(desk.engine)
    body = {"seen": 999999, "text": "hello", "request_key": KEY, "reason": "spam", "assignee": 1}
    for action in (*ACTIONS_ON_A_CASE, "note"):
        fitting = {name: body[name] for name in BODIES[action]}
        assert paola.post(f"/cases/{lucas}/{action}", fitting).status_code == 404, action
    assert trail(desk.engine) == before


BODIES: dict[str, tuple[str, ...]] = {
    "reply": ("seen", "text", "request_key"),
    "note": ("text",),
    "take": ("seen",),
    "assign": ("seen", "assignee"),
    "release": ("seen",),
    "correct": ("seen",),
    "dismiss": ("seen", "reason"),
    "reopen": ("seen",),
}


def test_the_case_reads_as_its_page(api: dict[str, Api], cases: dict[str, int], desk: Desk) -> None:
    desk.reply(cases["saras"], SARA, text="Have you tried turning it off?")
    answer = api[SARA].get(f"/cases/{cases['saras']}").json()
    kinds = [(entry["kind"], entry["text"]) for entry in answer["timeline"]]
    assert ("post", "My Velora Casa drops the wifi") in kinds
    assert ("reply", "Have you tried turning it off?") in kinds
    assert ("event", "Routed to Sara Greco in team care-en (test)") in kinds
    replies = [entry for entry in answer["timeline"] if entry["kind"] == "reply"]
    assert {entry["state"] for entry in replies} == {"sent"} and replies[0]["who"] == "Sara Greco"
    assert answer["may_act"] is True and answer["may_take"] is False
    assert {mate["name"] for mate in answer["teammates"]} == {"Chiara Conti", "James Wright"}, (
        "care-en, but not Sara herself"
    )


# -- acting --------------------------------------------------------------------------------------------


def test_an_agent_acts_only_on_their_own_case(api: dict[str, Api], cases: dict[str, int], desk: Desk) -> None:
    sara, lucas = api[SARA], cases["lucas"]
    answer = sara.get(f"/cases/{lucas}").json()
    assert (answer["may_act"], answer["may_take"]) == (False, False), "she sees it (care-it), it is Luca's"
    body = {
        "seen": answer["seen"],
        "text": "Mine now",
        "request_key": KEY,
        "reason": "spam",
        "assignee": desk.employee(SARA),
    }
    before = trail(desk.engine)
    for action in ACTIONS_ON_A_CASE:
        response = sara.post(f"/cases/{lucas}/{action}", {name: body[name] for name in BODIES[action]})
        assert response.status_code == 403, action
        assert response.json() == {"detail": "You may not act on this case."}
    assert trail(desk.engine) == before
    note = sara.post(f"/cases/{lucas}/note", {"text": "Luca, the customer called too"})
    assert note.status_code == 200, "anyone who sees the case may leave a note"


def test_an_agent_takes_an_unassigned_case_of_their_team(api: dict[str, Api], cases: dict[str, int]) -> None:
    sara, case_id = api[SARA], cases["care_it_queue"]
    answer = sara.post(f"/cases/{case_id}/take", {"seen": sara.seen(case_id)})
    assert answer.status_code == 200
    assert (answer.json()["case"]["assignee"], answer.json()["case"]["status"]) == ("Sara Greco", "assigned")
    assert answer.json()["seen"] == sara.seen(case_id), "the latest change, for the next action"
    again = sara.post(f"/cases/{case_id}/take", {"seen": answer.json()["seen"]})
    assert again.status_code == 403, "hers already"


def test_nobody_assigns_a_case_outside_its_team(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    lucas = cases["lucas"]
    for email in (LUCA, CHIARA):
        refused = api[email].post(
            f"/cases/{lucas}/assign", {"seen": api[email].seen(lucas), "assignee": desk.employee(PAOLA)}
        )
        assert refused.status_code == 422
        assert refused.json() == {"detail": "Assign the case to someone of its team who can take it now."}
    done = api[LUCA].post(
        f"/cases/{lucas}/assign", {"seen": api[LUCA].seen(lucas), "assignee": desk.employee(SARA)}
    )
    assert done.status_code == 200 and done.json()["case"]["assignee"] == "Sara Greco"


def test_nobody_replies_from_an_account_they_are_not_authorised_for(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    def luca_without_accounts(raw: Raw) -> None:
        next(person for person in raw["employees"] if person["email"] == LUCA)["accounts"] = []

    desk = Desk(engine, demo_config(tmp_path, luca_without_accounts), clock)
    case_id = desk.post(text="@velora Pulse?", language="it")
    desk.assign(case_id, "care-it", LUCA)
    with TestClient(create_app(desk.config, engine, secret_key="api-test-secret", clock=clock)) as client:
        luca = Api(client, token_for(desk, LUCA))
        answer = luca.get(f"/cases/{case_id}").json()
        assert answer["may_act"] is False, "the case is his, the account is not"
        refused = luca.post(
            f"/cases/{case_id}/reply", {"seen": answer["seen"], "text": "Ciao!", "request_key": KEY}
        )
    assert refused.status_code == 403
    assert trail(engine)[1] == 0


def test_a_stale_seen_is_refused_with_what_changed_and_nothing_is_sent(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    luca, lucas = api[LUCA], cases["lucas"]
    seen, messages = luca.seen(lucas), trail(desk.engine)[1]
    desk.post(handle="giulia_r", language="it", reply_to="post-1", text="Anzi, lascia stare")
    refused = luca.post(f"/cases/{lucas}/reply", {"seen": seen, "text": "Sì!", "request_key": KEY})
    assert refused.status_code == 409
    assert refused.json()["changes"] == ["The customer wrote again"]
    assert trail(desk.engine)[1] == messages
    for action, body in (("dismiss", {"reason": "spam"}), ("release", {}), ("correct", {"priority": "high"})):
        assert luca.post(f"/cases/{lucas}/{action}", {"seen": seen, **body}).status_code == 409, action
    fresh = luca.post(f"/cases/{lucas}/reply", {"seen": luca.seen(lucas), "text": "Sì!", "request_key": KEY})
    assert fresh.status_code == 200, "from the case as it is now, the reply goes"


def test_a_reply_is_queued_once_per_request_key(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    luca, lucas = api[LUCA], cases["lucas"]
    body = {"seen": luca.seen(lucas), "text": "Ci pensiamo noi.", "request_key": KEY}
    first, retried = luca.post(f"/cases/{lucas}/reply", body), luca.post(f"/cases/{lucas}/reply", body)
    assert first.status_code == retried.status_code == 200
    assert (
        first.json()["reply"]
        == retried.json()["reply"]
        == {"id": first.json()["reply"]["id"], "state": "pending"}
    )
    another = luca.post(f"/cases/{lucas}/reply", body | {"request_key": KEY + "-2", "text": "E poi?"})
    assert another.status_code == 200
    with Session(desk.engine) as session:
        texts = session.exec(
            select(OutboxEntry.text).where(OutboxEntry.case_id == lucas).order_by(col(OutboxEntry.id))
        ).all()
    assert texts == ["Ci pensiamo noi.", "E poi?"]


def test_bad_input_is_refused_with_a_message(api: dict[str, Api], cases: dict[str, int]) -> None:
    luca, lucas = api[LUCA], cases["lucas"]
    seen = luca.seen(lucas)
    for action, body, words in (
        (
            "reply",
            {"seen": seen, "text": "  ", "request_key": KEY},
            "text: String should have at least 1 character",
        ),
        (
            "reply",
            {"seen": seen, "text": "x" * 2001, "request_key": KEY},
            "text: String should have at most 2000",
        ),
        ("reply", {"seen": seen, "text": "Ciao", "request_key": "short"}, "request_key"),
        ("reply", {"seen": seen, "text": "Ciao", "request_key": "x" * 65}, "request_key"),
        ("reply", {"text": "Ciao", "request_key": KEY}, "seen: Field required"),
        ("dismiss", {"seen": seen, "reason": "boring"}, "reason: Input should be 'spam' or 'ignored'"),
        ("correct", {"seen": seen, "category": "gossip"}, "'gossip' is not a category of this desk."),
        ("correct", {"seen": seen, "colour": "red"}, "colour: Extra inputs are not permitted"),
        ("note", {"text": ""}, "text: String should have at least 1 character"),
    ):
        refused = luca.post(f"/cases/{lucas}/{action}", body)
        assert refused.status_code == 422, (action, body)
        assert words in refused.json()["detail"], refused.json()


def test_the_whole_round_of_a_case_over_the_api(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    luca, lucas = api[LUCA], cases["lucas"]
    corrected = luca.post(
        f"/cases/{lucas}/correct", {"seen": luca.seen(lucas), "priority": "high", "reason": "VIP"}
    )
    assert (
        corrected.json()["case"]["priority"] == "high" and corrected.json()["case"]["category"] == "complaint"
    )
    dismissed = luca.post(f"/cases/{lucas}/dismiss", {"seen": corrected.json()["seen"], "reason": "spam"})
    assert dismissed.json()["case"]["status"] == "spam"
    reopened = luca.post(f"/cases/{lucas}/reopen", {"seen": dismissed.json()["seen"], "reason": "not spam"})
    assert reopened.json()["case"]["status"] == "assigned"
    released = luca.post(f"/cases/{lucas}/release", {"seen": reopened.json()["seen"]})
    assert released.json()["case"]["assignee_id"] is None
    assert luca.post(f"/cases/{lucas}/release", {"seen": released.json()["seen"]}).status_code == 403, (
        "no longer his"
    )
    again = api[CHIARA].post(f"/cases/{lucas}/release", {"seen": released.json()["seen"]})
    assert again.status_code == 409 and again.json() == {"detail": "Nobody has this case.", "changes": []}
    moved = api[CHIARA].post(f"/cases/{lucas}/correct", {"seen": api[CHIARA].seen(lucas), "team": "payments"})
    assert moved.status_code == 200
    assert api[LUCA].get(f"/cases/{lucas}").status_code == 404, "gone to a team Luca is not in"


def test_a_bulk_action_does_what_it_can_and_lists_the_rest(
    api: dict[str, Api], cases: dict[str, int], desk: Desk
) -> None:
    chiara = api[CHIARA]
    names = ("lucas", "care_it_queue", "unrouted", "resolved")
    seen = {name: chiara.seen(cases[name]) for name in names}
    desk.post(
        handle="giulia_r", language="it", reply_to="post-1", text="Ancora niente?"
    )  # Luca's case changes
    picked = [
        {"id": cases[name], "seen": seen[name]} for name in ("lucas", "care_it_queue", "unrouted", "resolved")
    ]
    answer = chiara.post(
        "/bulk", {"action": "priority", "value": "urgent", "cases": [*picked, {"id": 999999, "seen": 1}]}
    )
    assert answer.status_code == 200
    done = answer.json()["done"]
    assert [item["id"] for item in done] == [cases["care_it_queue"], cases["unrouted"]]
    assert all(item["seen"] == chiara.seen(item["id"]) for item in done)
    assert answer.json()["refused"] == [
        {"id": cases["lucas"], "reason": "changed meanwhile", "changes": ["The customer wrote again"]},
        {"id": cases["resolved"], "reason": "it is resolved", "changes": []},
        {"id": 999999, "reason": "not in your scope", "changes": []},
    ]
    assert {name: desk.case(cases[name]).priority for name in ("lucas", "care_it_queue", "unrouted")} == {
        "lucas": "normal",
        "care_it_queue": "urgent",
        "unrouted": "urgent",
    }


def test_a_bulk_action_keeps_to_the_persons_rights(api: dict[str, Api], cases: dict[str, int]) -> None:
    luca = api[LUCA]
    lucas = {"id": cases["lucas"], "seen": luca.seen(cases["lucas"])}
    resolved = luca.post("/bulk", {"action": "resolve", "cases": [lucas]}).json()
    assert resolved == {
        "done": [],
        "refused": [{"id": cases["lucas"], "reason": "not yours to act on", "changes": []}],
    }
    unknown = luca.post("/bulk", {"action": "delete", "cases": [lucas]})
    assert unknown.status_code == 422 and "one of take, assign" in unknown.json()["detail"]
    for action in ACTIONS:  # each of the queue's actions is the API's too
        assert luca.post("/bulk", {"action": action, "cases": [{"id": 999999, "seen": 0}]}).status_code == 200


# -- tokens ---------------------------------------------------------------------------------------------


def test_no_valid_token_no_api(client: TestClient, desk: Desk, tmp_path: Path) -> None:
    revoked, leaving, working = token_for(desk, SARA), token_for(desk, PAOLA), token_for(desk, LUCA)
    with Session(desk.engine) as session:
        token_id = session.exec(
            select(ApiToken.id).where(ApiToken.token_hash == api_tokens.token_hash(revoked))
        ).one()
    api_tokens.revoke_token(desk.engine, token_id or 0, desk.clock.now, by=ADMIN)

    def without_paola(raw: Raw) -> None:
        raw["employees"] = [person for person in raw["employees"] if person["email"] != PAOLA]

    with Session(desk.engine) as session:  # the service restarted without her
        sync_directory(session, demo_config(tmp_path, without_paola))
    for headers in (
        {},
        {"Authorization": "Bearer sc_not-a-token"},
        {"Authorization": f"Bearer {working}x"},
        {"Authorization": f"Basic {working}"},
        {"Authorization": working},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {leaving}"},
    ):
        response = client.get("/api/v1/queue", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"detail": "A valid API token is needed: Authorization: Bearer <token>."}
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/queue", headers={"Authorization": f"Bearer {working}"}).status_code == 200


def test_the_inbox_session_does_not_open_the_api(
    client: TestClient, desk: Desk, cases: dict[str, int]
) -> None:
    set_employee_password(desk.config, desk.engine, LUCA, DEMO_PASSWORD)
    log_in(client, LUCA)
    assert client.get("/queue").status_code == 200, "signed in"
    assert client.get("/api/v1/queue").status_code == 401
    seen = {"seen": 0, "text": "Ciao", "request_key": KEY}
    assert client.post(f"/api/v1/cases/{cases['lucas']}/reply", json=seen).status_code == 401
    assert trail(desk.engine)[1] == 1, "only Sara's reply of the fixture"


def test_only_the_tokens_hash_is_kept_and_its_last_use_to_the_minute(
    api: dict[str, Api], desk: Desk, engine: Engine
) -> None:
    secret = api[LUCA].secret
    assert secret.startswith("sc_") and len(secret) == 46
    with Session(engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.employee_id == desk.employee(LUCA))).one()
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.last_used_at is None
        rows = session.execute(text("SELECT * FROM api_tokens")).all()
    assert not any(secret in str(value) for row in rows for value in row), (
        "the secret is nowhere in the table"
    )
    api[LUCA].get("/queue")
    desk.clock.advance(seconds=30)
    api[LUCA].get("/queue")
    with Session(engine) as session:
        assert session.get_one(ApiToken, token.id).last_used_at == desk.clock.now - timedelta(seconds=30)


def test_the_api_describes_itself_and_shows_no_documentation_page(client: TestClient) -> None:
    described = client.get("/api/openapi.json")
    assert described.status_code == 200
    spec = described.json()
    assert spec["servers"] == [{"url": "/api"}]
    scheme = spec["components"]["securitySchemes"]["token"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "social-care token create" in scheme["description"]
    assert {path: sorted(methods) for path, methods in spec["paths"].items()} == {
        "/v1/queue": ["get"],
        "/v1/cases/{case_id}": ["get"],
        **{f"/v1/cases/{{case_id}}/{action}": ["post"] for action in BODIES},
        "/v1/bulk": ["post"],
    }
    reply = spec["paths"]["/v1/cases/{case_id}/reply"]["post"]
    assert reply["security"] == [{"token": []}]
    assert set(reply["responses"]) == {"200", "401", "403", "404", "409", "422"}
    for page in ("/api/docs", "/api/redoc", "/docs", "/openapi.json"):
        assert client.get(page).status_code == 404, page


# -- the command line -------------------------------------------------------------------------------------


def test_the_command_line_creates_lists_and_revokes_tokens(
    engine: Engine, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = example_raw()
    raw["database"]["path"] = str(tmp_path / "unused.db")
    raw["sources"][0]["options"]["replies_file"] = str(tmp_path / "demo-replies.jsonl")
    settings = tmp_path / "social-care.toml"
    settings.write_bytes(tomli_w.dumps(raw).encode())
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(command, ["token", *args, "--config", str(settings)], catch_exceptions=False)

    made = run("create", LUCA, "--name", "nightly report")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("sc_") and "copy it now" in made.stderr
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/queue", headers=headers).status_code == 200
    listed = run("list", LUCA)
    assert "nightly report" in listed.stdout and "works" in listed.stdout and secret not in listed.stdout
    token_id = listed.stdout.split()[0]
    assert run("revoke", token_id).exit_code == 0
    assert client.get("/api/v1/queue", headers=headers).status_code == 401
    assert "revoked" in run("list").stdout
    assert run("list", CHIARA).stdout.strip() == f"No API tokens for {CHIARA}."
    unknown = run("create", "nobody@velora.example", "--name", "x")
    assert unknown.exit_code == 2 and "No employee" in unknown.stderr
    assert run("create", LUCA, "--name", " ").exit_code == 2
    assert run("revoke", "999").exit_code == 2
