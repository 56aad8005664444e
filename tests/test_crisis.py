"""A crisis: complaints spiking well above their recent baseline switch the acknowledgement to the
crisis template and alert the supervisors once, not once per post. A desk without enough history,
or a brand whose history is flat, has no crisis for a busy hour; the digest reads the episodes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.config.models import CrisisPolicy
from social_care.crisis import CrisisMonitor, Episode, episodes
from social_care.runtime import build_service
from social_care.storage.tables import Author, Case, CaseEvent, Crisis, MailEntry, Mention, OutboxEntry
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.scenario import post, scenario_config

CRISIS_WORDING = "many of you are having trouble"
POLICY = CrisisPolicy(baseline_days=14, sigmas=3.0, min_complaints_per_hour=4)


def complaint(number: int) -> dict[str, Any]:
    return post(
        f"p{number}", "@velora my Velora Pulse is not working, terrible", handle=f"c{number}", direct=True
    )


def crisis_config(tmp_path: Path, posts: list[dict[str, Any]], **options: Any) -> Config:
    config = scenario_config(tmp_path, posts, **options)
    policy = config.acknowledgement.model_copy(update={"crisis": POLICY})
    return config.model_copy(update={"acknowledgement": policy})


def add_complaints(engine: Engine, handle: str, opened: list[datetime], status: str = "resolved") -> None:
    """Complaint cases of one author, opened at ``opened``, already in ``status``."""
    with Session(engine) as session:
        author = Author(platform="demo", external_id=handle, handle=handle)
        session.add(author)
        session.flush()
        for number, moment in enumerate(opened):
            session.add(
                Case(
                    source_id="demo",
                    platform="demo",
                    author_id=author.id,
                    thread_key=f"{handle}-{number}",
                    status=status,
                    category="complaint",
                    cluster="not_working",
                    priority="normal",
                    language="en",
                    brand="Velora",
                    opened_at=moment,
                    last_activity_at=moment,
                )
            )
        session.commit()


def started_watching(engine: Engine, at: datetime) -> None:
    """The desk's first stored post, fetched ``at``: where its history begins."""
    with Session(engine) as session:
        author = Author(platform="demo", external_id="first", handle="first_customer")
        session.add(author)
        session.flush()
        assert author.id is not None
        session.add(
            Mention(
                source_id="demo",
                platform="demo",
                external_id="first-post",
                author_id=author.id,
                text="Velora, hello",
                posted_at=at,
                fetched_at=at,
                processed_at=at,
            )
        )
        session.commit()


def seed_baseline(engine: Engine, clock: FakeClock, days: int = 14) -> None:
    """The desk watching for ``days``, one complaint at the start of every even hour: 0.5 an hour,
    deviation 0.5."""
    hour = clock.now.replace(minute=0, second=0, microsecond=0)
    started_watching(engine, hour - timedelta(days=days))
    hours = (hour - timedelta(hours=back) for back in range(1, days * 24 + 1))
    add_complaints(engine, "old_customer", [opened for opened in hours if opened.hour % 2 == 0])


def steady_history(engine: Engine, clock: FakeClock, per_hour: int) -> None:
    """The desk watching for 14 days, ``per_hour`` complaints in every hour of them: deviation 0."""
    hour = clock.now.replace(minute=0, second=0, microsecond=0)
    started_watching(engine, hour - timedelta(days=14))
    add_complaints(
        engine,
        "old_customer",
        [
            hour - timedelta(hours=back) + timedelta(minutes=minute)
            for back in range(1, 14 * 24 + 1)
            for minute in range(per_hour)
        ],
    )


def acknowledgements(engine: Engine) -> list[tuple[str, bool]]:
    """Each queued acknowledgement's post and whether it used the crisis wording, in order."""
    with Session(engine) as session:
        entries = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))).all()
        return [(entry.in_reply_to, CRISIS_WORDING in entry.text) for entry in entries]


def test_the_baseline_is_the_mean_and_deviation_of_hourly_complaints_quiet_hours_included(
    engine: Engine, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock)
    with Session(engine) as session:
        baseline = CrisisMonitor(POLICY).baseline(session, clock())
    assert (baseline.mean, baseline.deviation, baseline.hours) == (0.5, 0.5, 14 * 24)
    assert baseline.spike_above == 3.5, "0.5 + 3 x 1: the spread is at least one complaint"
    assert baseline.threshold == 4.0, "the minimum volume is higher than mean + 3 spreads"


def test_the_baseline_covers_only_the_hours_the_desk_was_watching(engine: Engine, clock: FakeClock) -> None:
    """Four days watched in a 14-day window: the ten days before are not ten days of calm."""
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock, days=4)
    with Session(engine) as session:
        baseline = CrisisMonitor(POLICY).baseline(session, clock())
    assert (baseline.hours, baseline.mean, baseline.deviation, baseline.enough_history) == (
        96,
        0.5,
        0.5,
        True,
    )


