"""A crisis: complaints spiking well above their recent baseline switch the acknowledgement to the
crisis template and alert the supervisors once, not once per post."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.config.models import CrisisPolicy
from social_care.crisis import CrisisMonitor
from social_care.runtime import build_service
from social_care.storage.tables import Author, Case, CaseEvent, Crisis, MailEntry, OutboxEntry
from tests.support.clock import FakeClock
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


def seed_baseline(engine: Engine, clock: FakeClock) -> None:
    """One complaint at the start of every even hour of the last 14 days: 0.5 an hour, deviation 0.5."""
    hour = clock.now.replace(minute=0, second=0, microsecond=0)
    hours = (hour - timedelta(hours=back) for back in range(1, 14 * 24 + 1))
    add_complaints(engine, "old_customer", [opened for opened in hours if opened.hour % 2 == 0])


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
    assert (baseline.mean, baseline.deviation, baseline.spike_above) == (0.5, 0.5, 2.0)
    assert baseline.threshold == 4.0, "the minimum volume is higher than mean + 3 deviations"


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
    hour = clock.now.replace(minute=0)
    with Session(engine) as session:
        author = Author(platform="demo", external_id="old", handle="old_customer")
        session.add(author)
        session.flush()
        for back in range(1, 14 * 24 + 1):
            for minute in range(6):
                opened = hour - timedelta(hours=back) + timedelta(minutes=minute)
                session.add(
                    Case(
                        source_id="demo",
                        platform="demo",
                        author_id=author.id,
                        thread_key=f"old-{back}-{minute}",
                        status="resolved",
                        category="complaint",
                        cluster="other",
                        priority="normal",
                        language="en",
                        brand="Velora",
                        opened_at=opened,
                        last_activity_at=opened,
                    )
                )
        session.commit()
    service = build_service(crisis_config(tmp_path, [complaint(n) for n in range(6)]), engine, clock=clock)
    service.poller.poll("demo")
    assert [crisis for _, crisis in acknowledgements(engine)] == [False] * 6
    with Session(engine) as session:
        assert session.exec(select(Crisis)).all() == []


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
    import pytest
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
