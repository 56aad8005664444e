"""What the inbox's queue costs on a desk with a long history: every view, filter, search, a second
page, a bulk action and a case page, through the real web application.

Usage:
    .venv/bin/python bench/bench_queue.py [--mentions 100000,1000000] [--engines sqlite,postgresql]
                                          [--days 90] [--seed 7] [--requests 30] [--rounds 3]
                                          [--keep DIR] [--name queue] [--only REGEX] [--plans 3]

For each size and engine it builds a database (``seeding.StaffedDesk``: the example
configuration's teams and people working about one case per 3.3 posts over ``--days``
days, most closed, a backlog of open ones from the last days with their deadlines),
rebuilds the rollups as the service keeps them, then signs in as an agent of one team
(Luca Marino, care-it), a supervisor (Chiara Conti) and an admin through the login
page, and drives the application in-process (``fastapi.testclient.TestClient``, the
clock at the data's last moment).

Each page is requested ``--requests`` times after one request to warm up, in
``--rounds`` rounds (every page, then every page again), and the round with the
lowest p95 is kept: on a machine shared with other work a round caught by someone
else's tests says nothing about the page. Printed per page: the rows it showed, p50
and p95 (nearest rank) in milliseconds, and the p50 of the time its SQL statements
took (``before/after_cursor_execute``), the rest being Python: the ORM, the template.
The bulk action is timed alone (the POST, not the queue it leads back to): 50 cases of
the open queue set to high priority, then the next 50 back to normal, so the data
stays as it was. For the pages over the target (100 ms at p95) and the ``--plans``
slowest others, the slowest statements of their slowest request are printed with
their plans (SQLite's ``EXPLAIN QUERY PLAN``, PostgreSQL's ``EXPLAIN ANALYZE``). At
the end, a table of every page at every size, with how p50 and p95 grew from the
first size to the last.

With ``--keep DIR`` the databases stay (SQLite files in DIR, PostgreSQL databases named
``social_care_<name>_<size>_<days>_<seed>``) and the next run times them again
without building; ``--name`` picks another set, such as a copy with an index added.
The bulk action's corrections stay in a kept database (1,500 cases a round, put back
to their priority but with their events). Nothing touches the network but the local
PostgreSQL.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seeding import NOW, Staff, StaffedDesk, build, built_already, database

from social_care.config import Config
from social_care.directory import sync_directory
from social_care.metrics import rollups
from social_care.resources import example_config
from social_care.storage import migrate
from social_care.storage.tables import Author, Employee
from social_care.users import set_employee_password
from social_care.web.app import create_app

TARGET_MS = 100.0
PASSWORD = "bench password, not a secret"
PEOPLE = {
    "agent": "luca.marino@velora.example",
    "supervisor": "chiara.conti@velora.example",
    "admin": "admin@velora.example",
}
WORD = "bluetooth"  # in one post in sixty (a detail both languages' posts may end with)
BULK_CASES = 50
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SELECTED = re.compile(r'name="cases" value="(\d+:\d+)"')
_NEXT = re.compile(r'id="next-page" href="([^"]+)"')
_CASE_LINK = re.compile(r'class="ref" href="/cases/(\d+)"')
_BUSIEST = "SELECT author_id, count(*) FROM cases GROUP BY author_id ORDER BY count(*) DESC LIMIT 1"
_NOTICE = re.compile(r'<p class="notice" role="status">([^<]*)</p>')


def bench_config() -> Config:
    """The example configuration, its people answering from every source (as they would on a real
    desk; the example lets them answer only from the demo)."""
    raw = tomllib.loads(example_config().read_text(encoding="utf-8"))
    sources = [source["id"] for source in raw["sources"]]
    for person in raw["employees"]:
        person["accounts"] = sources
    return Config.model_validate(raw)


# -- statements ------------------------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    ms: float


@dataclass
class Recorder:
    """Every statement the engine runs while ``recording``, with its time."""

    recording: list[Statement] | None = None

    def attach(self, engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def started(connection: Any, _cursor: Any, _sql: str, _parameters: Any, *_: Any) -> None:
            connection.info["bench_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def ended(connection: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            if self.recording is not None:
                took = (time.perf_counter() - connection.info.pop("bench_started")) * 1000
                self.recording.append(Statement(sql, parameters, took))

    @contextmanager
    def statements(self) -> Iterator[list[Statement]]:
        self.recording = []
        try:
            yield self.recording
        finally:
            self.recording = None


def plan(engine: Engine, statement: Statement) -> list[str]:
    """The database's plan for ``statement``: SQLite's query plan as a tree, PostgreSQL's as run."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.parameters)
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        found = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters
        ).scalars()
        lines = list(found)
        connection.rollback()
        return lines


