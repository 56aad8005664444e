"""Replies leave through the outbox: claimed, sent, recorded, never twice."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import ConnectorError
from responders.outbox import OutboxSender
from social_care import lifecycle
from social_care.config.models import RateLimit
from social_care.runtime import Service, build_service, clear_failures
from social_care.storage.tables import OutboxEntry, SourceState
from tests.support.clock import FakeClock
from tests.support.desk import acknowledged_case
from tests.support.platforms import CrashingPlatform, ProcessDied, SlowToCheck, UnreachablePlatform, like
from tests.support.scenario import post, scenario_config

DIRECT = post("p1", "@velora my Velora Pulse is not working, terrible", direct=True)


def replies(tmp_path: Path) -> list[str]:
    path = tmp_path / "demo-replies.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line)["in_reply_to"] for line in lines]


def entry(engine: Engine) -> OutboxEntry:
    with Session(engine) as session:
        return session.exec(select(OutboxEntry)).one()


def source_state(engine: Engine) -> SourceState:
    with Session(engine) as session:
        return session.get_one(SourceState, "demo")


def sender(engine: Engine, connector: object, clock: FakeClock, owner: str) -> OutboxSender:
    return OutboxSender(engine, {"demo": connector}, clock=clock, owner=owner)  # type: ignore[dict-item]


@pytest.mark.parametrize("crash_after_send", [True, False])
def test_a_crash_between_claim_and_record_never_sends_twice(
    engine: Engine, tmp_path: Path, clock: FakeClock, crash_after_send: bool
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    dying = like(service.connectors["demo"], CrashingPlatform, crash_after_send=crash_after_send)
    with pytest.raises(ProcessDied):
        sender(engine, dying, clock, "worker-1").run_once()
    assert entry(engine).state == "sending"
    clock.advance(seconds=10)
    assert sender(engine, service.connectors["demo"], clock, "worker-2").run_once().sent == 0, (
        "lease still held"
    )
    clock.advance(minutes=3)
    report = sender(engine, service.connectors["demo"], clock, "worker-2").run_once()
    assert (report.reconciled, report.sent) == ((1, 0) if crash_after_send else (0, 1))
    assert replies(tmp_path) == ["p1"]
    assert entry(engine).state == "sent" and entry(engine).platform_reply_id


def test_a_transient_failure_is_retried_with_backoff(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    down = like(service.connectors["demo"], UnreachablePlatform, error=ConnectorError("503 from platform"))
    assert sender(engine, down, clock, "w").run_once().failed == 1
    failed = entry(engine)
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 1, "503 from platform")
    assert failed.next_attempt_at > clock.now
    down.error = None
    assert sender(engine, down, clock, "w").run_once().sent == 0, "not before its retry time"
    clock.now = failed.next_attempt_at
    assert sender(engine, down, clock, "w").run_once().sent == 1
    assert replies(tmp_path) == ["p1"]


def test_retry_waits_at_least_as_long_as_the_platform_asked(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    limited = like(
        service.connectors["demo"], UnreachablePlatform, error=ConnectorError("429", retry_after=900)
    )
    sender(engine, limited, clock, "w").run_once()
    assert entry(engine).next_attempt_at >= clock.now + timedelta(seconds=900)


def test_a_reply_refused_for_its_post_goes_to_the_dead_letters_and_the_source_goes_on(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    deleted = ConnectorError("the post was deleted", permanent=True, only_this_post=True)
    refused = like(service.connectors["demo"], UnreachablePlatform, error=deleted)
    assert sender(engine, refused, clock, "w").run_once().dead == 1
    assert entry(engine).state == "dead"
    assert source_state(engine).status == "ok"
    clock.advance(days=1)
    assert sender(engine, service.connectors["demo"], clock, "w").run_once().sent == 0


def test_a_reply_refused_for_our_account_marks_the_source_failing_and_waits_for_a_person(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    revoked = like(
        service.connectors["demo"], UnreachablePlatform, error=ConnectorError("401 revoked", permanent=True)
    )

    assert sender(engine, revoked, clock, "w").run_once().failed == 1

    assert (entry(engine).state, source_state(engine).status) == ("failed", "failing")
    assert "401 revoked" in source_state(engine).last_error
    clock.advance(days=1)
    assert sender(engine, service.connectors["demo"], clock, "w").run_once().sent == 0, "sent while failing"
    clear_failures(service)
    assert sender(engine, service.connectors["demo"], clock, "w").run_once().sent == 1
    assert replies(tmp_path) == ["p1"]


def test_after_the_last_attempt_an_entry_is_dead(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    down = like(service.connectors["demo"], UnreachablePlatform, error=ConnectorError("timeout"))
    flaky = OutboxSender(engine, {"demo": down}, clock=clock, owner="w", max_attempts=3)
    for _ in range(3):
        flaky.run_once()
        clock.advance(hours=2)
    assert (entry(engine).state, entry(engine).attempts) == ("dead", 3)


def test_dry_run_records_the_acknowledgement_without_sending(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, [DIRECT])
    config = config.model_copy(
        update={"acknowledgement": config.acknowledgement.model_copy(update={"dry_run": True})}
    )
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    assert service.sender.run_once().sent == 0
    assert entry(engine).state == "dry_run" and "Velora Pulse" in entry(engine).text
    assert replies(tmp_path) == []


def test_a_sender_whose_lease_lapsed_while_it_checked_with_the_platform_does_not_send(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Its check said "not there"; meanwhile another sender took the entry over and sent it."""
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    timed_out = ConnectorError("timed out after the request went out", outcome_unknown=True)
    sender(
        engine, like(service.connectors["demo"], UnreachablePlatform, error=timed_out), clock, "w0"
    ).run_once()
    assert entry(engine).state == "unknown" and replies(tmp_path) == []
    clock.advance(minutes=5)
    other = sender(engine, service.connectors["demo"], clock, "w2")

    def the_lease_lapses_and_another_sender_runs() -> None:
        clock.advance(seconds=20)
        assert other.run_once().sent == 1

    slow = like(service.connectors["demo"], SlowToCheck, meanwhile=the_lease_lapses_and_another_sender_runs)
    assert sender(engine, slow, clock, "w1").run_once().sent == 0
    assert replies(tmp_path) == ["p1"]
    assert entry(engine).state == "sent"


