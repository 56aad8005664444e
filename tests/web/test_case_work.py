"""Working a case from its page: never two people answering one customer, triage corrected and learnt
from, hand-offs, notes, reopening, and the replies a person starts from."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.storage.tables import (
    Author,
    CaseEvent,
    Classification,
    Employee,
    Mention,
    OutboxEntry,
    TriageLabel,
)
from social_care.switches import pause_automatic_replies
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, IMG, SCRIPT, QueuePage, action_form, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it, Italian
SARA = "sara.greco@velora.example"  # agent, care-it and care-en
JAMES = "james.wright@velora.example"  # agent, care-en
CHIARA = "chiara.conti@velora.example"  # supervisor of every team
KEY = "a-reply-key-of-24-chars"


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = Desk(engine, config, clock)
    for email in (LUCA, SARA, JAMES, CHIARA):
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return desk


def make_client(desk: Desk) -> TestClient:
    return TestClient(create_app(desk.config, desk.engine, secret_key="work-test-secret", clock=desk.clock))


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with make_client(desk) as client:
        yield client


@pytest.fixture
def case_id(desk: Desk) -> int:
    """An Italian customer's inquiry, with Luca."""
    case_id = desk.post(
        handle="giulia_r", category="inquiry", language="it", text="@velora Pulse e Casa insieme?"
    )
    desk.assign(case_id, "care-it", LUCA)
    return case_id


def page_of(client: TestClient, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.text


def post(client: TestClient, case_id: int, action: str, form: dict[str, str]) -> tuple[int, str]:
    response = client.post(f"/cases/{case_id}/{action}", data=form, follow_redirects=False)
    return response.status_code, response.text


def people_replies(engine: Engine) -> list[str]:
    with Session(engine) as session:
        entries = session.exec(
            select(OutboxEntry)
            .where(col(OutboxEntry.created_by).startswith("employee:"))
            .order_by(col(OutboxEntry.id))
        )
        return [entry.text for entry in entries]


def events_of(engine: Engine, case_id: int) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(
            session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id)))
        )


def person(engine: Engine, email: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Employee.id).where(Employee.email == email)).one() or 0


# -- never two people answering one customer ------------------------------------------------------


def test_a_reply_written_before_someone_elses_is_refused_and_kept(
    case_id: int, desk: Desk, engine: Engine
) -> None:
    with make_client(desk) as luca, make_client(desk) as chiara:
        log_in(luca, LUCA)
        log_in(chiara, CHIARA)
        lucas_page, chiaras_page = page_of(luca, case_id), page_of(chiara, case_id)
        chiaras_form = action_form(chiaras_page) | {"text": "Sì, funzionano insieme.", "reply_key": KEY}
        assert post(chiara, case_id, "reply", chiaras_form)[0] == 303
        lucas_form = action_form(lucas_page) | {
            "text": "No, mi dispiace <b>davvero</b>.",
            "reply_key": KEY + "x",
        }
        status, page = post(luca, case_id, "reply", lucas_form)
    assert status == 409
    assert "changed while you were on it" in page and "Chiara Conti sent a reply" in page
    assert "No, mi dispiace &lt;b&gt;davvero&lt;/b&gt;.</textarea>" in page, "the draft is kept, as text"
    assert people_replies(engine) == ["Sì, funzionano insieme."], "the customer gets one answer"


def test_a_reply_is_refused_when_the_customer_wrote_again_meanwhile(
    case_id: int, client: TestClient, desk: Desk
) -> None:
    log_in(client, LUCA)
    form = action_form(page_of(client, case_id)) | {"text": "Sì!", "reply_key": KEY}
    desk.post(
        handle="giulia_r", category="inquiry", language="it", reply_to="post-1", text="Anzi, lascia stare"
    )
    status, page = post(client, case_id, "reply", form)
    assert (status, "The customer wrote again" in page) == (409, True)
    assert post(client, case_id, "reply", form | action_form(page))[0] == 303, "the fresh page may send it"


def test_a_persons_own_changes_do_not_make_their_page_stale(
    case_id: int, client: TestClient, engine: Engine
) -> None:
    log_in(client, LUCA)
    form = action_form(page_of(client, case_id))
    assert post(client, case_id, "note", {"csrf": form["csrf"], "text": "Asking the product team"})[0] == 303
    assert (
        post(
            client,
            case_id,
            "correct",
            form
            | {
                "category": "inquiry",
                "cluster": "how_to",
                "priority": "normal",
                "product": "",
                "team": "care-it",
            },
        )[0]
        == 303
    )
    assert post(client, case_id, "reply", form | {"text": "Ti rispondo a breve", "reply_key": KEY})[0] == 303
    assert people_replies(engine) == ["Ti rispondo a breve"]


