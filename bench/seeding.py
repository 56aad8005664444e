"""The benchmarks' databases: a desk's history of customer posts over some days, written in bulk.

``build`` writes authors, cases, posts, events, classifications, product matches,
replies and surveys in chunks through SQLAlchemy Core (SQLite's search triggers
fire as for any insert). What the cases look like is a desk's: ``History`` is the
one ``bench_digest.py`` times (one to three posts per case, routed to a team,
nearly all answered and closed), ``StaffedDesk`` the one ``bench_queue.py`` times
(the example configuration's teams and people working the cases, a backlog of open
ones with their deadlines, suggested replies, spam and ignored posts). Every draw
comes from one random generator, in a fixed order, so a seed always builds the
same database.

``database`` gives a database to build in (a SQLite file, or a PostgreSQL database
at $SOCIAL_CARE_TEST_PG or 127.0.0.1:5432), temporary or kept for the next run.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, text

from social_care.config import Config
from social_care.sla import BREACH, WARNING, running_clocks, set_due_times
from social_care.storage.engine import make_engine
from social_care.storage.tables import (
    Author,
    Case,
    CaseEvent,
    Classification,
    CsatResponse,
    Mention,
    OutboxEntry,
    TermMatch,
)

NOW = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)  # a Sunday morning, as the digest goes out
TEAMS = ("care-it", "care-en", "payments")
PRODUCTS = ("Velora Pulse", "Velora Casa", "Velora Pay", "")
CATEGORIES = ("complaint", "complaint", "inquiry", "praise", "other")
CLUSTERS = ("technical_fault", "how_to", "not_working", "delivery", "billing", "account", "other")
SAYINGS = {
    "complaint": (
        "{product} stopped syncing again after the update, third time this week",
        "Ordered a {product} ten days ago and still no tracking number. Anyone there?",
        "Il mio {product} si spegne da solo, assistenza introvabile",
    ),
    "inquiry": (
        "Does {product} work with two accounts on one phone?",
        "Quando arriva {product} in Italia? Si può preordinare?",
    ),
    "praise": (
        "Honestly {product} is the best thing I bought this year, setup took two minutes",
        "Grazie al supporto Velora, risolto in dieci minuti!",
    ),
    "other": ("Anyone going to the {product} launch event on Friday?",),
}
PLATFORMS = (("x-velora", "x"), ("reddit-velora", "reddit"), ("feed-web", "feed"))
CHUNK = 20_000
PG_ADMIN = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
WRITE_ORDER = (Author, Case, Mention, CaseEvent, Classification, TermMatch, OutboxEntry, CsatResponse)

Row = dict[str, Any]
Story = list[Row]


@dataclass
class Rows:
    """Rows to write, by table, flushed in chunks so memory stays flat."""

    engine: Engine
    pending: dict[Any, list[Row]]

    def add(self, table: Any, row: Row) -> None:
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Every pending row, parents before the rows that point at them."""
        with self.engine.begin() as connection:
            for table in WRITE_ORDER:
                if self.pending.get(table):
                    connection.execute(insert(table), self.pending[table])
                self.pending[table] = []


def _measured(due: datetime, at: datetime) -> Row:
    return {"due_at": due.isoformat(), "met": at <= due}


