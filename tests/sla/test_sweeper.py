"""The sweeper warns the assignee at 80% of a target and escalates to the supervisor at breach,
once each, at the right minute of business time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.runtime import build_service
from social_care.sla.sweeper import Alert, Sweeper
from social_care.storage.tables import Case, CaseEvent, Employee
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.support.desk import Desk
from tests.support.scenario import post, scenario_config

ROME = ZoneInfo("Europe/Rome")
AGENT = "luca.marino@velora.example"
SUPERVISOR = "chiara.conti@velora.example"


class Inbox:
    """Where alerts land: the notifier interface, kept as a list."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def notify(self, session: Session, alert: Alert) -> None:
        self.alerts.append(alert)


class Unreachable:
    """A notifier that cannot tell anyone yet, for one sweep."""

    def notify(self, session: Session, alert: Alert) -> None:
        raise RuntimeError("nobody can be told right now")


def office_hours_config(tmp_path: Path, calendar: str = "office") -> Config:
    def change(raw: Raw) -> None:
        raw["sla"] = [
            {
                "name": "complaints",
                "categories": ["complaint"],
                "acknowledge_within_minutes": 15,
                "first_response_within_minutes": 60,
                "resolve_within_minutes": 480,
                "calendar": calendar,
            }
        ]

    return demo_config(tmp_path, change)


def rome(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ROME).astimezone(UTC)  # type: ignore[misc]


def sweep_every_minute(
    sweeper: Sweeper, clock: FakeClock, until: datetime
) -> dict[tuple[str, str], datetime]:
    """Run the sweeper once a minute; when each (level, target) alert was first made."""
    made: dict[tuple[str, str], datetime] = {}
    while clock.now <= until:
        for alert in sweeper.run_once().alerts:
            assert (alert.level, alert.target) not in made, f"{alert} made twice"
            made[(alert.level, alert.target)] = clock.now
        clock.advance(minutes=1)
    return made


def alert_events(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(CaseEvent)
            .where(col(CaseEvent.kind).in_(("sla_warning", "sla_breached")))
            .order_by(col(CaseEvent.id))
        )
        return [(row.kind, row.detail["target"], row.detail["recipient"]) for row in rows]


def test_alerts_come_at_the_right_minute_across_a_holiday_weekend(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(rome(2026, 12, 24, 17, 30))  # Christmas Eve, half an hour before closing
    inbox = Inbox()
    desk = Desk(engine, office_hours_config(tmp_path), clock, notifier=inbox)
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)

    made = sweep_every_minute(desk.service.sweeper, clock, until=rome(2026, 12, 28, 17, 0))

    assert made == {
        ("warning", "acknowledgement"): rome(2026, 12, 24, 17, 42),  # 12 of 15 minutes
        ("breach", "acknowledgement"): rome(2026, 12, 24, 17, 45),
        # 30 minutes on Thursday; Christmas, Santo Stefano and Sunday are closed; on Monday:
        ("warning", "response"): rome(2026, 12, 28, 9, 18),  # 48 of 60 minutes
        ("breach", "response"): rome(2026, 12, 28, 9, 30),
        ("warning", "resolution"): rome(2026, 12, 28, 14, 54),  # 384 of 480 minutes
        ("breach", "resolution"): rome(2026, 12, 28, 16, 30),
    }
    assert alert_events(engine) == [
        ("sla_warning", "acknowledgement", AGENT),
        ("sla_breached", "acknowledgement", SUPERVISOR),
        ("sla_warning", "response", AGENT),
        ("sla_breached", "response", SUPERVISOR),
        ("sla_warning", "resolution", AGENT),
        ("sla_breached", "resolution", SUPERVISOR),
    ]
    assert [(alert.level, alert.recipient) for alert in inbox.alerts][:2] == [
        ("warning", AGENT),
        ("breach", SUPERVISOR),
    ]