def test_a_reassignment_refuses_a_reply_from_the_page_before_it(
    case_id: int, desk: Desk, engine: Engine
) -> None:
    with make_client(desk) as luca, make_client(desk) as chiara:
        log_in(luca, LUCA)
        log_in(chiara, CHIARA)
        chiaras_form = action_form(page_of(chiara, case_id)) | {"text": "Ci penso io", "reply_key": KEY}
        to_sara = action_form(page_of(luca, case_id)) | {"assignee": str(person(engine, SARA))}
        assert post(luca, case_id, "assign", to_sara)[0] == 303
        status, page = post(chiara, case_id, "reply", chiaras_form)
    assert (status, "Luca Marino assigned the case to Sara Greco" in page) == (409, True)
    assert "Ci penso io</textarea>" in page
    assert people_replies(engine) == []


def test_two_replies_sent_at_the_same_moment_reach_the_customer_once(
    case_id: int, desk: Desk, engine: Engine
) -> None:
    with make_client(desk) as luca, make_client(desk) as chiara:
        log_in(luca, LUCA)
        log_in(chiara, CHIARA)
        forms = [
            (luca, action_form(page_of(luca, case_id)) | {"text": "Da Luca", "reply_key": KEY}),
            (chiara, action_form(page_of(chiara, case_id)) | {"text": "Da Chiara", "reply_key": KEY + "x"}),
        ]
        start = threading.Barrier(len(forms))

        def send(client: TestClient, form: dict[str, str]) -> int:
            start.wait()
            return post(client, case_id, "reply", form)[0]

        with ThreadPoolExecutor(max_workers=len(forms)) as pool:
            statuses = sorted(pool.map(lambda item: send(*item), forms))
    assert statuses == [303, 409]
    assert len(people_replies(engine)) == 1


# -- correcting the triage -----------------------------------------------------------------------


def rules_verdict(engine: Engine, case_id: int, category: str) -> None:
    with Session(engine) as session:
        mention = session.exec(select(Mention).where(Mention.case_id == case_id)).first()
        assert mention is not None
        session.add(
            Classification(
                mention_id=mention.id or 0,
                category=category,
                cluster="how_to",
                sentiment=0.0,
                priority="normal",
                language="it",
                confidence=0.6,
                decided_by="rules",
                decided_at=mention.fetched_at,
            )
        )
        session.commit()


def test_a_correction_is_a_label_moves_the_clocks_and_routes_to_the_new_team(
    case_id: int, client: TestClient, desk: Desk, engine: Engine
) -> None:
    rules_verdict(engine, case_id, "inquiry")
    opened = desk.case(case_id).opened_at
    assert desk.case(case_id).response_due_at == opened + timedelta(minutes=60)
    log_in(client, LUCA)
    correction = {
        "category": "complaint",
        "cluster": "not_working",
        "priority": "urgent",
        "product": "Velora Pulse",
        "team": "care-en",
        "reason": "customer is <b>furious</b>",
    }
    assert post(client, case_id, "correct", action_form(page_of(client, case_id)) | correction)[0] == 303
    case = desk.case(case_id)
    assert (case.category, case.cluster, case.priority, case.product, case.team) == (
        "complaint",
        "not_working",
        "urgent",
        "Velora Pulse",
        "care-en",
    )
    assert case.response_due_at == opened + timedelta(minutes=30), "the urgent complaints' promise"
    assert case.resolution_due_at == opened + timedelta(minutes=480)
    care_en = {person(engine, email) for email in (SARA, JAMES, CHIARA)}
    assert case.assignee_id in care_en, "routed within care-en: Luca is not in it"
    with Session(engine) as session:
        [label] = session.exec(select(TriageLabel)).all()
    assert (label.category, label.priority, label.team, label.employee_id, label.reason) == (
        "complaint",
        "urgent",
        "care-en",
        person(engine, LUCA),
        "customer is <b>furious</b>",
    )
    assert (label.rules_category, label.rules_cluster, label.rules_priority) == (
        "inquiry",
        "how_to",
        "normal",
    )
    kinds = [event.kind for event in events_of(engine, case_id)]
    assert kinds[-3:] == ["reclassified", "returned_to_team", "assigned"]
    log_in(client, CHIARA)
    [row] = QueuePage(client.get("/queue").text).rows
    assert "complaint" in row.cells[2] and "care-en" in row.cells[5], "the queue shows it at once"
    page = page_of(client, case_id)
    assert "Luca Marino corrected the triage: category inquiry → complaint" in page
    assert "customer is &lt;b&gt;furious&lt;/b&gt;" in page


