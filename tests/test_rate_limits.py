"""A source's request limit holds for all its workers together, and the platform's quota slows polling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.rate_limits import Limit, RequestGate
from social_care.runtime import Service
from social_care.storage.tables import SourceState
from tests.fakes.x_api import FakeX
from tests.support.clock import FakeClock
from tests.support.x_desk import x_service

MINUTE = timedelta(minutes=1)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


def most_in_any_window(moments: list[datetime], window: timedelta) -> int:
    return max(
        (sum(1 for other in moments if start <= other < start + window) for start in moments), default=0
    )


def customers_write_while_the_desk_works(
    service: Service, fake: FakeX, clock: FakeClock, ticks: int
) -> list[datetime]:
    """Every 5 s a poll and a send; every 30 s a new customer complains. When X saw each request."""
    for tick in range(ticks):
        if tick % 6 == 0:
            fake.add_tweet(f"customer{tick}", "@velora my Velora Pulse is broken, please help")
        service.poller.poll("x-velora")
        service.sender.run_once()
        clock.advance(seconds=5)
    return [request.at for request in fake.requests if request.at is not None]


def test_two_workers_share_one_window(engine: Engine, clock: FakeClock) -> None:
    limit = Limit(requests=2, per_seconds=60)
    first, second = (RequestGate(engine, "x", limit, clock=clock, sleep=clock.sleep) for _ in range(2))
    made = []
    for gate in (first, second, first, second, second):
        gate()
        made.append(clock.now)
    assert most_in_any_window(made, MINUTE) == 2
    assert made[2] - made[0] == MINUTE, "the third request waited for the first to leave the window"


def test_the_poller_asks_when_the_next_request_may_go(engine: Engine, clock: FakeClock) -> None:
    gate = RequestGate(engine, "x", Limit(requests=1, per_seconds=30), clock=clock, sleep=clock.sleep)
    assert gate.free_at() is None
    gate()
    assert gate.free_at() == clock.now + timedelta(seconds=30)
    clock.advance(seconds=30)
    assert gate.free_at() is None


def test_a_source_limited_to_two_requests_a_minute_makes_at_most_two_in_any_minute(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    """Polls, replies and the settling of replies all count, every 5 s for five minutes of posts."""
    service = x_service(
        fake,
        engine,
        clock,
        tmp_path,
        source={"rate_limit": {"requests": 2, "per_seconds": 60}, "poll_interval_seconds": 5},
    )
    start = clock.now
    moments = customers_write_while_the_desk_works(service, fake, clock, ticks=60)
    assert len(moments) >= 6, "it kept working within the limit"
    assert fake.replies, "replies went out within the limit too"
    assert most_in_any_window(moments, MINUTE) <= 2
    assert clock.now - start >= timedelta(minutes=5)


def test_without_a_limit_the_same_work_makes_many_more_requests(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path, source={"poll_interval_seconds": 5})
    moments = customers_write_while_the_desk_works(service, fake, clock, ticks=12)
    assert most_in_any_window(moments, MINUTE) > 2


def test_a_low_remaining_quota_delays_the_next_poll_before_x_says_429(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path, source={"watch": {"search": False}})
    fake.report_quota("mentions", 1)
    report = service.poller.poll("x-velora")
    with Session(engine) as session:
        next_poll = session.get_one(SourceState, "x-velora").next_poll_at
    assert next_poll is not None and next_poll - clock.now >= timedelta(minutes=14)
    assert report.next_poll_at == next_poll
    clock.advance(minutes=2)
    assert service.poller.poll("x-velora").skipped
    assert not any(request.at == clock.now for request in fake.requests)
