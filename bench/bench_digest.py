"""What the figures cost on a year's worth of data: one brand's digest, a month's report, one SLA sweep.

Usage:
    .venv/bin/python bench/bench_digest.py [--mentions 100000,1000000] [--engines sqlite,postgresql]
                                           [--days 90] [--seed 7] [--runs 3] [--keep DIR]

For each size and engine it builds a fresh database (a temporary SQLite file, or
a scratch PostgreSQL database at $SOCIAL_CARE_TEST_PG or 127.0.0.1:5432, dropped
after), migrated, holding that many customer posts over ``--days`` days: one to
three posts per case, each case with the events the service records (opened,
assigned, acknowledged, answered, most resolved, some breached, some surveys),
classifications and product matches, written in bulk. The rollups are then
rebuilt from the events (``social-care rollups rebuild``; its time is printed
too). It times, best of ``--runs``:

- building one brand's digest for the last day (every figure of the mail,
  the day before and the seven days before included);
- ``measure`` over the last 30 days (what ``social-care report`` prints);
- one SLA sweep with 1,000 cases due an alert (a new thousand each run, after one sweep
  to warm up, as a worker's sweeper is).

and prints each with the database's size, and how each grew from the first size
to the last. A million posts take about half an hour to build and roll up; with
``--keep DIR`` the databases stay (SQLite files in DIR, PostgreSQL databases
named by size, days and seed) and the next run with ``--keep`` times them again
without building. Nothing touches the network but the local PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from social_care.config import Config, load_config
from social_care.config.models import DigestRecipient
from social_care.digest.build import build_digest
from social_care.metrics import Period, measure, rollups
from social_care.resources import example_config
from social_care.sla.sweeper import Alert, Sweeper
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import (
    Author,
    Case,
    CaseEvent,
    Classification,
    CsatResponse,
    Mention,
    TermMatch,
)

NOW = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)  # a morning, as the digest goes out
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
DUE_FOR_SWEEP = 1_000
SWEPT = "(picked for a timed sweep)"
PG_ADMIN = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


WRITE_ORDER = (Author, Case, Mention, CaseEvent, Classification, TermMatch, CsatResponse)


class Quiet:
    def notify(self, session: Session, alert: Alert) -> None:
        pass


@dataclass
class Rows:
    """Rows to write, by table, flushed in chunks so memory stays flat."""

    engine: Engine
    pending: dict[Any, list[dict[str, Any]]]

    def add(self, table: Any, row: dict[str, Any]) -> None:
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


def _measured(due: datetime, at: datetime) -> dict[str, Any]:
    return {"due_at": due.isoformat(), "met": at <= due}


def _events(
    rng: random.Random, case_id: int, opened: datetime, mentions: list[int]
) -> tuple[list[dict[str, Any]], str, datetime]:
    """The case's story up to NOW, its status then, and the time of its last event.

    As on a working desk: nearly every case is answered, and every case older than
    three days is resolved, so the backlog holds the last days' open cases.
    """
    story: list[dict[str, Any]] = []

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


def build(engine: Engine, mentions: int, days: int, seed: int) -> None:
    """``mentions`` posts over ``days`` days up to NOW, in cases of one to three posts each."""
    rng = random.Random(seed)
    rows = Rows(engine, {})
    authors = max(mentions // 4, 1)
    for number in range(1, authors + 1):
        rows.add(
            Author,
            {
                "id": number,
                "platform": "x",
                "external_id": str(number),
                "handle": f"user{number}",
                "name": f"User {number}",
                "followers": int(rng.paretovariate(1.2) * 50),
                "blocked": False,
            },
        )
    rows.flush()
    start, written, case_id = NOW - timedelta(days=days), 0, 0
    while written < mentions:
        case_id += 1
        posts = min(rng.choice((1, 1, 1, 2, 3)), mentions - written)
        opened = start + timedelta(seconds=rng.uniform(0, days * 86_400))
        source, platform = rng.choice(PLATFORMS)
        category, priority = rng.choice(CATEGORIES), rng.choice(("normal", "normal", "high"))
        ids = list(range(written + 1, written + posts + 1))
        written += posts
        story, status, last = _events(rng, case_id, opened, ids)
        due = opened + timedelta(hours=rng.uniform(-2, 4)) if case_id % 97 == 0 else None
        rows.add(
            Case,
            {
                "id": case_id,
                "source_id": source,
                "platform": platform,
                "author_id": rng.randint(1, authors),
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
            },
        )
        for number, mention_id in enumerate(ids):
            posted = opened + timedelta(minutes=number * rng.uniform(5, 300))
            rows.add(
                Mention,
                {
                    "id": mention_id,
                    "source_id": source,
                    "platform": platform,
                    "external_id": str(mention_id),
                    "url": f"https://x.com/user/status/{mention_id}",
                    "author_id": rng.randint(1, authors),
                    "text": rng.choice(SAYINGS[category]).format(product=rng.choice(PRODUCTS[:3])),
                    "posted_at": posted,
                    "fetched_at": posted,
                    "direct": True,
                    "is_retweet": False,
                    "raw": {},
                    "case_id": case_id,
                    "processed_at": posted,
                },
            )
            rows.add(
                Classification,
                {
                    "mention_id": mention_id,
                    "category": category if number == 0 else rng.choice(CATEGORIES),
                    "cluster": rng.choice(CLUSTERS),
                    "sentiment": 0.0,
                    "priority": priority,
                    "language": "en",
                    "confidence": 0.8,
                    "reasons": [],
                    "decided_by": "rules",
                    "decided_at": posted,
                    "current": True,
                },
            )
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
        if rng.random() < 0.05:
            rows.add(
                CsatResponse,
                {
                    "case_id": case_id,
                    "score": rng.randint(1, 5),
                    "comment": "",
                    "answered_at": min(last + timedelta(hours=1), NOW),
                },
            )
    rows.flush()


def _sweep_data(engine: Engine) -> None:
    """Exactly 1,000 open cases due an alert now, the newest not picked before (marked in a
    column the sweep does not read): the sweep's work, new each time, so every alert is made
    and every case's figures change.

    The cases are reopened behind the service's back, so their rollups are brought up to date
    here, as the service would have when they changed: the sweep is timed on its own work."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET sla_next_alert_at = NULL WHERE sla_next_alert_at IS NOT NULL")
        )
        due = connection.execute(
            text(
                "UPDATE cases SET status = 'assigned', resolved_at = NULL, sla_next_alert_at = :due,"
                " ack_due_at = :due, response_due_at = :later, suggested_reply = :mark WHERE id IN"
                " (SELECT id FROM cases WHERE suggested_reply <> :mark ORDER BY opened_at DESC LIMIT :count)"
                " RETURNING id"
            ),
            {
                "due": NOW - timedelta(minutes=5),
                "later": NOW + timedelta(hours=1),
                "count": DUE_FOR_SWEEP,
                "mark": SWEPT,
            },
        ).scalars()
        case_ids = sorted(due)
    with Session(engine) as session:
        rollups.refresh_cases(session, case_ids)
        session.commit()