class History:
    """The digest's desk: cases of one to three posts, nearly every one answered, and every case
    older than three days resolved, so the backlog holds the last days' open cases."""

    posts_per_case: tuple[int, ...] = (1, 1, 1, 2, 3)
    customers = 1

    def authors(self, mentions: int) -> int:
        self.customers = max(mentions // 4, 1)
        return self.customers

    def author(self, rng: random.Random, number: int) -> Row:
        return {
            "id": number,
            "platform": "x",
            "external_id": str(number),
            "handle": f"user{number}",
            "name": f"User {number}",
            "followers": int(rng.paretovariate(1.2) * 50),
            "blocked": False,
        }

    def case(
        self, rng: random.Random, case_id: int, opened: datetime, mentions: list[int]
    ) -> tuple[Row, Story, list[tuple[Any, Row]]]:
        """The case's row, its events, and the rows to write after its posts (none here)."""
        source, platform = rng.choice(PLATFORMS)
        category, priority = rng.choice(CATEGORIES), rng.choice(("normal", "normal", "high"))
        story, status, last = _events(rng, case_id, opened, mentions)
        due = opened + timedelta(hours=rng.uniform(-2, 4)) if case_id % 97 == 0 else None
        row = {
            "id": case_id,
            "source_id": source,
            "platform": platform,
            "author_id": rng.randint(1, self.customers),
            "thread_key": str(case_id),
            "status": status,
            "category": category,
            "cluster": rng.choice(CLUSTERS),
            "priority": priority,
            "language": rng.choice(("en", "it")),
            "brand": "Velora",
            "product": rng.choice(PRODUCTS),
            "team": rng.choice(TEAMS),
            "opened_at": opened,
            "last_activity_at": last,
            "resolution_due_at": due,
            "sla_next_alert_at": due,
            "suggested_reply": "",
        }
        return row, story, []

    def mention(self, rng: random.Random, case: Row, number: int, mention_id: int) -> Row:
        posted = case["opened_at"] + timedelta(minutes=number * rng.uniform(5, 300))
        return {
            "id": mention_id,
            "source_id": case["source_id"],
            "platform": case["platform"],
            "external_id": str(mention_id),
            "url": f"https://x.com/user/status/{mention_id}",
            "author_id": rng.randint(1, self.customers),
            "text": rng.choice(SAYINGS[case["category"]]).format(product=rng.choice(PRODUCTS[:3])),
            "posted_at": posted,
            "fetched_at": posted,
            "direct": True,
            "is_retweet": False,
            "raw": {},
            "case_id": case["id"],
            "processed_at": posted,
        }

    def classification(self, rng: random.Random, case: Row, number: int, mention: Row) -> Row:
        return {
            "mention_id": mention["id"],
            "category": case["category"] if number == 0 else rng.choice(CATEGORIES),
            "cluster": rng.choice(CLUSTERS),
            "sentiment": 0.0,
            "priority": case["priority"],
            "language": "en",
            "confidence": 0.8,
            "reasons": [],
            "decided_by": "rules",
            "decided_at": mention["posted_at"],
            "current": True,
        }


def _events(
    rng: random.Random, case_id: int, opened: datetime, mentions: list[int]
) -> tuple[Story, str, datetime]:
    """The case's story up to NOW, its status then, and the time of its last event."""
    story: Story = []

    def event(kind: str, at: datetime, status: str | None, **detail: Any) -> None:
        row = {"case_id": case_id, "kind": kind, "actor": "system", "at": at, "to_status": status}
        story.append({**row, "detail": detail})

    event("opened", opened, "new", mention_id=mentions[0])
    ack = opened + timedelta(minutes=rng.uniform(1, 30))
    event("assigned", ack, "assigned", team=rng.choice(TEAMS))
    event("acknowledged", ack, None, **_measured(opened + timedelta(minutes=15), ack))
    last = ack
    if rng.random() < 0.95:
        reply = ack + timedelta(minutes=rng.uniform(5, 150))
        if reply > opened + timedelta(minutes=60) and rng.random() < 0.5:
            due = opened + timedelta(minutes=60)
            event("sla_breached", due, None, target="response", due_at=due.isoformat())
        event(
            "responded",
            reply,
            "responded",
            first=True,
            waiting_since=opened.isoformat(),
            **_measured(opened + timedelta(minutes=60), reply),
        )
        last = reply
        for extra in mentions[1:]:
            last += timedelta(minutes=rng.uniform(5, 300))
            event("mention_added", last, None, mention_id=extra)
    if opened < NOW - timedelta(days=3) or rng.random() < 0.8:
        last += timedelta(minutes=rng.uniform(10, 2000))
        event("resolved", last, "resolved", **_measured(opened + timedelta(minutes=1440), last))
    story = [item for item in story if item["at"] <= NOW]
    status = [item["to_status"] for item in story if item["to_status"]][-1]
    return story, status, max(item["at"] for item in story)


def build(engine: Engine, mentions: int, days: int, seed: int, desk: History | None = None) -> None:
    """``mentions`` posts over ``days`` days up to NOW, in cases as ``desk`` (the digest's by default)
    makes them."""
    desk = desk or History()
    rng = random.Random(seed)
    rows = Rows(engine, {})
    for number in range(1, desk.authors(mentions) + 1):
        rows.add(Author, desk.author(rng, number))
    rows.flush()
    start, written, case_id = NOW - timedelta(days=days), 0, 0
    while written < mentions:
        case_id += 1
        posts = min(rng.choice(desk.posts_per_case), mentions - written)
        opened = start + timedelta(seconds=rng.uniform(0, days * 86_400))
        ids = list(range(written + 1, written + posts + 1))
        written += posts
        case, story, after = desk.case(rng, case_id, opened, ids)
        rows.add(Case, case)
        for number, mention_id in enumerate(ids):
            mention = desk.mention(rng, case, number, mention_id)
            rows.add(Mention, mention)
            rows.add(Classification, desk.classification(rng, case, number, mention))
            if rng.random() < 0.6:
                rows.add(
                    TermMatch,
                    {
                        "mention_id": mention_id,
                        "term": "Velora Pulse",
                        "kind": "product",
                        "brand": "Velora",
                        "product": rng.choice(PRODUCTS[:3]),
                        "matched_text": "Velora Pulse",
                        "start": 0,
                        "end": 12,
                        "score": 100.0,
                    },
                )
        for item in story:
            rows.add(CaseEvent, item)
        for table, row in after:
            rows.add(table, row)
        if rng.random() < 0.05:
            answered = min(case["last_activity_at"] + timedelta(hours=1), NOW)
            rows.add(
                CsatResponse,
                {"case_id": case_id, "score": rng.randint(1, 5), "comment": "", "answered_at": answered},
            )
    rows.flush()


# -- the queue's desk ------------------------------------------------------------------------------

FIRST_NAMES = (
    "Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sofia", "Matteo", "Elena",
    "Davide", "Emma", "Oliver", "Amelia", "Harry", "Isla", "Jack", "Grace", "Noah", "Mia", "Leo",
)  # fmt: skip
LAST_NAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Moretti",
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Hughes", "Clarke",
)  # fmt: skip
SOURCES = {"x": "x-velora", "reddit": "reddit", "feed": "web-alerts"}  # the example configuration's
WORDS = {
    "complaint": {
        "en": (
            "{product} stopped syncing again after the update, third time this week",
            "Ordered a {product} ten days ago and still no tracking number. Anyone there?",
            "My {product} keeps restarting on its own, support is nowhere to be found",
            "Charged twice for {product} and nobody answers the phone",
        ),
        "it": (
            "Il mio {product} si spegne da solo, assistenza introvabile",
            "{product} non si sincronizza più dopo l'aggiornamento, terza volta questa settimana",
            "Ordinato {product} dieci giorni fa e ancora nessun numero di spedizione",
            "Addebitato due volte per {product}, nessuno risponde",
        ),
    },
    "inquiry": {
        "en": ("Does {product} work with two accounts on one phone?", "How do I reset {product}?"),
        "it": ("Quando arriva {product} in Italia? Si può preordinare?", "Come si resetta {product}?"),
    },
    "praise": {
        "en": ("Honestly {product} is the best thing I bought this year, setup took two minutes",),
        "it": ("Grazie al supporto Velora, risolto in dieci minuti!", "{product} funziona benissimo"),
    },
    "other": {
        "en": ("Anyone going to the {product} launch event on Friday?",),
        "it": ("Qualcuno va alla presentazione di {product} venerdì?",),
    },
}
# One of these ends half the posts, so each word of them is in about one post in a hundred.
DETAILS = {
    "en": (
        "the app says error 42", "tried turning it off and on", "the courier left a note",
        "the invoice is wrong", "my card was declined", "the battery drains overnight",
        "the screen flickers", "the box was damaged", "the password reset never arrives",
        "bluetooth pairing fails every time", "the refund is still pending", "customer service hung up",
        "the firmware is outdated", "the charger gets hot", "the order page is blank",
        "the warranty form does not load", "I waited on hold for an hour", "the voucher code expired",
        "the widget freezes", "the tracking link is broken", "the subscription renewed twice",
        "the manual is only in German", "the sensor reads nonsense", "the strap broke",
        "I was charged in dollars", "the update bricked it", "the delivery went to my neighbour",
        "the login loops", "the colour is not what I ordered", "it beeps at night",
    ),
    "it": (
        "l'app dice errore 42", "ho provato a spegnere e riaccendere", "il corriere ha lasciato un avviso",
        "la fattura è sbagliata", "la carta è stata rifiutata", "la batteria si scarica di notte",
        "lo schermo sfarfalla", "la scatola era rovinata", "il reset della password non arriva",
        "l'abbinamento bluetooth fallisce sempre", "il rimborso è ancora in attesa",
        "il servizio clienti ha riattaccato", "il firmware è vecchio", "il caricatore si scalda",
        "la pagina dell'ordine è vuota", "il modulo di garanzia non si carica",
        "ho aspettato un'ora in linea", "il buono è scaduto", "il widget si blocca",
        "il link di tracciamento non funziona", "l'abbonamento si è rinnovato due volte",
        "il manuale è solo in tedesco", "il sensore legge valori assurdi", "il cinturino si è rotto",
        "mi hanno addebitato in dollari", "l'aggiornamento l'ha bloccato",
        "la consegna è andata al vicino", "il login va in loop", "il colore non è quello ordinato",
        "suona di notte",
    ),
}  # fmt: skip
SUGGESTED = {
    "en": "Hi {name}, sorry about this. Could you send us your order number in a direct message?",
    "it": "Ciao {name}, ci dispiace. Ci mandi il numero d'ordine in un messaggio privato?",
}


