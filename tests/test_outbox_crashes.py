"""No customer gets a reply twice, however often the sender dies between claiming and recording.

The crash is honest: the demo platform (the real connector, with its replies on
disk, as a platform keeps them) either accepts the reply and then the process
dies before recording it, or the process dies before the platform sees it. The
outbox code runs unchanged; each "process" is a new sender with a new name.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import ConnectorError
from responders.outbox import OutboxSender
from social_care import lifecycle
from social_care.runtime import build_service
from social_care.storage.tables import CaseEvent, OutboxEntry, saved_id
from tests.support.clock import FakeClock
from tests.support.desk import acknowledged_case
from tests.support.platforms import CrashingPlatform, PlatformWithSideEffect, ProcessDied, like
from tests.support.scenario import post, scenario_config

CRASHES = 200
CUSTOMERS = 120


def replies_per_post(tmp_path: Path) -> Counter[str]:
    lines = (tmp_path / "demo-replies.jsonl").read_text(encoding="utf-8").splitlines()
    return Counter(json.loads(line)["in_reply_to"] for line in lines)


def test_two_hundred_crashes_between_claim_and_record_send_no_reply_twice_and_lose_none(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post(f"p{n}", "@velora my Velora Pulse is not working, terrible", handle=f"c{n}", direct=True)
        for n in range(CUSTOMERS)
    ]
    config = scenario_config(tmp_path, posts)
    uncapped = config.acknowledgement.model_copy(update={"hourly_cap_per_source": CUSTOMERS})
    service = build_service(config.model_copy(update={"acknowledgement": uncapped}), engine, clock=clock)
    service.poller.poll("demo")
    platform = service.connectors["demo"]
    rng = random.Random(2026)  # a reproducible mix of crash points

    crashes = {True: 0, False: 0}
    while sum(crashes.values()) < CRASHES:
        after_send = rng.random() < 0.5
        dying = like(platform, CrashingPlatform, crash_after_send=after_send)
        process = OutboxSender(engine, {"demo": dying}, clock=clock, owner=f"process-{sum(crashes.values())}")
        with pytest.raises(ProcessDied):
            process.run_once(limit=CUSTOMERS)
        crashes[after_send] += 1
        clock.advance(minutes=3)  # the dead process's lease runs out

    survivor = OutboxSender(engine, {"demo": platform}, clock=clock, owner="survivor")
    report = survivor.run_once(limit=CUSTOMERS)

    assert min(crashes.values()) > 50, "both kinds of crash happened many times"
    sent = replies_per_post(tmp_path)
    assert set(sent) == {f"p{n}" for n in range(CUSTOMERS)}, "every customer got the acknowledgement"
    assert max(sent.values()) == 1, "and nobody got it twice"
    assert report.reconciled >= 1
    with Session(engine) as session:
        entries = session.exec(select(OutboxEntry)).all()
    assert len(entries) == CUSTOMERS
    assert {entry.state for entry in entries} == {"sent"}
    assert all(entry.platform_reply_id for entry in entries)


@pytest.mark.parametrize("crash_after_send", [True, False])
def test_a_persons_reply_to_a_post_we_already_acknowledged_is_neither_lost_nor_doubled_by_a_crash(
    engine: Engine, tmp_path: Path, clock: FakeClock, crash_after_send: bool
) -> None:
    """Reconciling asks the platform for our reply to the post: the acknowledgement is one too."""
    service = build_service(
        scenario_config(tmp_path, [post("p1", "@velora Pulse dead", direct=True)]), engine
    )
    service.poller.poll("demo")
    assert service.sender.run_once().sent == 1  # the acknowledgement, in reply to p1
    with Session(engine) as session:
        case, person = acknowledged_case(session)
        lifecycle.queue_reply(
            session,
            case,
            "Luca here: fixed.",
            clock(),
            employee_id=person,
            in_reply_to="p1",
            resolves=False,
            request_key="form-of-luca-0001",
        )
        session.commit()
    dying = like(service.connectors["demo"], CrashingPlatform, crash_after_send=crash_after_send)
    with pytest.raises(ProcessDied):
        OutboxSender(engine, {"demo": dying}, clock=clock, owner="dies").run_once()
    clock.advance(minutes=3)
    OutboxSender(engine, {"demo": service.connectors["demo"]}, clock=clock, owner="survivor").run_once()
    lines = (tmp_path / "demo-replies.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines][1:] == ["Luca here: fixed."]
    with Session(engine) as session:
        ids = [
            entry.platform_reply_id
            for entry in session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id)))
        ]
    assert len(set(ids)) == 2 and all(ids)


@pytest.mark.parametrize("slow_call_fails", [False, True])
def test_a_sender_that_outlived_its_lease_does_not_record_a_reply_the_next_one_settled(
    engine: Engine, tmp_path: Path, clock: FakeClock, slow_call_fails: bool
) -> None:
    """The slow call either posted the reply (the next sender finds it) or failed (the next one sent it)."""
    config = scenario_config(tmp_path, [post("p1", "@velora Pulse dead", direct=True)])
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    service.sender.run_once()  # the acknowledgement
    with Session(engine) as session:
        case, person = acknowledged_case(session)
        lifecycle.queue_reply(
            session,
            case,
            "Fixed.",
            clock(),
            employee_id=person,
            in_reply_to="p1",
            resolves=False,
            request_key="form-of-luca-0002",
        )
        session.commit()
        case_id = saved_id(case)
    platform = service.connectors["demo"]

    def the_call_hangs_past_the_lease() -> None:
        clock.advance(minutes=3)
        OutboxSender(engine, {"demo": platform}, clock=clock, owner="next").run_once()

    failure = ConnectorError("timed out") if slow_call_fails else None
    slow = like(
        platform, PlatformWithSideEffect, after_reply=the_call_hangs_past_the_lease, then_fail=failure
    )
    OutboxSender(engine, {"demo": slow}, clock=clock, owner="slow").run_once()
    clock.advance(hours=2)
    OutboxSender(engine, {"demo": platform}, clock=clock, owner="later").run_once()
    lines = (tmp_path / "demo-replies.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines].count("Fixed.") == 1
    with Session(engine) as session:
        kinds = [event.kind for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id))]
    assert kinds.count("responded") == 1
