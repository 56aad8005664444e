"""Real ``social-care run --no-web`` processes on one PostgreSQL database, against the fake X.

The promises that only real processes can break: several starting at once on a
new database, one killed in the middle of a poll, and a run where workers are
killed at random while customers keep writing. The fake X lives in the test
process on 127.0.0.1; the workers reach it with the real tweepy client.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from social_care.clock import system_clock
from social_care.storage.engine import make_engine
from social_care.storage.tables import (
    Mention,
    OutboxEntry,
    SourceState,
)
from tests.fakes.x_api import FakeX
from tests.support.configs import example_raw
from tests.support.databases import require_postgres, scratch_postgres
from tests.support.exactly_once import assert_processed_once, cases_per_customer
from tests.support.processes import Service
from tests.support.x_desk import x_config_raw, x_environ

POLL_SECONDS = 5
STARTED = re.compile(r"Workers only")
MENTIONS = "/2/users/1000/mentions"
COMPLAINT = "@velora my Velora Pulse is broken since the update ({n})"
FOLLOW_UP = "@velora still broken, any news? ({n})"


@pytest.fixture
def fake() -> Iterator[FakeX]:
    server = FakeX(clock=system_clock).start()
    yield server
    server.stop()


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty PostgreSQL database: no schema until the first worker makes it."""
    require_postgres()
    with scratch_postgres() as url:
        yield url


class Workers:
    """Worker processes sharing one configuration and database; each is ended after the test."""

    def __init__(self, tmp_path: Path, fake: FakeX, database: str) -> None:
        raw = example_raw()
        source = {"poll_interval_seconds": POLL_SECONDS, "watch": {"search": False}}
        x_config_raw(raw, fake, source=source, timeout_seconds=5.0)  # a busy test machine is slow
        raw["smtp"]["enabled"] = False
        raw["acknowledgement"]["hourly_cap_per_source"] = 1000
        self.config = tmp_path / "social-care.toml"
        self.config.write_text(tomli_w.dumps(raw), encoding="utf-8")
        self.tmp_path = tmp_path
        self.environ = {**x_environ(fake), "DATABASE_URL": database}
        self.database = database
        self.all: list[Service] = []

    def start(self) -> Service:
        worker = Service(self.tmp_path, "--no-web", "--config", str(self.config), environ=self.environ)
        self.all.append(worker)
        return worker

    @property
    def alive(self) -> list[Service]:
        return [worker for worker in self.all if worker.process.poll() is None]

    def engine(self) -> Engine:
        return make_engine(self.database)

    def close(self) -> None:
        for worker in self.all:
            worker.close()


@pytest.fixture
def workers(tmp_path: Path, fake: FakeX, database: str) -> Iterator[Workers]:
    group = Workers(tmp_path, fake, database)
    yield group
    group.close()


def eventually(check: Callable[[], bool], *, within: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.2)


def mention_polls(fake: FakeX) -> list[datetime]:
    return [request.at for request in list(fake.requests) if request.path == MENTIONS and request.at]


def test_three_processes_starting_together_on_an_empty_database_all_come_up(workers: Workers) -> None:
    started = [workers.start() for _ in range(3)]
    for worker in started:
        worker.wait_for(STARTED)
    time.sleep(1)  # long enough for a late crash to show
    assert len(workers.alive) == 3, "\n---\n".join(worker.output for worker in started)
    assert not any(re.search(r"with password \S+ \(generated now", worker.output) for worker in started), (
        "a process serving no inbox made the first admin's password"
    )
    for worker in started:
        assert worker.stop() == 0, worker.output
        assert "Traceback" not in worker.output, worker.output


def holder_pid(engine: Engine) -> int | None:
    with Session(engine) as session:
        owner = session.get_one(SourceState, "x-velora").lease_owner
    return int(owner.split(":")[1]) if owner else None