@dataclass
class Staff:
    """Who works each team's cases, by employee id; the teams' supervisor takes a few of every team's."""

    agents: dict[str, list[int]]
    supervisor: int

    @classmethod
    def of(cls, config: Config, ids: dict[str, int]) -> Staff:
        supervisors = {ids[team.supervisor] for team in config.teams if team.supervisor}
        agents = {
            team.name: [
                ids[person.email]
                for person in config.employees
                if team.name in person.teams and ids[person.email] not in supervisors
            ]
            for team in config.teams
        }
        return cls(agents=agents, supervisor=min(supervisors))

    def pick(self, rng: random.Random, team: str | None) -> int:
        if team is None or rng.random() < 0.08:
            return self.supervisor
        return rng.choice(self.agents[team])


class StaffedDesk(History):
    """The example configuration's desk at work: about 3.3 posts per case, customers of X, Reddit
    and the web (a hundredth of them writing a fifth of the cases), in English and Italian, routed
    as its rules route, taken by its people and answered; most cases closed (resolved, some spam or
    ignored), a backlog of open ones from the last days with their deadlines, and suggested
    replies on some open X cases nobody has answered."""

    posts_per_case = (1, 1, 1, 2, 2, 3, 4, 5, 6, 8)

    def __init__(self, config: Config, staff: Staff) -> None:
        self.config, self.staff = config, staff
        self.first_names: dict[int, str] = {}
        self.posts: list[datetime] = []  # the times of the posts of the case being written
        self.outbox = 0

    def author(self, rng: random.Random, number: int) -> Row:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = f"{first}_{last}{number}" if number % 3 == 0 else f"{first}{last[:1]}{number}"
        self.first_names[number] = first
        return {
            "id": number,
            "platform": _platform(number),
            "external_id": str(number),
            "handle": handle.lower(),
            "name": f"{first} {last}",
            "followers": int(rng.paretovariate(1.2) * 50),
            "blocked": False,
        }

    def _customer(self, rng: random.Random) -> int:
        regulars = max(self.customers // 100, 1)
        return rng.randint(1, regulars) if rng.random() < 0.2 else rng.randint(1, self.customers)

    def case(
        self, rng: random.Random, case_id: int, opened: datetime, mentions: list[int]
    ) -> tuple[Row, Story, list[tuple[Any, Row]]]:
        author = self._customer(rng)
        category = rng.choices(("complaint", "inquiry", "praise", "other"), (40, 30, 15, 15))[0]
        cluster, product = rng.choice(CLUSTERS), rng.choice(PRODUCTS)
        language = "it" if rng.random() < 0.55 else "en"
        row: Row = {
            "id": case_id,
            "source_id": SOURCES[_platform(author)],
            "platform": _platform(author),
            "author_id": author,
            "thread_key": str(case_id),
            "status": "new",
            "category": category,
            "cluster": cluster,
            "priority": rng.choices(("urgent", "high", "normal", "low"), (2, 18, 70, 10))[0],
            "language": language,
            "brand": "Velora",
            "product": product,
            "team": _route(category, cluster, product, language, unrouted=rng.random() < 0.05),
            "opened_at": opened,
            "suggested_reply": "",
        }
        self.posts = [opened]
        for _ in mentions[1:]:
            self.posts.append(self.posts[-1] + timedelta(minutes=rng.uniform(5, 300)))
        story, outbox = self._story(rng, row, mentions)
        self._settle(rng, row, story)
        return row, story, [(OutboxEntry, entry) for entry in outbox]

    def _story(self, rng: random.Random, case: Row, mentions: list[int]) -> tuple[Story, list[Row]]:
        """What happened to the case up to NOW, in time order, and the messages we sent."""
        opened, posts = case["opened_at"], self.posts
        story: Story = []
        outbox: list[Row] = []

        def event(kind: str, at: datetime, status: str | None, by: int | None = None, **detail: Any) -> None:
            row = {"case_id": case["id"], "kind": kind, "actor": "employee" if by else "system"}
            story.append({**row, "employee_id": by, "at": at, "to_status": status, "detail": detail})

        def message(purpose: str, at: datetime, by: int | None) -> int:
            self.outbox += 1
            outbox.append(_outbox_row(self.outbox, case, purpose, at, by=by, post=mentions[0]))
            return self.outbox

        fate = _fate(rng, opened)
        event("opened", opened, "new", mention_id=mentions[0])
        if case["category"] in ("complaint", "inquiry") and case["platform"] != "feed" and rng.random() < 0.7:
            at = opened + timedelta(minutes=rng.uniform(0.5, 10))
            event("acknowledged", at, "acknowledged", outbox_id=message("acknowledgement", at, None))
        person = None
        if fate not in ("new", "acknowledged") and case["team"] and rng.random() < 0.97:
            person = self.staff.pick(rng, case["team"])
            at = opened + timedelta(minutes=rng.uniform(1, 25))
            event("assigned", at, "assigned", team=case["team"], assignee_id=person, rule="round_robin")
        replied = None
        if person is not None and fate in ("resolved", "responded", "assigned") and rng.random() < 0.9:
            after = posts[-1] if fate == "responded" else posts[0]
            replied = after + timedelta(minutes=rng.uniform(4, 150))
            outbox_id = message("reply", replied, person)
            event("reply_queued", replied, None, person, outbox_id=outbox_id)
            reached = replied + timedelta(seconds=20)
            event("responded", reached, "responded", person, first=True, outbox_id=outbox_id)
        for mention_id, at in zip(mentions[1:], posts[1:], strict=True):
            event("mention_added", at, None, mention_id=mention_id)
        if fate == "assigned" and replied and posts[-1] > replied:
            event("customer_replied", posts[-1], "assigned", mention_id=mentions[-1])
        if fate in ("spam", "ignored"):
            by = person or self.staff.pick(rng, case["team"])
            event(f"marked_{fate}", opened + timedelta(minutes=rng.uniform(2, 240)), fate, by)
        elif fate == "resolved":
            at = max(item["at"] for item in story) + timedelta(minutes=rng.uniform(10, 2000))
            event("resolved", at, "resolved", person)
        story = sorted((item for item in story if item["at"] <= NOW), key=lambda item: item["at"])
        sent = {item["detail"].get("outbox_id") for item in story}
        return story, [entry for entry in outbox if entry["id"] in sent]

    def _settle(self, rng: random.Random, case: Row, story: Story) -> None:
        """The case's columns as its story left them, and its deadlines as the service sets them."""
        status, firsts = "new", {}
        for item in story:
            if item["kind"] == "acknowledged":  # moves a new case only
                item["to_status"] = "acknowledged" if status == "new" else None
            item["from_status"] = status if item["to_status"] else None
            status = item["to_status"] or status
            firsts.setdefault(item["kind"], item["at"])
        answered = firsts.get("responded")
        unanswered = [at for at in self.posts if at <= NOW and (answered is None or at > answered)]
        waiting = status in ("new", "acknowledged", "assigned") and bool(unanswered)
        assigned = [item["detail"]["assignee_id"] for item in story if item["kind"] == "assigned"]
        case.update(
            status=status,
            assignee_id=assigned[-1] if assigned else None,
            acknowledged_at=firsts.get("acknowledged"),
            assigned_at=firsts.get("assigned"),
            first_response_at=answered,
            resolved_at=firsts.get("resolved"),
            last_activity_at=max(item["at"] for item in story),
            awaiting_reply_since=min(unanswered) if waiting else None,
        )
        if case["platform"] == "x" and waiting and answered is None and rng.random() < 0.4:
            name = self.first_names.get(case["author_id"], "")
            case["suggested_reply"] = SUGGESTED[case["language"]].format(name=name)
        self._deadlines(case)

    def _deadlines(self, case: Row) -> None:
        """Due times by the configuration's policies; the alerts whose time has come taken as made."""
        draft = Case(**{key: value for key, value in case.items() if key != "id"})
        made = [
            (clock.target, level, clock.due_at)
            for clock in running_clocks(self.config, draft)
            for level in (WARNING, BREACH)
            if clock.alert_at(level) <= NOW
        ]
        set_due_times(self.config, draft, made)
        for name in ("ack_due_at", "response_due_at", "resolution_due_at", "sla_next_alert_at"):
            case[name] = getattr(draft, name)

    def mention(self, rng: random.Random, case: Row, number: int, mention_id: int) -> Row:
        language, product = case["language"], case["product"] or "Velora"
        words = rng.choice(WORDS[case["category"]][language]).format(product=product)
        if rng.random() < 0.5:
            words += ", " + rng.choice(DETAILS[language])
        posted = self.posts[number]
        host = {"x": "x.com", "reddit": "www.reddit.com", "feed": "forum.example.com"}[case["platform"]]
        return {
            "id": mention_id,
            "source_id": case["source_id"],
            "platform": case["platform"],
            "external_id": str(mention_id),
            "url": f"https://{host}/post/{mention_id}",
            "author_id": case["author_id"],
            "text": words,
            "language": language,
            "posted_at": posted,
            "fetched_at": posted,
            "direct": True,
            "is_retweet": False,
            "raw": {},
            "case_id": case["id"],
            "processed_at": posted,
        }

    def classification(self, rng: random.Random, case: Row, number: int, mention: Row) -> Row:
        return {**super().classification(rng, case, number, mention), "language": case["language"]}


_STILL_OPEN = (  # the share of cases still open, by age
    (timedelta(hours=12), 0.6),
    (timedelta(hours=36), 0.3),
    (timedelta(days=3), 0.12),
    (timedelta(days=14), 0.02),
)


def _platform(author: int) -> str:
    """Each customer writes on one platform: six in ten on X, a quarter on Reddit, the rest on the web."""
    return "x" if author % 20 < 12 else "reddit" if author % 20 < 17 else "feed"


def _route(category: str, cluster: str, product: str, language: str, *, unrouted: bool) -> str | None:
    """The example configuration's routing rules, in their order; a few chats go unrouted."""
    money = category in ("complaint", "inquiry") and cluster in ("billing", "account")
    if money or product == "Velora Pay":
        return "payments"
    if category == "other" and unrouted:
        return None
    return "care-it" if language == "it" else "care-en"


def _fate(rng: random.Random, opened: datetime) -> str:
    """How the case stands at NOW, if nothing of its story is still to come: closed for nearly all,
    open (in one of the working states) for many of the last days' cases."""
    age = NOW - opened
    if rng.random() < next((share for limit, share in _STILL_OPEN if age < limit), 0.003):
        return rng.choices(("new", "acknowledged", "assigned", "responded"), (15, 15, 35, 35))[0]
    return rng.choices(("resolved", "spam", "ignored"), (90, 4, 6))[0]


def _outbox_row(number: int, case: Row, purpose: str, at: datetime, *, by: int | None, post: int) -> Row:
    recent = at > NOW - timedelta(minutes=2)
    return {
        "id": number,
        "idempotency_key": f"bench-{number}",
        "case_id": case["id"],
        "source_id": case["source_id"],
        "purpose": purpose,
        "in_reply_to": str(post),
        "text": "Thanks for writing, we are looking into it." if by is None else "Here is what to do.",
        "state": "pending" if recent else "sent",
        "attempts": 0 if recent else 1,
        "created_by": f"employee:{by}" if by else "system",
        "created_at": at,
        "next_attempt_at": at,
        "platform_reply_id": None if recent else f"r{number}",
        "sent_at": None if recent else at + timedelta(seconds=20),
    }


# -- where to build ---------------------------------------------------------------------------------


@contextmanager
def database(
    engine_name: str, keep: Path | None, label: str, prefix: str = "bench"
) -> Iterator[tuple[Engine, Callable[[], str]]]:
    """A database to build in: temporary, or with ``keep`` one that stays for the next run
    (a file in ``keep``, or a PostgreSQL database named after ``prefix`` and ``label``)."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            path = (keep or Path(scratch)) / f"{prefix}-{label}.db"
            engine = make_engine(f"sqlite:///{path}")
            yield engine, lambda: f"{path.stat().st_size / 2**20:,.0f} MB"
            engine.dispose()
        return
    name = f"social_care_{prefix}_{label}" if keep else f"social_care_{prefix}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        if not keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)

    def size() -> str:
        with engine.connect() as connection:
            used = connection.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
        return f"{used / 2**20:,.0f} MB"

    try:
        yield engine, size
    finally:
        engine.dispose()
        if not keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def built_already(engine: Engine, mentions: int) -> int | None:
    """The cases of a kept database that holds its ``mentions`` and their rollups; None when empty."""
    with engine.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM mentions")).scalar()
        shared = connection.execute(text("SELECT count(*) FROM case_contributions")).scalar()
    if held == mentions and shared:
        return shared
    if held:
        raise SystemExit(f"{engine.url.database}: a kept database left half built; drop it and run again")
    return None