def test_a_thank_you_taken_for_a_complaint_gets_no_apology(
    client: TestClient, desk: Desk, engine: Engine
) -> None:
    case_id = desk.post(text="@velora thank you, the Pulse is great")
    desk.assign(case_id, "care-en", SARA)
    desk.queue_acknowledgement(case_id, text="Sorry this let you down")
    log_in(client, SARA)
    form = action_form(page_of(client, case_id)) | {
        "category": "praise",
        "cluster": "other",
        "priority": "low",
        "product": "",
        "team": "care-en",
    }
    assert post(client, case_id, "correct", form)[0] == 303
    with Session(engine) as session:
        [entry] = session.exec(select(OutboxEntry)).all()
    assert entry.state == "cancelled" and "corrected to praise" in entry.last_error
    case = desk.case(case_id)
    assert (case.ack_due_at, case.response_due_at) == (None, None), "no service standard for praise"
    assert desk.service.sender.run_once().sent == 0


def test_a_correction_to_something_the_desk_does_not_know_is_refused(
    case_id: int, client: TestClient, engine: Engine
) -> None:
    log_in(client, LUCA)
    form = action_form(page_of(client, case_id)) | {
        "category": "complaint",
        "cluster": "how_to",
        "priority": "normal",
        "product": "Velora Toaster",
        "team": "care-it",
    }
    status, page = post(client, case_id, "correct", form)
    assert (status, "&#39;Velora Toaster&#39; is not a product of this desk." in page) == (422, True)
    with Session(engine) as session:
        assert session.exec(select(TriageLabel)).all() == []


# -- hand-offs -----------------------------------------------------------------------------------


def test_a_released_case_goes_to_someone_else_of_the_team(
    case_id: int, client: TestClient, desk: Desk, engine: Engine
) -> None:
    log_in(client, LUCA)
    assert post(client, case_id, "release", action_form(page_of(client, case_id)))[0] == 303
    case = desk.case(case_id)
    assert (case.assignee_id, case.status) == (None, "new")
    [event] = [event for event in events_of(engine, case_id) if event.kind == "returned_to_team"]
    assert (event.actor, event.employee_id) == ("employee", person(engine, LUCA))
    desk.service.handoff.sweep(Session(engine), desk.clock.now)
    assignee = desk.case(case_id).assignee_id
    assert assignee in {person(engine, SARA), person(engine, CHIARA)}, (
        "never back to the person who released it"
    )