def lost_answer(engine: Engine, service: Service, clock: FakeClock, **options: object) -> OutboxSender:
    """Send the one acknowledgement on a platform that times out after the request went out, so its
    outcome is unknown; return a sender of the healthy platform (with ``options``) for what follows."""
    timed_out = ConnectorError("timed out after the request went out", outcome_unknown=True)
    down = like(service.connectors["demo"], UnreachablePlatform, error=timed_out)
    sender(engine, down, clock, "w0").run_once()
    assert entry(engine).state == "unknown"
    clock.advance(hours=1)
    return OutboxSender(engine, {"demo": service.connectors["demo"]}, clock=clock, owner="w1", **options)


def test_an_acknowledgement_of_unknown_outcome_not_found_is_cancelled_once_the_case_was_closed(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    later = lost_answer(engine, service, clock)
    with Session(engine) as session:
        case, person = acknowledged_case(session)
        lifecycle.dismiss(session, case, "spam", clock.now, employee_id=person)
        session.commit()
    assert later.run_once().sent == 0
    assert (entry(engine).state, replies(tmp_path)) == ("cancelled", [])
    assert "the case is spam" in entry(engine).last_error


def test_an_entry_of_unknown_outcome_not_found_after_its_last_attempt_is_dead_not_sent(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    later = lost_answer(engine, service, clock, max_attempts=1)
    assert later.run_once().dead == 1
    assert (entry(engine).state, replies(tmp_path)) == ("dead", [])


def test_a_reply_due_while_the_rate_limit_is_spent_waits_unattempted_for_room(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, [DIRECT])
    one_a_minute = config.sources[0].model_copy(update={"rate_limit": RateLimit(requests=1, per_seconds=60)})
    service = build_service(config.model_copy(update={"sources": [one_a_minute]}), engine, clock=clock)
    service.poller.poll("demo")  # the poll was the minute's one request
    assert service.sender.run_once().sent == 0
    waiting = entry(engine)
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (
        "pending",
        0,
        clock.now + timedelta(minutes=1),
    )
    clock.now = waiting.next_attempt_at
    assert service.sender.run_once().sent == 1
    assert replies(tmp_path) == ["p1"]


def test_waiting_on_the_platforms_rate_limit_spends_no_attempt(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    limited = like(
        service.connectors["demo"], UnreachablePlatform, error=ConnectorError("429", retry_after=60)
    )
    flaky = OutboxSender(engine, {"demo": limited}, clock=clock, owner="w", max_attempts=2)
    for _ in range(4):
        flaky.run_once()
        clock.advance(minutes=2)
    assert (entry(engine).state, entry(engine).attempts) == ("failed", 0)
