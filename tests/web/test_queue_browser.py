"""The queue in a real browser: its views, filters, search and pages as people click through them,
bulk actions, rows that change live without losing what is open or selected, keys, and a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlmodel import Session, col, select

from social_care.case_states import OPEN_STATES
from social_care.storage.tables import Case
from tests.support.browser import ACTIVE_CONTENT, chromium
from tests.web.case_browser import LUCA, SARA, SUPERVISOR
from tests.web.queue_browser import (
    FITS,
    ROWS,
    QueueDesk,
    Seeded,
    expect_rows,
    expect_views,
    ref,
    shown_references,
)
from tests.web.support import IMG, SCRIPT

pytestmark = pytest.mark.browser
LIVE = 8000  # milliseconds: a change is announced within a poll of about a second, plus a page fetch
NO_ACTIVE_CONTENT = {"scripts": 0, "images": 0, "handlers": 0}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def desk(tmp_path: Path, browser: Browser) -> Iterator[QueueDesk]:
    desk = QueueDesk(tmp_path, browser)
    desk.start()
    yield desk
    desk.stop()


@pytest.fixture
def seeded(desk: QueueDesk) -> Seeded:
    return desk.seed()


def row(case_id: int) -> str:
    return f"tr#{ref(case_id)}"


def click_through_views(page: Page, expected: dict[str, list[int]]) -> None:
    """Each view of the navigation in turn shows exactly its cases, and every count is its length."""
    counts = {name: len(case_ids) for name, case_ids in expected.items()}
    expect_views(page, counts)
    for name, case_ids in expected.items():
        page.click(f"nav.views a[data-view={name}]")
        expect(page).to_have_url(re.compile(rf"/queue\?view={name}$"))
        expect(page.locator("nav.views a.current")).to_have_attribute("data-view", name)
        expect_rows(page, *case_ids)
        expect_views(page, counts)


def statuses(desk: QueueDesk, *case_ids: int) -> dict[int, str]:
    return {case_id: desk.case(case_id).status for case_id in case_ids}


# -- views ---------------------------------------------------------------------------------------


def test_each_view_shows_an_agent_the_cases_it_names_within_his_teams(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(LUCA)
    click_through_views(
        page,
        {
            "mine": [seeded.overdue, seeded.lucas, seeded.waiting],
            "team": [seeded.suggested],
            "waiting": [seeded.waiting],
            "suggested": [seeded.suggested],
            "due": [seeded.overdue],  # James's complaint due soon is care-en's
            "closed": [seeded.resolved],
        },
    )


def test_each_view_shows_the_supervisor_the_cases_it_names_across_her_teams_and_the_unrouted(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    expect(page.locator("nav.views a.current")).to_have_attribute("data-view", "open")
    click_through_views(
        page,
        {
            "mine": [],
            "team": [seeded.suggested, seeded.care_en_queue],
            "open": [
                seeded.overdue,
                seeded.due_soon,
                seeded.lucas,
                seeded.suggested,
                seeded.waiting,
                seeded.care_en_queue,
                seeded.unrouted,
            ],
            "waiting": [seeded.waiting],
            "suggested": [seeded.suggested],
            "due": [seeded.overdue, seeded.due_soon],
            "closed": [seeded.resolved],
        },
    )
    page.click("nav.views a[data-view=due]")
    expect(page.locator(f"{row(seeded.overdue)} td.due")).to_have_class(re.compile(r"\bdue-overdue\b"))
    expect(page.locator(f"{row(seeded.due_soon)} td.due")).to_have_class(re.compile(r"\bdue-soon\b"))


# -- filters and search --------------------------------------------------------------------------


def test_filters_applied_together_are_in_the_url_and_its_bookmark_shows_the_same_rows(
    desk: QueueDesk, seeded: Seeded
) -> None:
    urgent_it = desk.queued_case(
        team="care-it", handle="pietro_s", language="it", priority="high", text="Pulse rotto"
    )
    desk.queued_case(team="care-it", handle="lia_t", language="it", text="Pulse lento")  # normal priority
    desk.queued_case(
        team="care-it", handle="dario_n", language="it", category="inquiry", priority="high", text="Pay?"
    )
    page = desk.open_queue(SUPERVISOR)
    chosen = {"team": "care-it", "category": "complaint", "priority": "high"}
    for name, value in chosen.items():
        page.select_option(f"#filters select[name={name}]", value)
    page.click("#filters button[type=submit]")

    expect(page).to_have_url(re.compile(r"priority=high"))
    params = parse_qs(urlsplit(page.url).query)
    assert {name: params[name] for name in chosen} == {name: [value] for name, value in chosen.items()}
    expect_rows(page, seeded.overdue, urgent_it)  # not James's: care-en

    bookmark = page.context.new_page()
    bookmark.goto(page.url)
    expect_rows(bookmark, seeded.overdue, urgent_it)
    for name, value in chosen.items():
        expect(bookmark.locator(f"#filters select[name={name}]")).to_have_value(value)
    expect(bookmark.locator("h1 small")).to_have_text("10 cases in this view · 2 match the filters")


def search_with_the_slash_key(page: Page, words: str) -> None:
    before = page.locator("#search").input_value()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    expect(page.locator("#search")).to_have_value(before)  # the key itself is not typed
    page.locator("#search").fill("")
    page.locator("#search").press_sequentially(words)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=" + re.escape(words.replace("@", "%40")) + "(&|$)"))


def test_search_from_the_slash_key_finds_a_words_beginning_a_handle_and_a_reference(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    field, label = page.locator("#search").bounding_box(), page.locator("label.search").bounding_box()
    assert field and label and field["width"] >= label["width"] - 1, "the field is as wide as its place"
    search_with_the_slash_key(page, "accen")
    expect_rows(page, seeded.lucas)  # "Il Pulse si accende al volo"
    search_with_the_slash_key(page, "@tom_h")
    expect_rows(page, seeded.due_soon)
    assert ref(seeded.suggested) == "SC-000003"
    search_with_the_slash_key(page, "SC-000003")
    expect_rows(page, seeded.suggested)
    search_with_the_slash_key(page, "nothing-like-this")
    expect(page.locator("p.empty")).to_have_text("No case matches these filters.")


# -- pages ---------------------------------------------------------------------------------------


def test_next_50_leads_through_every_open_case_once_in_the_order_they_fall_due(desk: QueueDesk) -> None:
    for number in range(120):
        desk.desk.post(handle=f"customer{number}", text=f"post {number}")
        desk.clock.advance(seconds=30)
    with Session(desk.engine) as session:
        open_cases = session.exec(select(Case).where(col(Case.status).in_(OPEN_STATES))).all()
    by_due = [ref(case.id or 0) for case in sorted(open_cases, key=lambda case: (case.ack_due_at, case.id))]

    page = desk.open_queue(SUPERVISOR)
    pages = [shown_references(page)]
    while page.locator("#next-page").count():
        href = page.locator("#next-page").get_attribute("href")
        page.click("#next-page")
        page.wait_for_url(f"{desk.url}{href}")
        pages.append(shown_references(page))
    assert [len(shown) for shown in pages] == [50, 50, 20]
    assert [reference for shown in pages for reference in shown] == by_due


# -- bulk actions --------------------------------------------------------------------------------


def hold_the_live_feed(page: Page) -> None:
    """The page hears of no change: what it shows stays as it was when it loaded."""
    page.route("**/queue/live*", lambda route: route.abort())
    page.reload()


def select_rows(page: Page, *case_ids: int) -> None:
    for case_id in case_ids:
        page.check(f"{row(case_id)} input[name=cases]")


def apply_to_selected(page: Page, action: str) -> None:
    page.select_option("#bulk-action", action)
    page.click("#bulk button[type=submit]")


def test_a_bulk_change_does_what_it_can_and_names_the_case_that_changed_meanwhile(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    hold_the_live_feed(page)
    select_rows(page, seeded.lucas, seeded.care_en_queue, seeded.unrouted)
    desk.customer_writes_again(seeded.lucas, "Ah, e la batteria dura poco")
    apply_to_selected(page, "priority:urgent")

    expect(page.locator(".notice")).to_have_text(
        [
            "2 cases now urgent priority.",
            f"Not done: {ref(seeded.lucas)} changed meanwhile (The customer wrote again)",
        ]
    )
    priorities = {
        case_id: desk.case(case_id).priority
        for case_id in (seeded.lucas, seeded.care_en_queue, seeded.unrouted)
    }
    assert priorities == {seeded.lucas: "normal", seeded.care_en_queue: "urgent", seeded.unrouted: "urgent"}
    expect(page.locator(f"{row(seeded.unrouted)} td").nth(1)).to_have_text("urgent")


def test_spam_in_bulk_asks_first_and_its_undo_brings_the_cases_back(desk: QueueDesk, seeded: Seeded) -> None:
    dismissed = (seeded.care_en_queue, seeded.unrouted)
    before = statuses(desk, *dismissed)
    page = desk.open_queue(SUPERVISOR)
    select_rows(page, *dismissed)
    apply_to_selected(page, "spam")

    expect(page.locator("h1")).to_have_text("Mark as spam: 2 cases?")
    expect(page.locator(".references")).to_have_text(", ".join(ref(case_id) for case_id in dismissed))
    assert statuses(desk, *dismissed) == before, "nothing is done before the person says yes"
    yes = page.locator("form.confirm-bulk button[type=submit]")
    expect(yes).to_have_text("Yes, mark as spam 2 open cases")
    yes.click()

    expect(page.locator(".notice")).to_have_text(["2 cases marked spam."])
    for case_id in dismissed:
        expect(page.locator(row(case_id))).to_have_count(0)
    assert statuses(desk, *dismissed) == dict.fromkeys(dismissed, "spam")

    page.click("form.undo button[type=submit]")
    expect(page.locator(".notice")).to_have_text(["2 cases reopened."])
    for case_id in dismissed:
        expect(page.locator(row(case_id))).to_be_visible()
    assert statuses(desk, *dismissed) == before
    expect(page.locator("form.undo")).to_have_count(0)


# -- live ----------------------------------------------------------------------------------------


def test_a_new_case_and_a_changed_one_arrive_live_keeping_what_is_open_and_selected(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    suggestion = page.locator(f"{row(seeded.suggested)} details")
    suggestion.locator("summary").click()
    selected = page.locator(f"{row(seeded.lucas)} input[name=cases]")
    selected.check()
    page.evaluate("window.marker = 1")

    new = desk.desk.post(handle="nuova_cliente", category="other", language="it", text="Il Pay non va")
    desk.customer_writes_again(seeded.lucas, "Anzi, si spegne da solo")

    expect(page.locator("#new-cases")).to_be_visible(timeout=LIVE)
    expect(page.locator("#new-cases span")).to_have_text("1 new case on this page.")
    expect(page.locator(row(new))).to_be_visible()
    expect(page.locator(f"{row(seeded.lucas)} td.text")).to_contain_text(
        "Anzi, si spegne da solo", timeout=LIVE
    )
    expect(page.locator("nav.views a[data-view=open] .count")).to_have_text("8")
    expect(suggestion).to_have_attribute("open", "")
    expect(selected).to_be_checked()
    assert page.evaluate("window.marker") == 1, "the page was not reloaded"
    page.click("#show-new")
    expect(page.locator("#new-cases")).to_be_hidden()
    expect(page.locator(row(new))).to_be_in_viewport()


def test_a_case_selected_before_it_changed_live_is_named_by_the_bulk_action_not_passed_over(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    select_rows(page, seeded.lucas, seeded.unrouted)
    desk.customer_writes_again(seeded.lucas, "Ah, e la batteria dura poco")
    expect(page.locator(f"{row(seeded.lucas)} td.text")).to_contain_text("batteria", timeout=LIVE)
    expect(page.locator(f"{row(seeded.lucas)} input[name=cases]")).to_be_checked()
    apply_to_selected(page, "priority:urgent")

    expect(page.locator(".notice")).to_have_text(
        [
            "1 case now urgent priority.",
            f"Not done: {ref(seeded.lucas)} changed meanwhile (The customer wrote again)",
        ]
    )
    assert desk.case(seeded.lucas).priority == "normal"


HEAR_CHANGES = """
    window.changes = 0;
    const Heard = window.EventSource;
    window.EventSource = class extends Heard {
        constructor(...args) {
            super(...args);
            this.addEventListener("change", () => { window.changes += 1; });
        }
    };
