"""A monthly read quota lasts the month: the pacing arithmetic and the poller that obeys it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.budget import ReadBudget, month_of, paced_interval, projected_spend, seconds_left_in_month
from social_care.poller import Poller, ReadLimit
from social_care.runtime import build_service
from social_care.storage.tables import SourceState
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config

NOV_21_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 9.5 days left in November


def test_the_month_ends_at_midnight_utc_on_its_last_day() -> None:
    assert seconds_left_in_month(NOV_21_NOON) == 9.5 * 86400
    assert seconds_left_in_month(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == 3600
    assert month_of(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "2026-12"


def test_plenty_of_budget_keeps_the_configured_interval() -> None:
    budget = ReadBudget(quota=10_000, used=0, reads_per_poll=1)
    assert paced_interval(budget, NOV_21_NOON, base_seconds=120) == 120


def test_a_tight_budget_spreads_the_remaining_reads_over_the_days_left() -> None:
    budget = ReadBudget(quota=10_000, used=9_050, reads_per_poll=20)  # 950 reads = 47.5 polls
    interval = paced_interval(budget, NOV_21_NOON, base_seconds=120)
    assert interval == pytest.approx(9.5 * 86400 / 47.5)  # 4.8 hours
    assert projected_spend(budget, NOV_21_NOON, interval) == 10_000


def test_a_spent_budget_waits_for_next_month() -> None:
    budget = ReadBudget(quota=10_000, used=10_000, reads_per_poll=20)
    assert paced_interval(budget, NOV_21_NOON, base_seconds=120) == 9.5 * 86400


POSTS = [post(f"p{number}", f"Velora Casa note {number}", handle=f"user{number}") for number in range(10)]


def state_of(engine: Engine) -> SourceState:
    with Session(engine) as session:
        return session.get_one(SourceState, "demo")


def test_the_poller_counts_reads_and_paces_a_quota(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(NOV_21_NOON)
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    poller = Poller(
        engine,
        service.connectors,
        service.pipeline,
        clock=clock,
        owner="w",
        limits={"demo": ReadLimit(monthly_quota=100, interval_seconds=60)},
    )
    report = poller.poll("demo")
    state = state_of(engine)
    assert (state.reads_used, state.reads_month, state.reads_per_poll) == (10, "2026-11", 10.0)
    assert report.quota == 100 and report.reads_used == 10
    # 90 reads left at 10 a poll = 9 polls over 9.5 days: about one a day, not one a minute.
    assert state.next_poll_at is not None
    assert (state.next_poll_at - clock.now).total_seconds() == pytest.approx(9.5 * 86400 / 9)
    clock.advance(hours=1)
    assert poller.poll("demo").skipped


def test_a_new_month_starts_a_new_count(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    poller = Poller(engine, service.connectors, service.pipeline, clock=clock, owner="w")
    poller.poll("demo")
    clock.advance(hours=2)
    poller.poll("demo")
    assert (state_of(engine).reads_month, state_of(engine).reads_used) == ("2026-12", 0)


def test_without_a_quota_reads_are_counted_but_not_paced(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(NOV_21_NOON)
    service = build_service(scenario_config(tmp_path, POSTS), engine, clock=clock)
    report = service.poller.poll("demo")
    assert report.quota is None and state_of(engine).next_poll_at is None
    assert state_of(engine).reads_used == 10