def test_a_worker_killed_mid_poll_leaves_the_source_unpolled_no_longer_than_twice_its_interval(
    workers: Workers, fake: FakeX
) -> None:
    for _ in range(2):
        workers.start().wait_for(STARTED)
    eventually(lambda: len(mention_polls(fake)) >= 2, within=20, what="the workers never polled")
    engine = workers.engine()
    try:
        before = len(mention_polls(fake))
        fake.delay_next(4.0, path=MENTIONS)  # the next poll hangs: its worker dies inside it
        eventually(lambda: len(mention_polls(fake)) > before, within=15, what="no poll came")
        held: list[int] = []

        def someone_holds_it() -> bool:
            held[:] = [pid] if (pid := holder_pid(engine)) else []
            return bool(held)

        eventually(someone_holds_it, within=5, what="nobody held the source")
        os.kill(held[0], signal.SIGKILL)
        killed_at = system_clock()
        workers.start()  # its replacement
        time.sleep(4 * POLL_SECONDS)  # the time over which polling is watched for a gap
    finally:
        engine.dispose()
    polls = [moment for moment in mention_polls(fake) if moment >= killed_at - timedelta(seconds=1)]
    gaps = [
        later - earlier for earlier, later in zip([killed_at, *polls], [*polls, system_clock()], strict=True)
    ]
    assert max(gaps) <= timedelta(seconds=2 * POLL_SECONDS + 3), f"a gap of {max(gaps)} after the kill"


def test_chaos_workers_killed_at_random_while_customers_write_lose_and_double_nothing(
    workers: Workers, fake: FakeX
) -> None:
    """Three workers; every few seconds one is killed with SIGKILL and another started, for
    about forty seconds of customers writing. Then: every post stored and processed once, and
    every customer's first complaint acknowledged exactly once on X."""
    rng = random.Random(11)
    for _ in range(3):
        workers.start()
    # Customers write once the desk is watching: a source's very first poll reads only the newest
    # page (first_poll_pages), by design, not the whole history.
    eventually(lambda: len(mention_polls(fake)) >= 1, within=30, what="the workers never polled")
    customers, written, kills = 0, [], 0
    next_kill = time.monotonic() + rng.uniform(3, 5)
    end = time.monotonic() + 40
    while time.monotonic() < end:
        customers += 1
        first = fake.add_tweet(f"customer{customers}", COMPLAINT.format(n=customers))
        written.append(first)
        if customers % 3 == 0:
            written.append(
                fake.add_tweet(f"customer{customers}", FOLLOW_UP.format(n=customers), reply_to=first)
            )
        if time.monotonic() >= next_kill and workers.alive:
            os.kill(rng.choice(workers.alive).process.pid, signal.SIGKILL)
            kills += 1
            workers.start()
            next_kill = time.monotonic() + rng.uniform(2, 5)
        time.sleep(0.5)

    engine = workers.engine()
    try:
        eventually(
            lambda: settled(engine, fake, written, customers),
            within=60,
            what=lambda: f"not settled: {progress(engine, fake, written)}\n{logs(workers)}",
        )
        for worker in workers.alive:
            assert worker.stop() == 0, worker.output
        assert kills >= 8
        assert_processed_once(engine, written)
        assert set(cases_per_customer(engine).values()) == {1}, "one case per customer"
    finally:
        engine.dispose()
    replies = Counter(reply["in_reply_to_tweet_id"] for reply in fake.replies)
    assert len(replies) == customers, "every customer's complaint was acknowledged"
    assert set(replies.values()) == {1}, f"acknowledged twice: {[key for key, n in replies.items() if n > 1]}"


def settled(engine: Engine, fake: FakeX, written: list[str], customers: int) -> bool:
    with Session(engine) as session:
        done = session.exec(
            select(func.count()).where(
                col(Mention.external_id).in_(written), col(Mention.processed_at).is_not(None)
            )
        ).one()
        unsent = session.exec(select(func.count()).where(col(OutboxEntry.state) != "sent")).one()
    return (
        done == len(written)
        and unsent == 0
        and len({r["in_reply_to_tweet_id"] for r in fake.replies}) >= customers
    )


def logs(workers: Workers) -> str:
    return "\n---\n".join(worker.output[-3000:] for worker in workers.all)


def progress(engine: Engine, fake: FakeX, written: list[str]) -> str:
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Mention)).one()
        states = Counter(session.exec(select(OutboxEntry.state)))
        source = session.get(SourceState, "x-velora")
    return (
        f"{len(written)} written, {stored} stored, outbox {dict(states)}, {len(fake.replies)} replies on X;"
        f" source: {source}"
    )
