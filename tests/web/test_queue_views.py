"""The queue's views, filters, search, pages and bulk actions, over HTTP, on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care import queue_views
from social_care.config import Config
from social_care.metrics import rollups
from social_care.storage.tables import Author, Case, CaseEvent, Employee
from social_care.users import set_employee_password
from social_care.web.app import create_app
from social_care.web.queue import changed_since
from tests.metrics.test_rollups import snapshot
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.web.support import DEMO_PASSWORD, QueuePage, csrf_of, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it
SARA = "sara.greco@velora.example"  # agent, care-it and care-en
JAMES = "james.wright@velora.example"  # agent, care-en
CHIARA = "chiara.conti@velora.example"  # supervisor of every team
ADMIN = "admin@velora.example"
NEXT = re.compile(r'id="next-page" href="([^"]+)"')
CHECKBOX = re.compile(r'name="cases" value="(\d+:\d+)"')


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = Desk(engine, config, clock)
    for email in (LUCA, SARA, JAMES, CHIARA, ADMIN):
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    app = create_app(desk.config, desk.engine, secret_key="queue-test-secret", clock=desk.clock)
    with TestClient(app) as client:
        yield client


def references(client: TestClient, **params: str) -> list[str]:
    return [row.reference for row in QueuePage(client.get("/queue?" + urlencode(params)).text).rows]


def ref(case_id: int) -> str:
    return f"SC-{case_id:06d}"


def set_case(engine: Engine, case_id: int, **values: object) -> None:
    with Session(engine) as session:
        case = session.get_one(Case, case_id)
        for name, value in values.items():
            setattr(case, name, value)
        session.add(case)
        session.commit()


@pytest.fixture
def desk_of_cases(desk: Desk) -> dict[str, int]:
    """A small desk: Luca's Italian complaint, an unassigned care-it inquiry, Sara's care-en case
    waiting on the customer, James's praise, an unrouted post, and a resolved case."""
    cases = {
        "lucas": desk.post(handle="giulia_r", language="it", text="Il Pulse non si accende"),
        "care_it_queue": desk.post(handle="marco_b", category="inquiry", language="it", text="Casa e Pay?"),
        "saras": desk.post(handle="anna_b", text="My Velora Casa drops the wifi"),
        "james": desk.post(handle="tom_h", category="praise", priority="low", text="Love the Pulse"),
        "unrouted": desk.post(handle="zz", category="other", text="velora random"),
        "resolved": desk.post(handle="old_one", text="Broken Pay card"),
    }
    desk.assign(cases["lucas"], "care-it", LUCA)
    set_case(desk.engine, cases["care_it_queue"], team="care-it")
    desk.assign(cases["saras"], "care-en", SARA)
    desk.reply(cases["saras"], SARA)
    desk.assign(cases["james"], "care-en", JAMES)
    desk.assign(cases["resolved"], "care-it", LUCA)
    desk.resolve(cases["resolved"], LUCA)
    return cases


def test_each_view_holds_what_its_name_says_within_the_persons_scope(
    client: TestClient, desk_of_cases: dict[str, int]
) -> None:
    cases = {name: ref(case_id) for name, case_id in desk_of_cases.items()}
    log_in(client, LUCA)
    assert references(client, view="mine") == [cases["lucas"]]
    assert references(client, view="team") == [cases["care_it_queue"]]
    assert references(client, view="waiting") == [], "Sara's case is in care-en: not Luca's to see"
    assert set(references(client, view="closed")) == {cases["resolved"]}
    assert "view &#39;open&#39;" in client.get("/queue?view=open").text, "All open is for supervisors"
    log_in(client, SARA)
    assert references(client, view="waiting") == [cases["saras"]]
    assert references(client, view="mine") == [cases["saras"]], "hers, waiting or not"
    log_in(client, CHIARA)
    everything_open = {cases[name] for name in ("lucas", "care_it_queue", "saras", "james", "unrouted")}
    assert set(references(client, view="open")) == everything_open
    page = client.get("/queue?view=open").text
    assert re.search(r'data-view="open">All open <span class="count">5</span>', page)
    assert re.search(r'data-view="closed">Recently closed <span class="count">1</span>', page)