# -- people and pages ------------------------------------------------------------------------------


def signed_in(app: Any, email: str) -> TestClient:
    """A browser of ``email``, signed in through the login page."""
    client = TestClient(app)
    token = _CSRF.search(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": token.group(1) if token else ""},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise SystemExit(f"{email} could not sign in: {response.status_code}")
    return client


@dataclass
class Facts:
    """What some pages ask about: people's ids, a busy customer's handle, dates in the desk's zone."""

    ids: dict[str, int]
    handle: str
    handle_cases: int
    since: str
    until: str

    @classmethod
    def of(cls, engine: Engine, config: Config) -> Facts:
        with Session(engine) as session:
            ids = {email: id_ for email, id_ in session.exec(select(Employee.email, Employee.id)) if id_}
            busiest = (
                "SELECT author_id, count(*) FROM cases GROUP BY author_id ORDER BY count(*) DESC LIMIT 1"
            )
            author_id, cases = session.execute(text(busiest)).one()
            author = session.get_one(Author, author_id)
        today = NOW.astimezone(ZoneInfo(config.service.timezone)).date()
        return cls(
            ids=ids,
            handle=author.handle,
            handle_cases=cases,
            since=str(today - timedelta(days=7)),
            until=str(today - timedelta(days=1)),
        )


@dataclass(frozen=True)
class Page:
    label: str
    who: str
    path: str = ""
    kind: str = "get"  # get | next (the page after ``path``) | bulk | case (cases listed at ``path``)


def pages(facts: Facts) -> list[Page]:
    luca, sara = facts.ids[PEOPLE["agent"]], facts.ids["sara.greco@velora.example"]
    names = {str(luca): "Luca", str(sara): "Sara"}
    dates = {"since": facts.since, "until": facts.until}
    open_filters = {
        "status": "responded",
        "team": "care-en",
        "assignee": str(luca),
        "category": "complaint",
        "cluster": "billing",
        "priority": "high",
        "platform": "reddit",
        "source": "x-velora",
        "brand": "Velora",
        "product": "Velora Pay",
        "language": "it",
        "due": "overdue",
    }
    closed_filters = {
        "status": "resolved",
        "team": "payments",
        "assignee": str(sara),
        "category": "praise",
        "cluster": "delivery",
        "priority": "urgent",
        "platform": "feed",
        "source": "reddit",
        "brand": "Velora",
        "product": "Velora Casa",
        "language": "en",
        "due": "none",
    }
    together = {"team": "care-it", "category": "complaint", "priority": "normal", "language": "it"}
    found: list[Page] = []

    def get(who: str, label: str = "", **params: str) -> None:
        shown = params["view"] + (f" · {label}" if label else "")
        found.append(Page(shown, who, "/queue?" + urlencode(params)))

    for view in ("mine", "team", "waiting", "suggested", "due", "closed"):
        get("agent", view=view)
    for view in ("open", "mine", "team", "waiting", "suggested", "due", "closed"):
        get("supervisor", view=view)
    for view in ("open", "closed"):
        get("admin", view=view)
    for view, who, filters in (("open", "supervisor", open_filters), ("closed", "admin", closed_filters)):
        for name, value in filters.items():
            get(who, f"{name}={names.get(value, value)}", view=view, **{name: value})
        get(who, f"{facts.since}..{facts.until}", view=view, **dates)
        more = {"platform": "x", "due": "overdue"} if view == "open" else dates
        get(who, "+".join((*together, *more)), view=view, **together, **more)
        get(who, f"q={WORD}", view=view, q=WORD)
        get(who, "q=@busiest customer", view=view, q="@" + facts.handle)
    for order in ("priority", "newest", "reach"):
        get("supervisor", f"sort={order}", view="open", sort=order)
    for order in ("newest", "reach"):
        get("admin", f"sort={order}", view="closed", sort=order)
    found += [
        Page("open · next page", "supervisor", "/queue?view=open", kind="next"),
        Page("closed · next page", "admin", "/queue?view=closed", kind="next"),
        Page(f"closed · q={WORD} · next page", "admin", f"/queue?view=closed&q={WORD}", kind="next"),
        Page(f"bulk: priority of {BULK_CASES} open cases", "supervisor", kind="bulk"),
        Page("case page (open cases)", "supervisor", "/queue?view=open", kind="case"),
        Page("case page (my cases)", "agent", "/queue?view=mine", kind="case"),
    ]
    return found


# -- timing ----------------------------------------------------------------------------------------


@dataclass
class Timing:
    """One round of requests to a page: each one's time, and the time its SQL statements took."""

    page: Page
    times: list[float] = field(default_factory=list)  # ms
    sql: list[float] = field(default_factory=list)  # ms
    rows: int = 0
    slowest: list[Statement] = field(default_factory=list)  # the slowest request's
    note: str = ""

    def add(self, took: float, statements: list[Statement], rows: int) -> None:
        if not self.times or took > max(self.times):
            self.slowest = statements
        self.times.append(took)
        self.sql.append(sum(statement.ms for statement in statements))
        self.rows = max(self.rows, rows)

    def percentile(self, share: float, values: list[float] | None = None) -> float:
        """Nearest rank: of 30 requests, p50 is the 15th fastest and p95 the 29th."""
        ordered = sorted(self.times if values is None else values)
        return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else math.nan

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


def time_page(client: TestClient, recorder: Recorder, page: Page, requests: int) -> Timing:
    """``requests`` requests of ``page``, after one to warm up."""
    timing = Timing(page)
    if page.kind == "bulk":
        return _time_bulk(client, recorder, timing, requests)
    targets = _targets(client, page, requests + 1)
    if not targets:
        timing.note = "no such page here"
    for number, path in enumerate(targets):
        with recorder.statements() as statements:
            started = time.perf_counter()
            response = client.get(path)
            took = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{page.label}: {path} answered {response.status_code}")
        if number > 0:
            timing.add(took, statements, len(_SELECTED.findall(response.text)))
    return timing


def _targets(client: TestClient, page: Page, count: int) -> list[str]:
    """The addresses to request: the page itself, the page after it, or ``count`` of its cases."""
    if page.kind == "get":
        return [page.path] * count
    listed = client.get(page.path).text
    if page.kind == "next":
        found = _NEXT.search(listed)
        return [found.group(1).replace("&amp;", "&")] * count if found else []
    cases = list(dict.fromkeys(_CASE_LINK.findall(listed)))
    if not cases:
        raise SystemExit(f"{page.label}: {page.path} lists no case")
    return [f"/cases/{cases[number % len(cases)]}" for number in range(count)]


def _time_bulk(client: TestClient, recorder: Recorder, timing: Timing, requests: int) -> Timing:
    """Set 50 open cases of normal priority to high, then 50 of high to normal, and so on (one more
    untimed when needed, so the cases end as they were)."""
    done = 0
    for number in range(requests + 1 + requests % 2):
        before, after = ("normal", "high") if number % 2 == 0 else ("high", "normal")
        query = {"view": "open", "priority": before}
        listed = client.get("/queue?" + urlencode(query)).text
        token = _CSRF.search(listed)
        selected = _SELECTED.findall(listed)[:BULK_CASES]
        form = {"csrf": token.group(1) if token else "", "action": f"priority:{after}"}
        with recorder.statements() as statements:
            started = time.perf_counter()
            response = client.post(
                "/queue/bulk",
                data={**form, "cases": selected, "back": urlencode(query)},
                follow_redirects=False,
            )
            took = (time.perf_counter() - started) * 1000
        if response.status_code != 303:
            raise SystemExit(f"bulk action answered {response.status_code}: {response.text[:300]}")
        notices = _NOTICE.findall(client.get(response.headers["location"]).text)
        if 0 < number <= requests:
            done += int(found.group(1)) if notices and (found := re.match(r"(\d+) case", notices[0])) else 0
            timing.add(took, statements, len(selected))
    timing.note = f"{done:,} of {requests * BULK_CASES:,} cases changed"
    return timing


# -- one database ----------------------------------------------------------------------------------


def prepare(engine: Engine, config: Config, mentions: int, arguments: argparse.Namespace) -> str:
    """The database migrated, staffed and built (unless kept), the three people able to sign in;
    what building took."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        sync_directory(session, config)
        ids = {email: id_ for email, id_ in session.exec(select(Employee.email, Employee.id)) if id_}
    built = "kept"
    if built_already(engine, mentions) is None:
        started = time.perf_counter()
        desk = StaffedDesk(config, Staff.of(config, ids))
        build(engine, mentions, arguments.days, arguments.seed, desk)
        rollups.rebuild(engine)
        if engine.dialect.name == "postgresql":  # as autovacuum would have by now
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        built = f"{time.perf_counter() - started:.0f}s"
    for email in PEOPLE.values():
        set_employee_password(config, engine, email, PASSWORD)
    return built


def describe(engine: Engine) -> str:
    """The shape of the desk: cases, open ones, and how common the searched word is."""
    if engine.dialect.name == "sqlite":
        matching = "SELECT count(*) FROM mention_search WHERE mention_search MATCH :word"
    else:
        matching = (
            "SELECT count(*) FROM mentions WHERE to_tsvector('simple', text) @@ to_tsquery('simple', :word)"
        )
    with engine.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
        still = "SELECT count(*) FROM cases WHERE status IN ('new', 'acknowledged', 'assigned', 'responded')"
        backlog = connection.execute(text(still)).scalar_one()
        posts = connection.execute(text("SELECT count(*) FROM mentions")).scalar_one()
        word = connection.execute(text(matching), {"word": WORD}).scalar_one()
    return f"{cases:,} cases, {backlog:,} open; '{WORD}' in {word / posts:.1%} of posts"


def measure_one(
    config: Config, engine_name: str, mentions: int, arguments: argparse.Namespace
) -> dict[str, Timing]:
    label = f"{mentions}_{arguments.days}_{arguments.seed}"
    with database(engine_name, arguments.keep, label, prefix=arguments.name) as (engine, size):
        built = prepare(engine, config, mentions, arguments)
        print(f"\n{engine_name}, {mentions:,} posts: {describe(engine)}; {size()}, built {built}", flush=True)
        facts = Facts.of(engine, config)
        print(f"  the busiest customer: @{facts.handle}, {facts.handle_cases} cases", flush=True)
        only = re.compile(arguments.only or "")
        chosen = [page for page in pages(facts) if only.search(page.label)]
        timings = time_pages(config, engine, chosen, arguments)
        print_timings(timings)
        print_plans(engine, timings, arguments.plans)
        return timings


def time_pages(
    config: Config, engine: Engine, chosen: list[Page], arguments: argparse.Namespace
) -> dict[str, Timing]:
    """Every page's best round (the lowest p95) of ``--rounds``, the pages taking turns."""
    recorder = Recorder()
    recorder.attach(engine)
    app = create_app(config, engine, secret_key="bench-" + "k" * 40, clock=lambda: NOW)
    clients = {who: signed_in(app, email) for who, email in PEOPLE.items()}
    timings: dict[str, Timing] = {}
    for round_ in range(1, arguments.rounds + 1):
        for page in chosen:
            timing = time_page(clients[page.who], recorder, page, arguments.requests)
            name = f"{page.label} ({page.who})"
            if name not in timings or timing.p95 < timings[name].p95:
                timings[name] = timing
        print(f"  round {round_} of {arguments.rounds} done", flush=True)
    return timings


def print_timings(timings: dict[str, Timing]) -> None:
    print(f"  {'page':<52} {'who':<10} {'rows':>4} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8}")
    for timing in timings.values():
        page = timing.page
        print(
            f"  {page.label:<52} {page.who:<10} {timing.rows:>4} {timing.percentile(0.5):>8.1f}"
            f" {timing.p95:>8.1f} {timing.percentile(0.5, timing.sql):>8.1f}"
            f"{'  over' if timing.p95 > TARGET_MS else ''} {timing.note}",
            flush=True,
        )


def print_plans(engine: Engine, timings: dict[str, Timing], others: int) -> None:
    """The slowest statements of the pages over the target, and of the ``others`` slowest pages."""
    timed = [item for item in timings.items() if item[1].times]
    ranked = sorted(timed, key=lambda item: -item[1].p95)
    chosen = [item for number, item in enumerate(ranked) if number < others or item[1].p95 > TARGET_MS]
    for name, timing in chosen:
        total = sum(statement.ms for statement in timing.slowest)
        print(
            f"\n  {name}: p95 {timing.p95:.1f} ms; its slowest request ran"
            f" {len(timing.slowest)} statements taking {total:.1f} ms"
        )
        slowest = sorted(timing.slowest, key=lambda statement: -statement.ms)[:3]
        for statement in slowest:
            print(f"    {statement.ms:8.1f} ms  {' '.join(statement.sql.split())[:160]}")
        for statement in slowest[:2]:
            if not statement.sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            print(
                f"\n    plan of the {statement.ms:.1f} ms statement:\n    {' '.join(statement.sql.split())}"
            )
            print(f"    parameters: {statement.parameters}")
            for line in plan(engine, statement):
                print(f"      {line}")


# -- the run ---------------------------------------------------------------------------------------


def summary(sizes: list[int], results: dict[tuple[str, int], dict[str, Timing]]) -> None:
    """Every page at every size and engine (p50 / p95 in ms), and how each grew from the first size
    to the last."""
    engines = list(dict.fromkeys(engine for engine, _ in results))
    names = list(dict.fromkeys(name for timings in results.values() for name in timings))
    head = "".join(f" {f'{engine} {size:,}':>19}" for engine in engines for size in sizes)
    growth = "".join(f" {engine + ' growth':>19}" for engine in engines) if len(sizes) > 1 else ""
    print(f"\np50 / p95 in ms, {TARGET_MS:.0f} ms the target at p95 (* over it)")
    print(f"{'page':<66}{head}{growth}")
    for name in names:
        cells, grown = "", ""
        for engine in engines:
            found = [results.get((engine, size), {}).get(name) for size in sizes]
            cells += "".join(f" {_cell(timing):>19}" for timing in found)
            first, last = found[0], found[-1]
            if len(sizes) > 1 and first and last and first.times and last.times:
                ratios = [last.percentile(share) / first.percentile(share) for share in (0.5, 0.95)]
                grown += f" {f'x{ratios[0]:.1f} / x{ratios[1]:.1f}':>19}"
            elif len(sizes) > 1:
                grown += f" {'-':>19}"
        print(f"{name:<66}{cells}{grown}")


def _cell(timing: Timing | None) -> str:
    if timing is None or not timing.times:
        return "-"
    return f"{timing.percentile(0.5):.0f} / {timing.p95:.0f}{'*' if timing.p95 > TARGET_MS else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="time every page this often, keep the best")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the databases built (SQLite files in DIR, PostgreSQL databases by size) and reuse them",
    )
    parser.add_argument("--name", default="queue", help="the kept databases' name (another: a copy)")
    parser.add_argument("--only", metavar="REGEX", help="time only the pages whose label matches")
    parser.add_argument("--plans", type=int, default=3, help="plans of this many slowest pages besides")
    arguments = parser.parse_args()
    config = bench_config()
    sizes = [int(value) for value in arguments.mentions.split(",")]
    results = {
        (engine_name, size): measure_one(config, engine_name, size, arguments)
        for engine_name in arguments.engines.split(",")
        for size in sizes
    }
    summary(sizes, results)


if __name__ == "__main__":
    main()