def test_a_round_the_clock_policy_alerts_in_plain_minutes(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 25, 23, 50, tzinfo=UTC))
    desk = Desk(engine, office_hours_config(tmp_path, calendar="24/7"), clock)
    desk.post()
    made = sweep_every_minute(desk.service.sweeper, clock, until=clock.now + timedelta(minutes=70))
    start = datetime(2026, 12, 25, 23, 50, tzinfo=UTC)
    assert made == {
        ("warning", "acknowledgement"): start + timedelta(minutes=12),
        ("breach", "acknowledgement"): start + timedelta(minutes=15),
        ("warning", "response"): start + timedelta(minutes=48),
        ("breach", "response"): start + timedelta(minutes=60),
    }


def test_an_acknowledged_and_answered_case_raises_no_alert_for_those_targets(
    engine: Engine, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, office_hours_config(tmp_path, calendar="24/7"), clock)
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)
    clock.advance(minutes=5)
    desk.acknowledge(case_id)
    clock.advance(minutes=20)
    desk.reply(case_id, AGENT)
    made = sweep_every_minute(desk.service.sweeper, clock, until=clock.now + timedelta(hours=9))
    assert set(made) == {("warning", "resolution"), ("breach", "resolution")}


def test_the_reply_clock_waits_on_the_customer_and_restarts_when_they_write(
    engine: Engine, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, office_hours_config(tmp_path, calendar="24/7"), clock)
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)
    desk.acknowledge(case_id)
    clock.advance(minutes=30)
    desk.reply(case_id, AGENT)
    assert desk.case(case_id).response_due_at is None
    assert desk.case(case_id).status == "responded"

    clock.advance(hours=2)  # the customer takes their time: no clock runs against us
    desk.post(reply_to=desk.case(case_id).thread_key)
    restarted = clock.now
    case = desk.case(case_id)
    assert (case.status, case.response_due_at) == ("assigned", restarted + timedelta(minutes=60))
    made = sweep_every_minute(desk.service.sweeper, clock, until=restarted + timedelta(minutes=61))
    assert made[("warning", "response")] == restarted + timedelta(minutes=48)
    assert made[("breach", "response")] == restarted + timedelta(minutes=60)


def test_two_sweepers_at_the_same_minute_alert_once(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    config = office_hours_config(tmp_path, calendar="24/7")
    desk = Desk(engine, config, clock)
    desk.post()
    clock.advance(minutes=20)
    first, second = Inbox(), Inbox()
    Sweeper(engine, config, clock=clock, notifier=first).run_once()
    Sweeper(engine, config, clock=clock, notifier=second).run_once()
    assert [(alert.level, alert.target) for alert in first.alerts] == [
        ("warning", "acknowledgement"),
        ("breach", "acknowledgement"),
    ]
    assert second.alerts == []
    assert len(alert_events(engine)) == 2


def new_york_config(tmp_path: Path) -> Config:
    def change(raw: Raw) -> None:
        raw["calendars"].append(
            {
                "name": "new-york",
                "timezone": "America/New_York",
                "hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": time(9), "end": time(17)},
                "holidays": [date(2026, 11, 26), date(2026, 11, 27)],  # Thanksgiving and the day after
            }
        )
        raw["sla"] = [
            {
                "name": "complaints",
                "categories": ["complaint"],
                "first_response_within_minutes": 60,
                "calendar": "new-york",
            }
        ]

    return demo_config(tmp_path, change)


def test_alerts_follow_the_calendars_own_time_zone_and_holidays(engine: Engine, tmp_path: Path) -> None:
    new_york = ZoneInfo("America/New_York")
    opened = datetime(2026, 11, 25, 16, 30, tzinfo=new_york)  # 21:30 UTC, half an hour before closing
    clock = FakeClock(opened.astimezone(UTC))
    desk = Desk(engine, new_york_config(tmp_path), clock)
    desk.post()
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=new_york).astimezone(UTC)
    made: dict[tuple[str, str], datetime] = {}
    while clock.now <= monday + timedelta(
        minutes=40
    ):  # every quarter hour over the holidays, then every minute
        for alert in desk.service.sweeper.run_once().alerts:
            made[(alert.level, alert.target)] = clock.now
        clock.advance(minutes=15 if clock.now < monday else 1)
    assert made == {
        ("warning", "response"): datetime(2026, 11, 30, 14, 18, tzinfo=UTC),  # 09:18 in New York
        ("breach", "response"): datetime(2026, 11, 30, 14, 30, tzinfo=UTC),
    }