def test_filters_combine_and_stay_in_the_url(client: TestClient, desk_of_cases: dict[str, int]) -> None:
    log_in(client, CHIARA)
    assert references(client, view="open", team="care-it", category="inquiry") == [
        ref(desk_of_cases["care_it_queue"])
    ]
    assert references(client, view="open", team="none") == [ref(desk_of_cases["unrouted"])]
    assert references(client, view="open", language="it", assignee="none") == [
        ref(desk_of_cases["care_it_queue"])
    ]
    assert references(client, view="open", priority="low", category="praise") == [ref(desk_of_cases["james"])]
    page = client.get("/queue?view=open&team=care-it&category=complaint").text
    assert '<option value="care-it" selected>' in page and '<option value="complaint" selected>' in page


def test_a_filter_the_desk_does_not_know_is_named_and_ignored(
    client: TestClient, desk_of_cases: dict[str, int]
) -> None:
    log_in(client, CHIARA)
    page = client.get("/queue?view=open&category=gossip&since=yesterday&after=%%%")
    assert page.status_code == 200
    assert "category &#39;gossip&#39; is not one of this desk&#39;s: ignored." in page.text
    assert "since &#39;yesterday&#39; is not a date" in page.text
    assert len(QueuePage(page.text).rows) == 5


def test_the_date_range_is_in_the_desks_time_zone(client: TestClient, desk: Desk) -> None:
    early = desk.post(handle="a", text="first")
    desk.clock.advance(days=2)
    late = desk.post(handle="b", text="second")
    log_in(client, ADMIN)
    day = desk.clock.now.date().isoformat()
    assert references(client, view="open", since=day) == [ref(late)]
    before = (desk.clock.now - timedelta(days=1)).date().isoformat()
    assert references(client, view="open", until=before) == [ref(early)]