def test_the_first_partly_watched_hour_is_not_history(engine: Engine, clock: FakeClock) -> None:
    hour = clock.now.replace(minute=0)
    started_watching(engine, hour - timedelta(days=3, minutes=-10))
    clock.now = hour + timedelta(minutes=40)
    with Session(engine) as session:
        baseline = CrisisMonitor(POLICY).baseline(session, clock())
    assert (baseline.hours, baseline.hours_needed, baseline.enough_history) == (71, 72, False)


def test_a_fresh_database_with_a_burst_of_complaints_declares_no_crisis_and_says_why(
    engine: Engine, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="social_care.crisis")
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(12)]), engine, clock=clock)
    service.poller.poll("demo")

    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 12
    told = [record.getMessage() for record in caplog.records if record.name == "social_care.crisis"]
    assert len(told) == 1, "said once an hour, not once per complaint"
    assert told[0].startswith("4 complaints in the last hour, but no crisis")
    with Session(engine) as session:
        assert session.exec(select(Crisis)).all() == []
        observation = CrisisMonitor(POLICY).observe(session, clock())
    assert observation.no_crisis_because == (
        "12 complaints in the last hour, but no crisis: the baseline covers 0 of the 72 hours of "
        "history it needs (acknowledgement.crisis.min_history_days)"
    )


def test_a_desk_watching_for_two_days_of_three_declares_no_crisis(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock, days=2)
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(8)]), engine, clock=clock)
    service.poller.poll("demo")
    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 8
    with Session(engine) as session:
        assert session.exec(select(Crisis)).all() == []


def test_the_demo_declares_no_crisis_in_its_first_hour(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """The example configuration and the bundled posts, polled every minute: a new user's first hour."""
    service = build_service(demo_config(tmp_path), engine, clock=clock)
    for _ in range(60):
        service.poller.poll("demo")
        clock.advance(minutes=1)
    with Session(engine) as session:
        assert len(session.exec(select(OutboxEntry)).all()) > 10, "the demo did acknowledge complaints"
        assert session.exec(select(Crisis)).all() == []
    assert not any(crisis for _, crisis in acknowledgements(engine))


def test_the_fourth_complaint_in_an_hour_starts_a_crisis_and_the_supervisors_hear_once(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock)
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(6)]), engine, clock=clock)
    service.poller.poll("demo")

    assert acknowledgements(engine) == [
        ("p0", False),
        ("p1", False),
        ("p2", False),
        ("p3", True),
        ("p4", True),
        ("p5", True),
    ]
    with Session(engine) as session:
        crisis = session.exec(select(Crisis)).one()
        assert (crisis.complaints_last_hour, crisis.ended_at) == (4, None)
        [alert] = session.exec(select(MailEntry).where(MailEntry.purpose == "crisis")).all()
        queued = session.exec(select(CaseEvent).where(CaseEvent.kind == "acknowledgement_queued")).all()
    assert alert.recipients == ["chiara.conti@velora.example"]
    assert alert.subject == "Crisis: 4 complaints in the last hour (usually 0.5)"
    assert "my Velora Pulse is not working" in alert.html
    assert [event.detail["crisis"] for event in queued] == [False, False, False, True, True, True]


def test_complaints_dismissed_as_spam_raise_no_crisis(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock)
    add_complaints(engine, "spam_bot", [clock.now - timedelta(minutes=m) for m in (5, 10, 15)], "spam")
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(2)]), engine, clock=clock)
    service.poller.poll("demo")
    assert acknowledgements(engine) == [("p0", False), ("p1", False)]
    with Session(engine) as session:
        assert session.exec(select(Crisis)).first() is None


def test_the_crisis_ends_when_the_volume_falls_back_and_the_usual_wording_returns(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock)
    posts = [complaint(n) for n in range(5)]
    config = crisis_config(tmp_path, posts, initial_burst=4, per_minute=1 / 120)
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    clock.advance(minutes=120)
    service.poller.poll("demo")

    assert acknowledgements(engine)[-1] == ("p4", False)
    with Session(engine) as session:
        crisis = session.exec(select(Crisis)).one()
        assert (crisis.ended_at, crisis.ongoing) == (clock.now, None)
        assert len(session.exec(select(MailEntry).where(MailEntry.purpose == "crisis")).all()) == 1


def test_a_busy_hour_that_is_usual_for_the_brand_is_no_crisis(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Six complaints in every hour of the baseline (deviation 0): six more in an hour are usual."""
    clock.now = clock.now.replace(minute=40)
    steady_history(engine, clock, per_hour=6)
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(6)]), engine, clock=clock)
    service.poller.poll("demo")
    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 6
    with Session(engine) as session:
        assert session.exec(select(Crisis)).all() == []


def test_a_flat_history_and_a_few_complaints_more_are_no_crisis(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Six an hour, always: the spread counts as sqrt(6), so up to 13 in an hour (6 + 3 x 2.45) are
    no crisis, where the measured deviation of 0 would have made the seventh one."""
    clock.now = clock.now.replace(minute=40)
    steady_history(engine, clock, per_hour=6)
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(13)]), engine, clock=clock)
    service.poller.poll("demo")
    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 13
    with Session(engine) as session:
        assert session.exec(select(Crisis)).all() == []


