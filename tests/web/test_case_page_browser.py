"""The case page in a real browser: people working one case together, live, from chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from connectors.registry import connector_class
from social_care import csat
from social_care.cases import OPEN_STATES
from social_care.storage.tables import Team, TeamMember, TriageLabel
from social_care.switches import pause_automatic_replies
from tests.support.browser import ACTIVE_CONTENT, chromium
from tests.web.case_browser import (
    LUCA,
    PAOLA,
    SARA,
    SECRET_KEY,
    SUPERVISOR,
    CaseDesk,
)
from tests.web.support import IMG, SCRIPT

pytestmark = pytest.mark.browser
LIVE = 8000  # milliseconds: a live update arrives within a poll of about a second, plus a page fetch
NO_ACTIVE_CONTENT = {"scripts": 0, "images": 0, "handlers": 0}
OVER = re.compile(r"\bover\b")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def desk(tmp_path: Path, browser: Browser) -> Iterator[CaseDesk]:
    desk = CaseDesk(tmp_path, browser)
    desk.start()
    yield desk
    desk.stop()


def send_reply(page: Page, text: str) -> None:
    page.fill("#reply-text", text)
    page.click("#composer button[type=submit]")


def correct(page: Page, reason: str = "", **fields: str) -> None:
    page.click("#correct summary")
    for name, value in fields.items():
        page.select_option(f"#correct select[name={name}]", value)
    page.fill("#correct input[name=reason]", reason)
    page.click("#correct button[type=submit]")


def members_of(desk: CaseDesk, team: str) -> set[int]:
    with Session(desk.engine) as session:
        statement = (
            select(TeamMember.employee_id)
            .join(Team, col(Team.id) == col(TeamMember.team_id))
            .where(Team.name == team)
        )
        return set(session.exec(statement))


# -- two people on one case ---------------------------------------------------------------------


def test_two_people_on_a_case_see_each_other_there_and_typing(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    expect(luca.locator("#presence")).to_have_text("Chiara Conti is viewing", timeout=LIVE)
    expect(chiara.locator("#presence")).to_have_text("Luca Marino is viewing", timeout=LIVE)
    luca.locator("#reply-text").press_sequentially("Ciao Giulia")
    expect(chiara.locator("#presence")).to_have_text("Luca Marino is typing…", timeout=LIVE)
    chiara.locator("#note-text").press_sequentially("Check the warranty")
    expect(luca.locator("#presence")).to_have_text("Chiara Conti is typing…", timeout=LIVE)

    desk.clock.advance(seconds=7)  # typing is shown for six seconds after the last key
    expect(luca.locator("#presence")).to_have_text("Chiara Conti is viewing", timeout=LIVE)
    chiara.goto(f"{desk.url}/queue")  # leaving the page says so
    expect(luca.locator("#presence")).to_have_text("", timeout=LIVE)


def test_a_reply_sent_while_another_person_was_writing_refuses_theirs_and_keeps_their_draft(
    desk: CaseDesk,
) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    draft = "Ciao Giulia, ti mandiamo un Pulse nuovo."
    chiara.fill("#reply-text", draft)
    send_reply(luca, "Ciao Giulia, tieni premuto il tasto per 10 secondi.")
    expect(luca.locator("li.entry-reply")).to_contain_text("Luca Marino")

    chiara_timeline = chiara.locator("#timeline li.entry-reply")
    expect(chiara_timeline).to_contain_text("tieni premuto il tasto", timeout=LIVE)  # no reload
    expect(chiara.locator("#changed-live")).to_be_visible()
    expect(chiara.locator("#changed-live")).to_contain_text("Luca Marino sent a reply")
    expect(chiara.locator("#reply-text")).to_have_value(draft)

    chiara.click("#composer button[type=submit]")
    refusal = chiara.locator(".error[role=alert]")
    expect(refusal).to_contain_text("This case changed while you were on it: nothing was done.")
    expect(refusal.locator("ul.what-changed li")).to_have_text(["Luca Marino sent a reply"])
    expect(chiara.locator("#reply-text")).to_have_value(draft)
    assert desk.peoples_replies(case_id) == ["Ciao Giulia, tieni premuto il tasto per 10 secondi."]

    chiara.click("#composer button[type=submit]")  # she has seen the change: now it goes
    expect(chiara.locator("li.entry-reply")).to_have_count(2)
    assert desk.peoples_replies(case_id)[1:] == [draft]


def test_a_reply_drafted_while_someone_marked_the_case_spam_is_refused_and_the_draft_kept(
    desk: CaseDesk,
) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    draft = "Ciao Giulia, ti mandiamo un Pulse nuovo."
    luca.fill("#reply-text", draft)
    chiara.locator("details.confirm summary", has_text="Spam…").click()
    chiara.locator("details.confirm[open] button.danger").click()
    expect(luca.locator("#changed-live")).to_contain_text("Chiara Conti marked the case spam", timeout=LIVE)

    luca.click("#composer button[type=submit]")
    what_changed = luca.locator(".error[role=alert] ul.what-changed")
    expect(what_changed).to_have_text("Chiara Conti marked the case spam")
    expect(luca.locator("#reply-text")).to_have_value(draft)
    assert desk.peoples_replies(case_id) == []


def test_a_reply_drafted_before_the_case_went_to_someone_else_is_refused_with_the_draft_kept(
    desk: CaseDesk,
) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    draft = "Ciao Giulia, ti mandiamo un Pulse nuovo."
    luca.fill("#reply-text", draft)
    chiara.select_option("form[action$='/assign'] select[name=assignee]", label="Sara Greco")
    chiara.click("form[action$='/assign'] button[type=submit]")
    expect(luca.locator("#changed-live")).to_contain_text("assigned the case to Sara Greco", timeout=LIVE)

    with luca.expect_response(f"{desk.url}/cases/{case_id}/reply") as sent:
        luca.click("#composer button[type=submit]")
    assert sent.value.status == 409
    expect(luca.locator(".error[role=alert] ul.what-changed")).to_contain_text(
        "Chiara Conti assigned the case to Sara Greco"
    )
    expect(luca.locator("#reply-text")).to_have_value(draft)


def test_setting_oneself_away_from_a_refused_action_stays_on_the_case(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    send_reply(luca, "Ciao Giulia, tieni premuto il tasto per 10 secondi.")
    expect(luca.locator("li.entry-reply")).to_have_count(1)
    send_reply(chiara, "Ciao Giulia, ti mandiamo un Pulse nuovo.")
    expect(chiara.locator(".error[role=alert]")).to_be_visible()

    with chiara.expect_response(f"{desk.url}/me/availability") as set_away:
        chiara.locator("header form.availability button").click()
    assert set_away.value.status == 303
    assert set_away.value.headers["location"] == f"/cases/{case_id}"


def test_the_page_showing_a_refusal_still_follows_the_case_live(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="giulia_r", language="it", text="Il mio Pulse è morto")
    luca = desk.open_case(LUCA, case_id)
    chiara = desk.open_case(SUPERVISOR, case_id)
    send_reply(luca, "Ciao Giulia, tieni premuto il tasto per 10 secondi.")
    expect(luca.locator("li.entry-reply")).to_have_count(1)
    send_reply(chiara, "Ciao Giulia, ti mandiamo un Pulse nuovo.")
    expect(chiara.locator(".error[role=alert]")).to_be_visible()

    luca.fill("#note-text", "Asked her to hold the button")
    luca.click("#note-form button[type=submit]")
    expect(chiara.locator("li.entry-note")).to_contain_text("Asked her to hold the button", timeout=LIVE)
    expect(chiara.locator("#reply-text")).to_have_value("Ciao Giulia, ti mandiamo un Pulse nuovo.")


# -- correcting the triage ----------------------------------------------------------------------


def test_a_correction_moves_the_deadlines_and_the_team_and_is_kept_as_a_label(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(
        LUCA, handle="mark_t", language="en", category="inquiry", text="My Pulse keeps rebooting"
    )
    mention_id = desk.rules_said(case_id, category="inquiry", cluster="not_working", priority="normal")
    chiara = desk.open_case(SUPERVISOR, case_id)
    deadlines = chiara.locator("ul.deadlines li")
    expect(deadlines.nth(0)).to_contain_text("Acknowledge by Mon 23 Nov 10:15")  # 15 minutes, in Rome
    expect(deadlines.nth(1)).to_contain_text("Reply by Mon 23 Nov 11:00")
    expect(deadlines.nth(2)).to_contain_text("Resolve by Wed 25 Nov 10:00")

    correct(chiara, "Angry, and writing in English", category="complaint", priority="urgent", team="care-en")

    expect(deadlines.nth(0)).to_contain_text("Acknowledge by Mon 23 Nov 10:05")  # urgent complaints: 5
    expect(deadlines.nth(1)).to_contain_text("Reply by Mon 23 Nov 10:30")
    expect(deadlines.nth(2)).to_contain_text("Resolve by Mon 23 Nov 18:00")
    case = desk.case(case_id)
    assert (case.category, case.priority, case.team) == ("complaint", "urgent", "care-en")
    assert case.assignee_id in members_of(desk, "care-en") - {desk.employee(LUCA).id}
    expect(chiara.locator("#facts dd").first).to_have_text("care-en")
    expect(chiara.locator("#facts .assignee")).to_have_text(desk.name_of(case.assignee_id))
    with Session(desk.engine) as session:
        [label] = session.exec(select(TriageLabel).where(TriageLabel.case_id == case_id)).all()
    assert label.model_dump(exclude={"id", "at"}) == {
        "source": "inbox",
        "external_id": None,
        "text": "",  # the post's text stays with the post: erasing it leaves no copy here
        "imported_from": "",
        "imported_by": "",
        "case_id": case_id,
        "mention_id": mention_id,
        "employee_id": desk.employee(SUPERVISOR).id,
        "reason": "Angry, and writing in English",
        "category": "complaint",
        "cluster": "not_working",
        "priority": "urgent",
        "product": "",
        "team": "care-en",
        "language": "en",
        "rules_category": "inquiry",
        "rules_cluster": "not_working",
        "rules_priority": "normal",
    }


def test_a_correction_to_praise_cancels_the_acknowledgement_not_yet_sent(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="felice", language="it", text="Il Pulse è fantastico!")
    desk.desk.queue_acknowledgement(case_id)
    luca = desk.open_case(LUCA, case_id)
    delivery = luca.locator("li.entry-acknowledgement .delivery")
    expect(delivery).to_have_text("waiting to be sent")

    correct(luca, "A thank-you, not a complaint", category="praise", cluster="other", priority="low")

    expect(delivery).to_contain_text("cancelled: the case was corrected to praise")
    [acknowledgement] = desk.outbox(case_id)
    assert acknowledgement.state == "cancelled"


# -- who has the case ---------------------------------------------------------------------------


def test_a_case_is_taken_assigned_and_released_from_its_page(desk: CaseDesk) -> None:
    case_id = desk.queued_case(team="care-it", handle="paolo_v", language="it", text="Ordine mai arrivato")
    luca = desk.open_case(LUCA, case_id)
    assignee = luca.locator("#facts .assignee")
    expect(assignee).to_have_text("nobody")
    luca.get_by_role("button", name="Take it").click()
    expect(assignee).to_have_text("Luca Marino")
    assert desk.case(case_id).assignee_id == desk.employee(LUCA).id

    chiara = desk.open_case(SUPERVISOR, case_id)
    chiara.select_option("form[action$='/assign'] select[name=assignee]", label="Sara Greco")
    chiara.click("form[action$='/assign'] button[type=submit]")
    expect(chiara.locator("#facts .assignee")).to_have_text("Sara Greco")
    assert desk.case(case_id).assignee_id == desk.employee(SARA).id
    expect(assignee).to_have_text("Sara Greco", timeout=LIVE)  # Luca's page follows, live

    chiara.get_by_role("button", name="Release to the team's queue").click()
    expect(chiara.locator("#facts .assignee")).to_have_text("nobody")
    case = desk.case(case_id)
    assert (case.team, case.assignee_id) == ("care-it", None)


def test_a_person_sets_themselves_away_and_back_from_the_header(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="paolo_v", language="it")
    luca = desk.open_case(LUCA, case_id)
    availability = luca.locator("header form.availability")
    availability.get_by_role("button", name="Set me away").click()
    expect(availability.locator("span")).to_have_text("Away")
    assert luca.url == f"{desk.url}/cases/{case_id}"  # still on the case
    assert desk.employee(LUCA).available is False
    availability.get_by_role("button", name="I'm back").click()
    expect(availability.locator("span")).to_have_text("Available")
    assert desk.employee(LUCA).available is True


def test_a_supervisor_sets_someone_away_and_back_on_the_team_page(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="paolo_v", language="it")
    chiara = desk.open_case(SUPERVISOR, case_id)
    offered = chiara.locator("form[action$='/assign'] select[name=assignee] option:not([disabled])")
    expect(offered).to_have_text(["Chiara Conti", "Sara Greco"])

    chiara.goto(f"{desk.url}/team")
    sara = chiara.locator(f"tr[data-person='{SARA}']")
    sara.get_by_role("button", name="Set away").click()
    expect(sara.locator("td").last).to_contain_text("away")
    assert desk.employee(SARA).available is False
    chiara.goto(f"{desk.url}/cases/{case_id}")
    expect(offered).to_have_text(["Chiara Conti"])  # someone away is not offered a case

    chiara.goto(f"{desk.url}/team")
    sara.get_by_role("button", name="Set back").click()
    expect(sara.locator("td").last).to_contain_text("available")
    assert desk.employee(SARA).available is True


# -- writing a reply ----------------------------------------------------------------------------


def test_a_saved_reply_fitting_the_case_is_inserted_filled_in(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(SARA, team="care-en", handle="anna_b", language="en", category="complaint")
    desk.name_customer(case_id, "Anna Bianchi")
    sara = desk.open_case(SARA, case_id)
    expect(sara.locator("#saved-reply option")).to_have_text(["Ask for the order number"])
    sara.click("#insert-reply")
    reference = desk.case(case_id).reference
    expect(sara.locator("#reply-text")).to_have_value(
        "Hi Anna Bianchi, sorry for the trouble with your order. Could you send us your order number"
        f" in a direct message? Your case is {reference}."
    )

    italian = desk.assigned_case(SARA, handle="marta_l", language="it", category="inquiry")
    sara.goto(f"{desk.url}/cases/{italian}")
    expect(sara.locator("#saved-reply option")).to_have_text(["Chiedi il numero d'ordine"])


def test_the_counter_counts_against_the_platforms_limit_and_the_survey_link(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(SARA, team="care-en", handle="anna_b", language="en")
    sara = desk.open_case(SARA, case_id)
    count = sara.locator("#reply-count")
    expect(count).to_have_text("0 / 280")
    sara.fill("#reply-text", "w" * 280)
    expect(count).to_have_text("280 / 280")
    expect(count).not_to_have_class(OVER)
    sara.fill("#reply-text", "w" * 281)
    expect(count).to_have_text("281 / 280")
    expect(count).to_have_class(OVER)

    sara.fill("#reply-text", "Replaced under warranty.")
    sara.check("#resolve")
    survey = csat.resolution_reply(desk.config, SECRET_KEY, desk.case(case_id), "", desk.clock.now)
    used = len("Replaced under warranty.") + connector_class("demo").reply_length(survey)
    expect(count).to_have_text(f"{used} / 280 with the survey link")
    sara.uncheck("#resolve")
    expect(count).to_have_text(f"{len('Replaced under warranty.')} / 280")


# -- closing and undoing ------------------------------------------------------------------------


def test_spam_is_confirmed_then_undone_by_reopening(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="cheap_pills", language="it", text="Compra pillole qui")
    luca = desk.open_case(LUCA, case_id)
    luca.locator("details.confirm summary", has_text="Spam…").click()
    luca.locator("details.confirm[open] button.danger").click()

    expect(luca.locator("h1 .status")).to_have_text("spam")
    for gone in ("#composer", "details.confirm", "#correct"):
        expect(luca.locator(gone)).to_have_count(0)
    undo = luca.locator("form.reopen button[type=submit]")
    expect(undo).to_have_text("Undo: reopen the case")
    assert desk.case(case_id).status == "spam"

    undo.click()
    expect(luca.locator("h1 .status")).to_have_text("assigned")
    expect(luca.locator("#composer")).to_be_visible()
    assert desk.case(case_id).status in OPEN_STATES


# -- the timeline -------------------------------------------------------------------------------


def test_the_timeline_says_whether_an_acknowledgement_was_sent_or_is_held_by_the_kill_switch(
    desk: CaseDesk,
) -> None:
    sent = desk.assigned_case(LUCA, handle="uno", language="it")
    desk.desk.acknowledge(sent)
    held = desk.assigned_case(LUCA, handle="due", language="it")
    with Session(desk.engine) as session:
        pause_automatic_replies(session, reason="a crisis", by="chiara", now=desk.clock.now)
        session.commit()
    desk.desk.queue_acknowledgement(held)

    luca = desk.open_case(LUCA, sent)
    expect(luca.locator("li.entry-acknowledgement .delivery")).to_have_text("sent")
    luca.goto(f"{desk.url}/cases/{held}")
    expect(luca.locator("li.entry-acknowledgement .delivery")).to_have_text("held by the kill switch")
    expect(luca.locator("li.entry-acknowledgement")).to_have_class("entry entry-acknowledgement state-held")


def test_hostile_text_in_posts_names_handles_and_notes_is_shown_as_text(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle=IMG, language="it", text=f"Pulse {SCRIPT} {IMG}")
    desk.name_customer(case_id, SCRIPT)
    chiara = desk.open_case(SUPERVISOR, case_id)
    luca = desk.open_case(LUCA, case_id)
    dialogs: list[str] = []
    for page in (chiara, luca):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    luca.fill("#note-text", f"Careful: {IMG} {SCRIPT}")
    luca.click("#note-form button[type=submit]")
    expect(luca.locator("li.entry-note .entry-text")).to_have_text(f"Careful: {IMG} {SCRIPT}")
    expect(chiara.locator("li.entry-note .entry-text")).to_have_text(  # arrived live
        f"Careful: {IMG} {SCRIPT}", timeout=LIVE
    )
    luca.click("#insert-reply")  # a saved reply with the customer's name in it
    expect(luca.locator("#reply-text")).to_have_value(re.compile(rf"^Ciao {re.escape(SCRIPT)}, ci dispiace"))
    for page in (luca, chiara):
        expect(page.locator("li.entry-post .entry-text")).to_have_text(f"Pulse {SCRIPT} {IMG}")
        expect(page.locator("li.entry-post .who")).to_have_text(SCRIPT)
        expect(page.locator("li.entry-post .handle")).to_have_text(f"@{IMG}")
        expect(page.locator("#customer .customer-name")).to_contain_text(SCRIPT)
        expect(page.locator("#customer .customer-name")).to_contain_text(f"@{IMG}")
        assert page.evaluate(ACTIVE_CONTENT, "#timeline") == NO_ACTIVE_CONTENT
        assert page.evaluate(ACTIVE_CONTENT, "#customer") == NO_ACTIVE_CONTENT
        assert page.evaluate(ACTIVE_CONTENT, "main") == NO_ACTIVE_CONTENT
    assert dialogs == []


# -- on a phone, and with emoji -----------------------------------------------------------------


def test_on_a_phone_the_page_fits_its_width_and_the_composer_is_at_hand(desk: CaseDesk) -> None:
    long_link = "https://velora.example/support/" + "pulse-" * 30
    case_id = desk.assigned_case(
        LUCA, handle="a_very_long_handle_" * 3, language="it", text=f"Guardate qui {long_link}"
    )
    desk.name_customer(case_id, "Giovanna" * 8)
    luca = desk.open_case(LUCA, case_id, viewport={"width": 390, "height": 844})
    expect(luca.locator("#composer")).to_be_visible()
    assert luca.evaluate("document.documentElement.scrollWidth") <= 390
    for control in ("#reply-text", "#composer button[type=submit]"):
        target = luca.locator(control)
        target.scroll_into_view_if_needed()
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (control, box)


def test_a_post_with_emoji_is_drawn_with_the_colour_emoji_font(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(LUCA, handle="rabbia", language="it", text="Pulse dead again 😡🔥")
    luca = desk.open_case(LUCA, case_id)
    text = luca.locator("li.entry-post .entry-text")
    expect(text).to_have_text("Pulse dead again 😡🔥")
    emoji_width = text.evaluate(
        """(element) => {
            const range = document.createRange();
            const node = element.firstChild;
            range.setStart(node, node.data.indexOf("😡"));
            range.setEnd(node, node.data.length);
            return range.getBoundingClientRect().width;
        }"""
    )
    assert emoji_width > 0
    cdp = luca.context.new_cdp_session(luca)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "li.entry-post .entry-text"})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    emoji_glyphs = sum(font["glyphCount"] for font in fonts if "Emoji" in font["familyName"])
    assert emoji_glyphs == 2, fonts


# -- outside one's scope ------------------------------------------------------------------------


def test_a_case_outside_the_persons_scope_is_not_found_in_the_inbox_frame(desk: CaseDesk) -> None:
    case_id = desk.assigned_case(PAOLA, team="payments", handle="pay_user", language="it")
    luca = desk.signed_in(LUCA)
    response = luca.goto(f"{desk.url}/cases/{case_id}")
    assert response is not None and response.status == 404
    expect(luca.locator(".error[role=alert]")).to_have_text("No such case.")
    expect(luca.locator("header nav").get_by_role("link", name="Queue")).to_be_visible()
    expect(luca.locator("header .who")).to_contain_text("Luca Marino")
    expect(luca.locator("main")).not_to_contain_text("pay_user")