def test_search_finds_words_by_prefix_handles_names_and_references(
    client: TestClient, desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    with Session(desk.engine) as session:
        author = session.exec(select(Author).where(Author.handle == "tom_h")).one()
        author.name = "Tommaso Henriksen"
        session.add(author)
        session.commit()
    log_in(client, CHIARA)
    assert references(client, view="open", q="accend") == [ref(desk_of_cases["lucas"])], "a word's beginning"
    assert references(client, view="open", q="velora WIFI") == [ref(desk_of_cases["saras"])], (
        "every word, any case"
    )
    assert references(client, view="open", q="@giulia_r") == [ref(desk_of_cases["lucas"])]
    assert references(client, view="open", q="henriksen") == [ref(desk_of_cases["james"])], "an author's name"
    assert references(client, view="closed", q=ref(desk_of_cases["resolved"])) == [
        ref(desk_of_cases["resolved"])
    ]
    assert references(client, view="open", q='" OR 1=1 --') == [], "no syntax gets into the search"
    assert references(client, view="open", q="nothing-like-this") == []


def test_pages_follow_each_other_by_keyset_without_gaps_or_repeats(client: TestClient, desk: Desk) -> None:
    made = []
    for number in range(120):
        made.append(desk.post(handle=f"customer{number}", text=f"post {number}"))
        desk.clock.advance(seconds=30)
    log_in(client, ADMIN)
    for sort in ("due", "newest", "recent", "priority", "reach"):
        seen: list[str] = []
        url = f"/queue?view=open&sort={sort}"
        pages = 0
        while url:
            html = client.get(url).text
            seen += [row.reference for row in QueuePage(html).rows]
            found = NEXT.search(html)
            url = found.group(1).replace("&amp;", "&") if found else ""
            pages += 1
        assert pages == 3, sort
        assert sorted(seen) == sorted(ref(case_id) for case_id in made), sort
    first_page = references(client, view="open", sort="newest")
    assert first_page[0] == ref(made[-1]) and len(first_page) == 50


def bulk(client: TestClient, action: str, selected: list[str], **extra: str) -> str:
    page = client.get("/queue?view=open").text
    form = {"csrf": csrf_of(page), "action": action, "cases": selected, "back": "view=open"} | extra
    response = client.post("/queue/bulk", data=form, follow_redirects=True)
    assert response.status_code == 200
    return response.text


def checkboxes(client: TestClient, view: str = "open") -> dict[str, str]:
    """Each row's checkbox value (case id and its latest change), by reference."""
    return {value.split(":")[0]: value for value in CHECKBOX.findall(client.get(f"/queue?view={view}").text)}


def test_a_bulk_action_does_what_it_can_and_lists_the_rest(
    client: TestClient, desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    log_in(client, CHIARA)
    boxes = checkboxes(client)
    changed, fine, also_fine = desk_of_cases["lucas"], desk_of_cases["james"], desk_of_cases["care_it_queue"]
    desk.post(
        handle="giulia_r", language="it", reply_to="post-1", text="Ancora niente?"
    )  # Luca's case changes
    page = bulk(
        client,
        "priority:urgent",
        [boxes[str(changed)], boxes[str(fine)], boxes[str(also_fine)], "999999:1"],
    )
    assert "2 cases now urgent priority." in page
    assert f"{ref(changed)} changed meanwhile (The customer wrote again)" in page
    assert "SC-999999: not in your scope" in page
    priorities = {case_id: desk.case(case_id).priority for case_id in (changed, fine, also_fine)}
    assert priorities == {changed: "normal", fine: "urgent", also_fine: "urgent"}
    with Session(desk.engine) as session:
        chiara = session.exec(select(Employee.id).where(Employee.email == CHIARA)).one()
        corrections = session.exec(select(CaseEvent).where(CaseEvent.kind == "reclassified")).all()
    assert sorted(event.case_id for event in corrections) == sorted([fine, also_fine])
    assert {event.employee_id for event in corrections} == {chiara}, "an event per case, by its actor"


def test_spam_in_bulk_is_confirmed_first_and_can_be_undone(
    client: TestClient, desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    log_in(client, CHIARA)
    boxes = checkboxes(client)
    selected = [boxes[str(desk_of_cases["unrouted"])], boxes[str(desk_of_cases["james"])]]
    confirm = bulk(client, "spam", selected)
    assert "Mark as spam: 2 cases?" in confirm and desk.case(desk_of_cases["james"]).status == "assigned"
    done = bulk(client, "spam", selected, confirmed="true")
    assert "2 cases marked spam." in done
    assert {desk.case(desk_of_cases[name]).status for name in ("unrouted", "james")} == {"spam"}
    undo = re.search(r'<form method="post" action="/queue/bulk" class="undo">(.*?)</form>', done, re.DOTALL)
    assert undo is not None
    values = re.findall(r'name="cases" value="(\d+:\d+)"', undo.group(1))
    form = {"csrf": csrf_of(done), "action": "reopen", "value": "undo", "cases": values, "back": "view=open"}
    assert "2 cases reopened." in client.post("/queue/bulk", data=form).text
    assert desk.case(desk_of_cases["james"]).status == "assigned"


def test_only_supervisors_resolve_without_a_reply(
    client: TestClient, desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    log_in(client, LUCA)
    box = checkboxes(client, "mine")[str(desk_of_cases["lucas"])]
    assert "resolve without a reply" not in client.get("/queue").text
    page = bulk(client, "resolve", [box], confirmed="true")
    assert f"{ref(desk_of_cases['lucas'])}: not yours to act on" in page
    assert desk.case(desk_of_cases["lucas"]).status == "assigned"


def test_the_live_feed_names_only_the_changed_cases_the_person_may_see(
    desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    with Session(desk.engine) as session:
        luca = session.exec(select(Employee.id).where(Employee.email == LUCA)).one() or 0
        start = session.exec(select(col(CaseEvent.id)).order_by(col(CaseEvent.id).desc())).first() or 0
    desk.post(handle="giulia_r", language="it", reply_to="post-1", text="Ancora?")  # Luca's case
    desk.post(handle="anna_b", reply_to="post-3", text="Still broken")  # Sara's, in care-en
    newest, cases = changed_since(desk.engine, luca, start) or (0, [])
    assert cases == [desk_of_cases["lucas"]] and newest > start
    assert changed_since(desk.engine, luca, newest) == (newest, [])


def test_the_figures_after_a_bulk_action_with_a_refusal_equal_a_rebuild(
    client: TestClient, desk: Desk, desk_of_cases: dict[str, int]
) -> None:
    log_in(client, CHIARA)
    boxes = checkboxes(client)
    desk.post(handle="giulia_r", language="it", reply_to="post-1", text="Ancora niente?")  # Luca's changes
    selected = [boxes[str(desk_of_cases[name])] for name in ("james", "lucas", "care_it_queue", "unrouted")]
    assert "3 cases marked spam." in bulk(client, "spam", selected, confirmed="true")
    kept = snapshot(desk.engine)
    rollups.rebuild(desk.engine)
    assert snapshot(desk.engine) == kept


def test_the_recently_closed_are_counted_up_to_a_cap(
    client: TestClient, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        case_id = desk.post(handle=f"done{number}", text="fixed")
        desk.resolve(case_id, CHIARA)
    monkeypatch.setattr(queue_views, "COUNT_CAP", 2)
    log_in(client, CHIARA)
    page = client.get("/queue?view=closed").text
    assert re.search(r'data-view="closed">Recently closed <span class="count">2\+</span>', page)
    assert len(QueuePage(page).rows) == 3, "the cap is the count's, never the rows'"