"""  # counts the live feed's change events as the page hears them


def test_a_change_announced_while_the_rows_are_being_fetched_is_fetched_after_them(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.signed_in(SUPERVISOR)
    page.add_init_script(HEAR_CHANGES)
    held: list[str] = []

    def answer_before_the_second_change(route: Route) -> None:
        """The first refresh gets the rows as they were, and is answered only after the page has heard
        of a second change that came meanwhile."""
        if route.request.resource_type != "fetch" or held:
            route.continue_()
            return
        held.append(route.request.url)
        rows_before = route.fetch()
        desk.customer_writes_again(seeded.lucas, "Anzi, si spegne da solo")
        page.wait_for_function("() => window.changes >= 2", timeout=LIVE)
        route.fulfill(response=rows_before)

    page.route(lambda url: "/queue?" in url, answer_before_the_second_change)
    page.goto(f"{desk.url}/queue?view=open")
    new = desk.desk.post(handle="nuova_cliente", category="other", language="it", text="Il Pay non va")

    expect(page.locator(row(new))).to_be_visible(timeout=LIVE)
    expect(page.locator(f"{row(seeded.lucas)} td.text")).to_contain_text(
        "Anzi, si spegne da solo", timeout=LIVE
    )
    assert len(held) == 1


def test_the_last_case_leaving_a_view_leaves_it_empty_live(desk: QueueDesk, seeded: Seeded) -> None:
    page = desk.open_queue(LUCA, "view=team")
    expect_rows(page, seeded.suggested)
    desk.desk.assign(seeded.suggested, "care-it", SARA)  # Sara took it
    expect(page.locator("p.empty")).to_be_visible(timeout=LIVE)
    expect_rows(page)
    expect(page.locator("nav.views a[data-view=team] .count")).to_have_text("0")


# -- keys ----------------------------------------------------------------------------------------


def test_keys_move_between_rows_select_open_and_take_a_case_and_question_mark_lists_them(
    desk: QueueDesk, seeded: Seeded
) -> None:
    first, second = (
        desk.queued_case(team="care-it", handle=handle, language="it", category="other", text="Casa?")
        for handle in ("primo", "secondo")
    )
    page = desk.open_queue(LUCA, "view=team")
    expect_rows(page, seeded.suggested, first, second)
    focused = page.locator("#rows tr.focused")
    for key, now_on in (("j", seeded.suggested), ("j", first), ("j", second), ("j", second), ("k", first)):
        page.keyboard.press(key)
        expect(focused).to_have_id(ref(now_on))

    page.keyboard.press("x")
    expect(page.locator("#rows input[name=cases]:checked")).to_have_count(1)
    expect(page.locator(f"{row(first)} input[name=cases]")).to_be_checked()

    page.keyboard.press("?")
    expect(page.locator("dialog#keys-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#keys-help")).to_be_hidden()

    page.keyboard.press("o")
    page.wait_for_url(f"{desk.url}/cases/{first}")

    page.goto(f"{desk.url}/queue?view=team")
    page.keyboard.press("j")
    expect(focused).to_have_id(ref(seeded.suggested))
    page.keyboard.press("t")
    expect(page.locator(".notice")).to_have_text(["1 case taken."])
    assert desk.case(seeded.suggested).assignee_id == desk.employee(LUCA).id
    expect_rows(page, first, second)  # it left the team's queue for Luca's own
    expect(page.locator("nav.views a[data-view=mine] .count")).to_have_text("4")


def test_enter_on_a_suggested_reply_shows_it_rather_than_opening_the_focused_case(
    desk: QueueDesk, seeded: Seeded
) -> None:
    page = desk.open_queue(SUPERVISOR)
    page.keyboard.press("j")
    expect(page.locator("#rows tr.focused")).to_have_id(ref(seeded.overdue))
    suggestion = page.locator(f"{row(seeded.suggested)} details")
    suggestion.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(suggestion).to_have_attribute("open", "")
    page.wait_for_timeout(300)  # long enough for a navigation to have begun
    assert urlsplit(page.url).path == "/queue"


# -- a phone, and strangers' text ----------------------------------------------------------------


def test_the_queue_fits_a_phone_and_shows_strangers_markup_as_text(desk: QueueDesk, seeded: Seeded) -> None:
    long_link = "https://example.com/" + "velora-pulse-" * 12
    hostile = desk.queued_case(
        team="care-it", handle="h4x", category="other", text=f"{SCRIPT} {IMG} {long_link}"
    )
    desk.name_customer(hostile, IMG)
    desk.set_case(hostile, suggested_reply=SCRIPT)
    page = desk.open_queue(SUPERVISOR, viewport=PHONE)

    hostile_row = page.locator(row(hostile))
    expect(hostile_row.locator("td.text")).to_contain_text(f"{SCRIPT} {IMG}")
    expect(hostile_row).to_contain_text(f"@h4x{IMG}")
    hostile_row.locator("details summary").click()
    expect(hostile_row.locator("details")).to_contain_text(SCRIPT)
    assert page.evaluate(ACTIVE_CONTENT, "table.queue") == NO_ACTIVE_CONTENT

    assert page.evaluate(FITS), "the queue scrolls sideways at 390 px"
    width = PHONE["width"]
    for index in range(page.locator(ROWS).count()):
        box = page.locator(ROWS).nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        text = page.locator(ROWS).nth(index).locator("td.text").bounding_box()
        assert text is not None and text["width"] >= 0.8 * width, "the post is read across the screen"
    font = page.locator(f"{row(hostile)} td.text").evaluate("(cell) => getComputedStyle(cell).fontSize")
    assert float(font.removesuffix("px")) >= 14
