"""Polling survives platform failures: transient ones back off, permanent ones mark the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from connectors.base import ConnectorError
from social_care.poller import KEPT_PAYLOAD, Poller
from social_care.runtime import build_service
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import Mention, RejectedPayload, SourceState
from tests.support.clock import FakeClock
from tests.support.platforms import UnreachablePlatform, like
from tests.support.scenario import post, scenario_config

POSTS = [
    post("p1", "@velora my Velora Pulse is broken", direct=True),
    post("p2", "Velora Casa is great, thanks", handle="bob"),
]


def state(engine: Engine) -> SourceState:
    with Session(engine) as session:
        return session.get_one(SourceState, "demo")


def test_a_transient_failure_backs_off_and_resumes_from_the_cursor(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    down = like(service.connectors["demo"], UnreachablePlatform, error=ConnectorError("502 Bad Gateway"))
    poller = Poller(engine, {"demo": down}, service.pipeline, clock=clock, owner="w")
    report = poller.poll("demo")
    assert report.error == "502 Bad Gateway"
    failing = state(engine)
    assert (failing.status, failing.failures, failing.cursor) == ("backing_off", 1, None)
    down.error = None
    assert poller.poll("demo").skipped, "polled again before the backoff ended"
    clock.now = failing.next_poll_at
    assert poller.poll("demo").new == 2
    assert state(engine).status == "ok" and state(engine).failures == 0


def test_a_permanent_failure_marks_only_that_source_failing(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, POSTS)
    second = config.sources[0].model_copy(update={"id": "other"})
    config = config.model_copy(update={"sources": [config.sources[0], second]})
    service = build_service(config, engine, clock=clock)
    revoked = like(
        service.connectors["demo"],
        UnreachablePlatform,
        error=ConnectorError("401 Unauthorized", permanent=True),
    )
    poller = Poller(engine, {**service.connectors, "demo": revoked}, service.pipeline, clock=clock, owner="w")
    poller.poll("demo")
    clock.advance(days=1)
    assert poller.poll("demo").skipped
    assert state(engine).status == "failing" and "401" in state(engine).last_error
    other = poller.poll("other")
    assert (other.new, other.opened) == (2, 2)


def test_a_malformed_payload_is_recorded_and_the_rest_of_the_batch_stored(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, POSTS)
    posts_file = tmp_path / "posts.jsonl"
    lines = posts_file.read_text(encoding="utf-8").splitlines()
    posts_file.write_text("\n".join([lines[0], '{"broken": ', lines[1]]) + "\n", encoding="utf-8")
    config = config.model_copy(
        update={
            "sources": [
                config.sources[0].model_copy(
                    update={"options": {**config.sources[0].options, "initial_burst": 3}}
                )
            ]
        }
    )
    report = build_service(config, engine, clock=clock).poller.poll("demo")
    assert (report.new, report.rejected) == (2, 1)
    with Session(engine) as session:
        [rejected] = session.exec(select(RejectedPayload)).all()
        assert rejected.payload == '{"broken": ' and "line 2" in rejected.reason
        assert len(session.exec(select(Mention)).all()) == 2


def test_of_a_huge_rejected_payload_the_first_hundred_thousand_characters_are_kept(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, POSTS)
    posts_file = tmp_path / "posts.jsonl"
    huge = '{"broken": "' + "x" * 1_000_000
    posts_file.write_text(huge + "\n" + posts_file.read_text(encoding="utf-8"), encoding="utf-8")
    source = config.sources[0]
    burst = source.model_copy(update={"options": {**source.options, "initial_burst": 3}})
    service = build_service(config.model_copy(update={"sources": [burst]}), engine, clock=clock)
    report = service.poller.poll("demo")
    assert (report.new, report.rejected) == (2, 1)
    with Session(engine) as session:
        [rejected] = session.exec(select(RejectedPayload)).all()
        assert rejected.payload == huge[:KEPT_PAYLOAD] and "line 1" in rejected.reason


def test_a_database_that_fills_up_in_the_middle_of_a_poll_does_not_hold_the_source(
    tmp_path: Path, clock: FakeClock
) -> None:
    """SQLite's disk fills up while the batch is stored: the poll fails, its lease is given back,
    and once there is room again the next poll stores the batch at once."""
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    migrate.upgrade(engine)
    disk = {"full": False}

    @event.listens_for(engine, "checkout")
    def _limit(connection: Any, *_: Any) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages if disk['full'] else 1_000_000}")

    long_post = post("p3", "Velora Pulse review, part one of many. " * 1000, handle="carl")
    service = build_service(scenario_config(tmp_path, [*POSTS, long_post]), engine, clock=clock)
    disk["full"] = True
    with pytest.raises(OperationalError):  # "database or disk is full", whatever it surfaces as
        service.poller.poll("demo")
    disk["full"] = False
    clock.advance(seconds=1)
    assert service.poller.poll("demo").new == 3
    engine.dispose()


def test_a_retry_waits_what_the_platform_asked_with_a_little_jitter(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    limited = like(
        service.connectors["demo"], UnreachablePlatform, error=ConnectorError("429", retry_after=3.0)
    )
    Poller(engine, {"demo": limited}, service.pipeline, clock=clock, owner="w").poll("demo")
    waited = (state(engine).next_poll_at - clock.now).total_seconds()
    assert 3.0 <= waited <= 3.3


def test_without_a_word_from_the_platform_the_first_retry_comes_within_the_poll_interval_then_doubles(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    down = like(service.connectors["demo"], UnreachablePlatform, error=ConnectorError("503"))
    poller = Poller(engine, {"demo": down}, service.pipeline, clock=clock, owner="w", intervals={"demo": 15})
    waits = []
    for _ in range(3):
        poller.poll("demo")
        due = state(engine).next_poll_at
        waits.append((due - clock.now).total_seconds())
        clock.now = due
    assert 7.5 <= waits[0] <= 15 and 15 <= waits[1] <= 30 and 30 <= waits[2] <= 60