def test_a_flat_history_and_a_real_spike_are_a_crisis(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(minute=40)
    steady_history(engine, clock, per_hour=6)
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(15)]), engine, clock=clock)
    service.poller.poll("demo")
    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 13 + [True] * 2
    with Session(engine) as session:
        crisis = session.exec(select(Crisis)).one()
    assert (crisis.complaints_last_hour, crisis.baseline_mean, crisis.baseline_deviation) == (14, 6.0, 0.0)
    assert crisis.threshold == pytest.approx(6 + 3 * 6**0.5)


def test_the_history_asked_for_must_fit_in_the_baseline() -> None:
    with pytest.raises(ValidationError, match=r"min_history_days at most baseline_days \(2\), found 3"):
        CrisisPolicy(baseline_days=2, min_history_days=3)


def test_the_queue_shows_the_crisis_while_it_lasts(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    from fastapi.testclient import TestClient

    from social_care.users import set_employee_password
    from social_care.web.app import create_app
    from tests.web.support import ADMIN, DEMO_PASSWORD, log_in

    clock.now = clock.now.replace(minute=40)
    seed_baseline(engine, clock)
    config = crisis_config(tmp_path, [complaint(n) for n in range(4)])
    build_service(config, engine, clock=clock).poller.poll("demo")
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    with TestClient(create_app(config, engine, secret_key="k")) as client:
        log_in(client)
        assert (
            "Crisis</b> since 23 Nov 10:40: 4 complaints in an hour, against 0.5 usually"
            in client.get("/queue").text
        )


def test_the_database_holds_at_most_one_crisis_open_however_many_workers_see_the_spike(
    engine: Engine, clock: FakeClock
) -> None:
    from sqlalchemy.exc import IntegrityError

    def spike(ended: bool = False) -> Crisis:
        return Crisis(
            started_at=clock(),
            ended_at=clock() if ended else None,
            ongoing=None if ended else True,
            complaints_last_hour=9,
            threshold=4,
            baseline_mean=0.5,
            baseline_deviation=0.5,
        )

    with Session(engine) as session:
        session.add_all([spike(ended=True), spike(ended=True), spike()])
        session.commit()
        session.add(spike())
        with pytest.raises(IntegrityError):
            session.commit()


DAY = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC))


def declared(engine: Engine, started: datetime, ended: datetime | None, **figures: float) -> None:
    """A crisis as the monitor records it; by default 9 complaints against 0.5 (deviation 0.5)."""
    values = {"complaints_last_hour": 9, "threshold": 4.0, "baseline_mean": 0.5, "baseline_deviation": 0.5}
    values.update(figures)
    with Session(engine) as session:
        session.add(Crisis(started_at=started, ended_at=ended, ongoing=None if ended else True, **values))
        session.commit()


def utc(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_the_days_episodes_with_their_peak_hour_and_volume(engine: Engine) -> None:
    started_watching(engine, utc(9) - timedelta(days=14))
    declared(engine, utc(23, 30, day=22), utc(0, 20))  # overlaps the day's first hour
    declared(engine, utc(10, 40), utc(12, 10))
    declared(engine, utc(22, 50), None)  # still going after the day
    declared(engine, utc(5), utc(6, day=22))  # the day before: not an episode of this day
    add_complaints(engine, "before", [utc(23, 40, day=22)] * 5 + [utc(0, 10)] * 2)
    add_complaints(engine, "spike", [utc(10, 5)] * 3 + [utc(11, m) for m in range(0, 60, 9)] + [utc(12, 30)])
    add_complaints(engine, "spammer", [utc(10, 50)] * 20, status="spam")
    add_complaints(engine, "late", [utc(22, 55)] * 4 + [utc(23, 5)] * 4 + [utc(0, 30, day=24)] * 9)
    with Session(engine) as session:
        found = episodes(session, POLICY, *DAY)
    assert found == [
        Episode(utc(23, 30, day=22), utc(0, 20), peak_hour=utc(0), peak_complaints=2),
        Episode(utc(10, 40), utc(12, 10), peak_hour=utc(11), peak_complaints=7),
        Episode(utc(22, 50), None, peak_hour=utc(22), peak_complaints=4),
    ]


def test_crises_the_rule_would_not_declare_are_no_episodes(engine: Engine) -> None:
    """A fresh database's "0.0 usually" and a flat history's few extra complaints, declared before
    the history and spread rules, are not named to a manager."""
    started_watching(engine, utc(8))
    declared(engine, utc(8, 5), utc(9), baseline_mean=0.0, baseline_deviation=0.0)
    with Session(engine) as session:
        assert episodes(session, POLICY, *DAY) == []
        session.exec(select(Mention)).one().fetched_at = utc(8, day=9)
        session.commit()
        assert len(episodes(session, POLICY, *DAY)) == 1, "with the history the same crisis was real"
    declared(engine, utc(15), utc(16), complaints_last_hour=7, baseline_mean=6.0, baseline_deviation=0.0)
    with Session(engine) as session:
        assert [episode.started_at for episode in episodes(session, POLICY, *DAY)] == [utc(8, 5)]