def test_cases_from_the_pipeline_are_swept(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = scenario_config(tmp_path, [post("p1", "@velora my Velora Pulse is not working", direct=True)])
    inbox = Inbox()
    service = build_service(config, engine, clock=clock, notifier=inbox)
    service.poller.poll("demo")
    service.sender.run_once()  # the acknowledgement goes out at once: that clock stops
    clock.advance(minutes=48)  # the example's complaints: a person's answer within 60 minutes
    service.sweeper.run_once()
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assignee = session.get_one(Employee, case.assignee_id)
    assert [(alert.level, alert.target, alert.recipient) for alert in inbox.alerts] == [
        ("warning", "response", assignee.email)
    ]


def test_sweepers_racing_in_parallel_alert_once_per_case_and_target(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    config = office_hours_config(tmp_path, calendar="24/7")
    desk = Desk(engine, config, clock)
    cases = [desk.post(handle=f"customer{index}") for index in range(20)]
    clock.advance(minutes=20)
    inboxes = [Inbox() for _ in range(4)]
    sweepers = [Sweeper(engine, config, clock=clock, notifier=inbox) for inbox in inboxes]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(sweeper.run_once) for sweeper in sweepers]:
            future.result()
    made = sorted((alert.case_id, alert.level) for inbox in inboxes for alert in inbox.alerts)
    assert made == sorted((case_id, level) for case_id in cases for level in ("warning", "breach"))
    assert len(alert_events(engine)) == 2 * len(cases)


def test_an_alert_nobody_could_be_told_of_is_not_recorded_and_is_made_next_time(
    engine: Engine, tmp_path: Path
) -> None:
    clock = FakeClock(rome(2026, 11, 23, 10, 0))
    desk = Desk(engine, office_hours_config(tmp_path), clock, notifier=Unreachable())
    desk.assign(desk.post(), "care-it", AGENT)
    clock.advance(minutes=12)
    assert desk.service.sweeper.run_once().alerts == []
    assert alert_events(engine) == []
    inbox = Inbox()
    later = Desk(engine, office_hours_config(tmp_path), clock, notifier=inbox)
    assert [(a.level, a.target) for a in later.service.sweeper.run_once().alerts] == [
        ("warning", "acknowledgement")
    ]
    assert [(a.level, a.target) for a in inbox.alerts] == [("warning", "acknowledgement")]
    assert alert_events(engine) == [("sla_warning", "acknowledgement", AGENT)]


def test_a_case_another_transaction_is_changing_is_left_to_the_next_sweep_and_its_change_kept(
    engine: Engine, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no transaction changes a case during a sweep")
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, office_hours_config(tmp_path, calendar="24/7"), clock)
    case_id = desk.post()
    clock.advance(minutes=13)  # the acknowledgement's warning is due
    later = clock.now + timedelta(hours=5)
    with engine.connect() as other:
        other.execute(
            update(Case)
            .where(col(Case.id) == case_id)
            .values(response_due_at=later, last_activity_at=clock.now)
        )
        assert desk.service.sweeper.run_once().alerts == []  # not waiting on the other transaction either
        other.commit()
    with Session(engine) as session:
        case = session.get_one(Case, case_id)
        assert (case.response_due_at, case.last_activity_at) == (later, clock.now)
    assert [(a.level, a.target) for a in desk.service.sweeper.run_once().alerts] == [
        ("warning", "acknowledgement")
    ]