def sweep_time(engine: Engine, config: Config, runs: int) -> tuple[float, int]:
    """The best of ``runs`` sweeps, each of a new thousand due cases, after one to warm up (as a
    worker's sweeper is, each minute); and how many alerts that one made."""
    sweeper = Sweeper(engine, config, clock=lambda: NOW, notifier=Quiet())
    timed = []
    for _ in range(runs + 1):
        _sweep_data(engine)
        started = time.perf_counter()
        swept = sweeper.run_once(limit=DUE_FOR_SWEEP)
        timed.append((time.perf_counter() - started, swept.warnings + swept.escalations))
    return min(timed[1:])


def best(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


@contextmanager
def database(engine_name: str, keep: Path | None, label: str) -> Iterator[tuple[Engine, Callable[[], str]]]:
    """A database to build in: temporary, or with ``keep`` one that stays for the next run
    (a file in ``keep``, or a PostgreSQL database named after ``label``)."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            path = (keep or Path(scratch)) / f"bench-{label}.db"
            engine = make_engine(f"sqlite:///{path}")
            yield engine, lambda: f"{path.stat().st_size / 2**20:,.0f} MB"
            engine.dispose()
        return
    name = f"social_care_bench_{label}" if keep else f"social_care_bench_{os.getpid()}"
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


def measure_one(
    config: Config, engine_name: str, mentions: int, arguments: argparse.Namespace
) -> dict[str, float]:
    days, seed, runs = arguments.days, arguments.seed, arguments.runs
    with database(engine_name, arguments.keep, f"{mentions}_{days}_{seed}") as (engine, size):
        migrate.upgrade(engine)
        cases = built_already(engine, mentions)
        built = rebuilt = "kept"
        if cases is None:
            started = time.perf_counter()
            build(engine, mentions, days, seed)
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            built = f"{time.perf_counter() - started:.0f}s"
            started = time.perf_counter()
            cases = rollups.rebuild(engine)
            rebuilt = f"{time.perf_counter() - started:.0f}s"
        recipient = DigestRecipient(email="manager@velora.example", timezone="Europe/Rome", language="en")
        month = Period(NOW - timedelta(days=30), NOW)
        with Session(engine) as session:
            digest = best(lambda: build_digest(session, config, recipient, now=NOW, brand="Velora"), runs)
            report = best(lambda: measure(session, config, month), runs)
        sweep, alerts = sweep_time(engine, config, runs)
        print(
            f"{engine_name:>10} {mentions:>10,} {cases:>9,} {size():>9} {built:>9} {rebuilt:>9}"
            f" {digest:>8.2f}s {report:>8.2f}s {sweep:>8.2f}s  ({alerts} alerts)",
            flush=True,
        )
        return {"digest": digest, "report": report, "sweep": sweep}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the databases built (SQLite files in DIR, PostgreSQL databases by size) and reuse them",
    )
    arguments = parser.parse_args()
    config = load_config(example_config(), environ={})
    sizes = [int(value) for value in arguments.mentions.split(",")]
    print(
        f"{'engine':>10} {'mentions':>10} {'cases':>9} {'size':>9} {'build':>9} {'rollups':>9}"
        f" {'digest':>9} {'report':>9} {'sweep':>9}"
    )
    for engine_name in arguments.engines.split(","):
        figures = [measure_one(config, engine_name, size, arguments) for size in sizes]
        if len(figures) > 1:
            growth = ", ".join(
                f"{name} x{figures[-1][name] / max(figures[0][name], 1e-6):.1f}"
                for name in ("digest", "report", "sweep")
            )
            print(f"{'':>10} growth from {sizes[0]:,} to {sizes[-1]:,} mentions: {growth}")


if __name__ == "__main__":
    main()
