"""A case moves new -> acknowledged -> assigned -> responded -> resolved, each move an event with an actor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care import lifecycle
from social_care.config import Config
from social_care.storage.tables import Case, CaseEvent
from tests.support.clock import FakeClock
from tests.support.desk import Desk

AGENT = "luca.marino@velora.example"


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    return Desk(engine, config, clock)


def history(desk: Desk, case_id: int) -> list[tuple[str, str, str | None]]:
    """(kind, actor, status after) of every event of the case, in order."""
    with Session(desk.engine) as session:
        rows = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id)))
        return [(row.kind, row.actor, row.to_status) for row in rows]


def test_a_case_goes_through_every_state_with_its_actor_and_time(desk: Desk, clock: FakeClock) -> None:
    opened = clock.now
    case_id = desk.post()
    clock.advance(minutes=2)
    desk.acknowledge(case_id)
    clock.advance(minutes=3)
    desk.assign(case_id, "care-it", AGENT)
    clock.advance(minutes=10)
    desk.reply(case_id, AGENT)
    clock.advance(minutes=5)
    desk.reply(case_id, AGENT, resolves=True)
    assert history(desk, case_id) == [
        ("opened", "system", "new"),
        ("acknowledged", "system", "acknowledged"),
        ("assigned", "system", "assigned"),
        ("reply_queued", "employee", None),
        ("responded", "employee", "responded"),
        ("reply_queued", "employee", None),
        ("responded", "employee", "responded"),
        ("resolved", "employee", "resolved"),
    ]
    case = desk.case(case_id)
    assert (case.acknowledged_at, case.assigned_at) == (
        opened + timedelta(minutes=2),
        opened + timedelta(minutes=5),
    )
    assert (case.first_response_at, case.resolved_at) == (
        opened + timedelta(minutes=15),
        opened + timedelta(minutes=20),
    )
    assert (case.ack_due_at, case.response_due_at, case.resolution_due_at) == (None, None, None)


def test_a_responded_event_names_the_person_and_whether_the_answer_was_in_time(
    desk: Desk, clock: FakeClock
) -> None:
    case_id = desk.post()
    clock.advance(minutes=61)  # the example's complaints promise an answer within 60 minutes
    desk.reply(case_id, AGENT)
    with Session(desk.engine) as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.kind == "responded")).one()
    assert event.employee_id == desk.employee(AGENT)
    assert (event.detail["first"], event.detail["met"]) == (True, False)
    assert event.detail["acknowledgement"]["met"] is False  # a person's first answer also acknowledges


def test_a_new_mention_reopens_a_resolved_case_and_restarts_its_clocks(desk: Desk, clock: FakeClock) -> None:
    case_id = desk.post()
    desk.reply(case_id, AGENT, resolves=True)
    clock.advance(days=1)
    assert desk.post(reply_to=desk.case(case_id).thread_key) == case_id
    case = desk.case(case_id)
    # Acknowledged once and for all (the person's answer did it), but nobody is assigned any more work yet.
    assert (case.status, case.reopened_at, case.resolved_at) == ("acknowledged", clock.now, None)
    assert case.response_due_at == clock.now + timedelta(minutes=60)
    assert case.resolution_due_at == clock.now + timedelta(minutes=1440)
    assert history(desk, case_id)[-2:] == [
        ("mention_added", "system", None),
        ("reopened", "system", "acknowledged"),
    ]


def test_a_case_closed_without_a_reply_waits_only_from_the_next_mention(desk: Desk, clock: FakeClock) -> None:
    case_id = desk.post()
    clock.advance(minutes=10)
    desk.resolve(case_id, AGENT)
    assert history(desk, case_id)[-1] == ("resolved", "employee", "resolved")
    clock.advance(days=2)
    desk.post(reply_to=desk.case(case_id).thread_key)
    assert desk.case(case_id).response_due_at == clock.now + timedelta(minutes=60)


def test_spam_leaves_the_clocks_and_a_new_mention_brings_it_back(desk: Desk, clock: FakeClock) -> None:
    case_id = desk.post()
    desk.dismiss(case_id, "spam", AGENT)
    case = desk.case(case_id)
    assert (case.status, case.response_due_at, case.sla_next_alert_at) == ("spam", None, None)
    assert history(desk, case_id)[-1] == ("marked_spam", "employee", "spam")
    clock.advance(minutes=5)
    desk.post(reply_to=case.thread_key)
    assert desk.case(case_id).status == "new"


def test_only_spam_and_ignored_are_dismissals(desk: Desk, engine: Engine, clock: FakeClock) -> None:
    case_id = desk.post()
    with Session(engine) as session, pytest.raises(ValueError, match="spam, ignored"):
        lifecycle.dismiss(session, session.get_one(Case, case_id), "boring", clock.now, employee_id=1)
