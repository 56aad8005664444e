"""The queue in chromium: a desk seeded with a case for each of the queue's views, and what a test
reads off the queue page (the rows it shows, the views it offers and their counts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from social_care.storage.tables import Author, Case, Mention
from tests.web.case_browser import JAMES, LUCA, CaseDesk

ROWS = "table.queue tr.case"
REFERENCES = f"{ROWS} a.ref"
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def ref(case_id: int) -> str:
    return f"SC-{case_id:06d}"


@dataclass(frozen=True)
class Seeded:
    """The seeded cases, by what makes each one of them, in the order they were made (SC-000001 first)."""

    overdue: int  # Luca's care-it complaint, still unacknowledged an hour after it came
    lucas: int  # Luca's care-it praise: no clock runs on it
    suggested: int  # in care-it's queue, nobody's, a suggested reply that only a person may send
    waiting: int  # Luca's, answered by him: waiting on the customer
    due_soon: int  # James's care-en complaint, just in: its acknowledgement is due in 15 minutes
    care_en_queue: int  # in care-en's queue, nobody's
    unrouted: int  # no rule routed it
    resolved: int  # Luca's, resolved


class QueueDesk(CaseDesk):
    """The example desk (see :class:`CaseDesk`) with the queue's own ways to make and change cases."""

    def seed(self) -> Seeded:
        """Two teams' cases, some assigned and some not, one of each kind a view picks out; the
        clock is left an hour after the first of them."""
        overdue = self.assigned_case(
            LUCA, handle="ornella_v", language="it", priority="high", text="Lo schermo del Pulse sfarfalla"
        )
        self.clock.advance(hours=1)
        lucas = self.assigned_case(
            LUCA, handle="giulia_r", language="it", category="praise", text="Il Pulse si accende al volo"
        )
        suggested = self.queued_case(
            team="care-it", handle="marco_b", language="it", category="other", text="Casa e wifi?"
        )
        self.set_case(suggested, suggested_reply="Tieni premuto il tasto per dieci secondi.")
        waiting = self.assigned_case(LUCA, handle="anna_b", category="other", text="Where is my invoice?")
        self.desk.reply(waiting, LUCA, text="Under Account, then Invoices. Does that work?")
        due_soon = self.assigned_case(
            JAMES, team="care-en", handle="tom_h", priority="high", text="My Pay card was charged twice"
        )
        care_en_queue = self.queued_case(
            team="care-en", handle="kate_w", category="praise", text="Lovely support today"
        )
        unrouted = self.desk.post(handle="zz_random", category="other", text="velora random thought")
        resolved = self.assigned_case(LUCA, handle="old_one", category="other", text="Broken Pay card")
        self.desk.resolve(resolved, LUCA)
        seeded = Seeded(overdue, lucas, suggested, waiting, due_soon, care_en_queue, unrouted, resolved)
        assert self.case(waiting).status == "responded"
        return seeded

    def set_case(self, case_id: int, **values: Any) -> None:
        with Session(self.engine) as session:
            case = session.get_one(Case, case_id)
            for name, value in values.items():
                setattr(case, name, value)
            session.add(case)
            session.commit()

    def customer_writes_again(self, case_id: int, text: str) -> None:
        """A new post from the case's customer, in reply to its first one: the case changes."""
        with Session(self.engine) as session:
            case = session.get_one(Case, case_id)
            handle = session.get_one(Author, case.author_id).handle
            first = select(Mention.external_id).where(Mention.case_id == case_id).order_by(col(Mention.id))
            thread = session.exec(first).first()
        joined = self.desk.post(
            handle=handle,
            reply_to=thread,
            category=case.category,
            priority=case.priority,
            language=case.language,
            text=text,
        )
        assert joined == case_id

    def open_queue(self, email: str, query: str = "", **context_options: Any) -> Page:
        """``email`` signed in, on the queue (their default view, or ``query``'s)."""
        page = self.signed_in(email, **context_options)
        if query:
            page.goto(f"{self.url}/queue?{query}")
        return page


def expect_rows(page: Page, *case_ids: int) -> None:
    """The queue shows exactly these cases, in this order."""
    if case_ids:
        expect(page.locator(REFERENCES)).to_have_text([ref(case_id) for case_id in case_ids])
    else:
        expect(page.locator(ROWS)).to_have_count(0)


def expect_views(page: Page, counts: dict[str, int]) -> None:
    """The navigation offers exactly these views, in this order, with these counts."""
    views = page.locator("nav.views a.view")
    expect(views).to_have_count(len(counts))
    for index, (name, count) in enumerate(counts.items()):
        expect(views.nth(index)).to_have_attribute("data-view", name)
        expect(views.nth(index).locator(".count")).to_have_text(str(count))


def shown_references(page: Page) -> list[str]:
    return page.locator(REFERENCES).all_inner_texts()