def test_away_and_back_from_the_header(client: TestClient, engine: Engine, case_id: int) -> None:
    log_in(client, LUCA)
    token = action_form(page_of(client, case_id))["csrf"]
    away = client.post(
        "/me/availability",
        data={"csrf": token, "available": "false", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert (away.status_code, away.headers["location"]) == (303, "/queue")
    with Session(engine) as session:
        assert session.get_one(Employee, person(engine, LUCA)).available is False
    assert "I&#39;m back" in client.get("/queue").text
    client.post("/me/availability", data={"csrf": token, "available": "true", "next": f"/cases/{case_id}"})
    with Session(engine) as session:
        assert session.get_one(Employee, person(engine, LUCA)).available is True


# -- notes, closing and reopening ----------------------------------------------------------------


def test_a_note_is_for_the_team_only_and_shown_as_text(
    case_id: int, client: TestClient, engine: Engine
) -> None:
    log_in(client, SARA)  # she sees Luca's case and may leave him a note
    token = action_form(page_of(client, case_id))["csrf"]
    assert post(client, case_id, "note", {"csrf": token, "text": f"Check the order {SCRIPT}"})[0] == 303
    page = page_of(client, case_id)
    assert SCRIPT not in page and "Check the order &lt;script&gt;" in page
    assert "Sara Greco</b> · internal note" in page
    assert people_replies(engine) == []


def test_spam_is_undone_by_reopening_and_the_clocks_run_again(
    case_id: int, client: TestClient, desk: Desk
) -> None:
    log_in(client, LUCA)
    assert (
        post(client, case_id, "dismiss", action_form(page_of(client, case_id)) | {"reason": "spam"})[0] == 303
    )
    page = page_of(client, case_id)
    assert "Send reply" not in page and 'value="spam"' not in page and "Undo: reopen the case" in page
    assert desk.case(case_id).response_due_at is None
    assert post(client, case_id, "reopen", action_form(page) | {"reason": "a real customer"})[0] == 303
    case = desk.case(case_id)
    assert case.status == "assigned" and case.response_due_at == case.opened_at + timedelta(minutes=60)
    assert "Luca Marino reopened the case: a real customer" in page_of(client, case_id)


def test_a_resolved_case_offers_only_reopening(case_id: int, client: TestClient, desk: Desk) -> None:
    desk.resolve(case_id, LUCA)
    log_in(client, LUCA)
    page = page_of(client, case_id)
    assert "Send reply" not in page and "Spam…" not in page and ">Reopen</button>" in page
    assert post(client, case_id, "reopen", action_form(page) | {"reason": ""})[0] == 303
    assert desk.case(case_id).status == "assigned"


# -- what the page shows -------------------------------------------------------------------------


def test_saved_replies_fit_the_case_and_are_filled_in(case_id: int, client: TestClient) -> None:
    log_in(client, LUCA)
    page = page_of(client, case_id)
    assert "Chiedi il numero d&#39;ordine" in page, "an Italian inquiry"
    assert "Ask for the order number" not in page and "Thanks for the kind words" not in page
    assert "Ciao giulia_r, ci dispiace per il problema con il tuo ordine." in page
    assert f"Il tuo caso è SC-{case_id:06d}." in page


def test_the_timeline_shows_our_messages_and_where_they_stand(
    client: TestClient, desk: Desk, engine: Engine
) -> None:
    sent = desk.post(text="@velora Pulse dead")
    desk.acknowledge(sent)
    held = desk.post(handle="marco", text="@velora Casa dead")
    with Session(engine) as session:
        pause_automatic_replies(session, reason="storm", by="admin", now=desk.clock.now)
        session.commit()
    desk.queue_acknowledgement(held)
    log_in(client, CHIARA)
    assert "sent</span>" in page_of(client, sent) and "Automatic acknowledgement" in page_of(client, sent)
    assert "held by the kill switch" in page_of(client, held)


def test_the_customer_panel_lists_their_other_cases(client: TestClient, desk: Desk, engine: Engine) -> None:
    first = desk.post(handle="anna_b", text="@velora first")
    desk.resolve(first, CHIARA)
    second = desk.post(handle="anna_b", text="@velora second")
    with Session(engine) as session:
        author = session.exec(select(Author).where(Author.handle == "anna_b")).one()
        author.name, author.followers = IMG, 1234
        session.add(author)
        session.commit()
    log_in(client, CHIARA)
    page = page_of(client, second)
    assert (
        f'href="/cases/{first}">SC-{first:06d}</a> · complaint · <span class="status status-resolved">'
        in page
    )
    assert IMG not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "1,234 followers" in page


def test_a_link_in_a_post_is_followed_only_to_the_web(client: TestClient, desk: Desk, engine: Engine) -> None:
    safe, hostile = desk.post(handle="a", text="@velora one"), desk.post(handle="b", text="@velora two")
    with Session(engine) as session:
        for case_id, url in ((safe, "https://example.com/post/1"), (hostile, "javascript:alert(1)")):
            mention = session.exec(select(Mention).where(Mention.case_id == case_id)).one()
            mention.url = url
            session.add(mention)
        session.commit()
    log_in(client, CHIARA)
    assert 'href="https://example.com/post/1"' in page_of(client, safe)
    assert "javascript:" not in page_of(client, hostile) and "original post" not in page_of(client, hostile)


def test_a_supervisor_takes_a_case_no_rule_routed_and_it_stays_unrouted(
    client: TestClient, desk: Desk, engine: Engine
) -> None:
    case_id = desk.post(text="@velora hmm", category="other")
    log_in(client, CHIARA)
    assert post(client, case_id, "take", action_form(page_of(client, case_id)))[0] == 303
    case = desk.case(case_id)
    assert (case.team, case.assignee_id) == (None, person(engine, CHIARA))
    with Session(engine) as session:
        desk.service.handoff.sweep(session, desk.clock.now)
    assert desk.case(case_id).assignee_id == person(engine, CHIARA)
