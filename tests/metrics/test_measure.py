"""Every figure of the report equals the value computed by hand on one fixed day of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.config import Config
from social_care.metrics import Durations, Filters, Period, Report, SlaAttainment, measure, measure_by
from social_care.metrics.measure import UNROUTED
from social_care.storage.tables import CsatResponse
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.support.desk import Desk

LUCA, JAMES, PAOLA, ADMIN = (
    "luca.marino@velora.example",
    "james.wright@velora.example",
    "paola.ricci@velora.example",
    "admin@velora.example",
)
DAY = Period(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), datetime(2026, 11, 23, 21, 0, tzinfo=UTC))


def minutes(*values: float) -> list[timedelta]:
    return [timedelta(minutes=value) for value in values]


def durations(*values: float) -> Durations:
    return Durations.of(minutes(*values))


def policies(raw: Raw) -> None:
    raw["sla"] = [
        {
            "name": "complaints",
            "categories": ["complaint"],
            "acknowledge_within_minutes": 15,
            "first_response_within_minutes": 60,
            "resolve_within_minutes": 480,
            "floor_percent": 90,
        },
        {
            "name": "inquiries",
            "categories": ["inquiry"],
            "acknowledge_within_minutes": 15,
            "first_response_within_minutes": 60,
            "resolve_within_minutes": 1440,
            "floor_percent": 80,
        },
    ]


def at(clock: FakeClock, hour: int, minute: int = 0) -> None:
    clock.now = datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


@pytest.fixture
def day(engine: Engine, tmp_path: Path) -> tuple[Engine, Config]:
    """Six cases; the story of each is told in the comments, times in UTC."""
    clock = FakeClock()
    config = demo_config(tmp_path, policies)
    desk = Desk(engine, config, clock)
    at(clock, 8, 0)
    f = desk.post(handle="frank")  # F: opened before the period
    desk.assign(f, "care-it", LUCA)
    at(clock, 8, 5)
    desk.acknowledge(f)
    at(clock, 9, 0)
    a = desk.post(handle="anna")  # A: answered twice, resolved
    desk.assign(a, "care-it", LUCA)
    at(clock, 9, 5)
    desk.acknowledge(a)
    at(clock, 9, 10)
    b = desk.post(handle="bob")  # B: late all along, still open
    desk.assign(b, "care-en", JAMES)
    at(clock, 9, 26)
    desk.service.sweeper.run_once()  # B's acknowledgement and F's reply are breached now
    at(clock, 9, 30)
    desk.reply(a, LUCA)
    at(clock, 9, 40)
    desk.acknowledge(b)
    at(clock, 9, 50)
    desk.reply(f, LUCA, resolves=True)
    at(clock, 10, 0)
    desk.post(handle="anna", reply_to=desk.case(a).thread_key)
    at(clock, 10, 20)
    desk.reply(a, LUCA, resolves=True)
    at(clock, 11, 10)
    desk.reply(b, JAMES)
    at(clock, 12, 0)
    c = desk.post(handle="carla", category="inquiry")  # C: an inquiry answered and resolved by a person
    desk.assign(c, "care-en", PAOLA)
    at(clock, 12, 45)
    desk.reply(c, PAOLA, resolves=True)
    at(clock, 14, 0)
    d = desk.post(handle="dave")  # D: spam
    at(clock, 14, 5)
    desk.dismiss(d, "spam", ADMIN)
    at(clock, 20, 0)
    desk.post(handle="erin")  # E: untouched at the end of the day
    with Session(engine) as session:
        for case_id, score, hour, minute in ((f, 4, 10, 0), (a, 5, 10, 30), (c, 3, 13, 0)):
            answered = datetime(2026, 11, 23, hour, minute, tzinfo=UTC)
            session.add(CsatResponse(case_id=case_id, score=score, answered_at=answered))
        session.commit()
    return engine, config


def report(day: tuple[Engine, Config], filters: Filters | None = None) -> Report:
    engine, config = day
    with Session(engine) as session:
        return measure(session, config, DAY, filters or Filters())


def test_acknowledgement_time_counts_a_persons_first_reply_as_acknowledging(
    day: tuple[Engine, Config],
) -> None:
    # A 5, B 30, C 45 (acknowledged by Paola's answer); F was acknowledged before the period.
    assert report(day).acknowledgement == Durations(3, timedelta(minutes=26, seconds=40), *minutes(30, 45))


def test_first_human_response_time(day: tuple[Engine, Config]) -> None:
    # A 30, C 45, F 110, B 120: median between 45 and 110, p90 the nearest rank (4th of 4).
    assert report(day).first_response == Durations(4, *minutes(76.25, 77.5, 120))


def test_response_time_counts_every_answer_from_the_customers_oldest_waiting_message(
    day: tuple[Engine, Config],
) -> None:
    # A 30 and 20 (after Anna wrote again at 10:00), C 45, F 110, B 120.
    assert report(day).response == Durations(5, *minutes(65, 45, 120))


def test_resolution_time_median_and_p90(day: tuple[Engine, Config]) -> None:
    # C 45, A 80, F 110 (opened before the period, resolved in it).
    assert report(day).resolution == Durations(3, timedelta(minutes=78, seconds=20), *minutes(80, 110))


def test_sla_attainment_against_each_policys_floor(day: tuple[Engine, Config]) -> None:
    assert report(day).attainment == [
        # A met; B breached (counted once, at the breach, not again when acknowledged late).
        SlaAttainment("complaints", "acknowledgement", 1, 2, 90),
        # A twice in time; F breached at 09:26; B answered late without a sweep noticing.
        SlaAttainment("complaints", "response", 2, 4, 90),
        SlaAttainment("complaints", "resolution", 2, 2, 90),
        SlaAttainment("inquiries", "acknowledgement", 0, 1, 80),
        SlaAttainment("inquiries", "response", 1, 1, 80),
        SlaAttainment("inquiries", "resolution", 1, 1, 80),
    ]
    complaints_ack = report(day).attainment[0]
    assert (complaints_ack.percent, complaints_ack.meets_floor) == (50.0, False)


def test_backlog_and_its_age_at_the_end_of_the_period(day: tuple[Engine, Config]) -> None:
    backlog = report(day).backlog
    # B waits on the customer since 11:10 but is still open (opened 09:10); E opened at 20:00.
    assert backlog.open_cases == 2
    assert backlog.age == Durations(2, *minutes(385, 385, 710))
    assert backlog.oldest == timedelta(minutes=710)


def test_resolution_rate_of_the_cases_opened_in_the_period(day: tuple[Engine, Config]) -> None:
    figures = report(day)
    # A, B, C and E opened (D was spam, F opened earlier); A and C resolved.
    assert (figures.opened, figures.resolved_of_opened, figures.resolution_rate) == (4, 2, 50.0)


def test_interactions_per_case_and_volume_by_channel(day: tuple[Engine, Config]) -> None:
    figures = report(day)
    # A 5, B 3, C 2, D 1, E 1, F 1 (its reply): 13 over 6 cases.
    assert figures.interactions_per_case == pytest.approx(13 / 6)
    assert figures.volume_by_channel == {"demo": 6}


def test_csat(day: tuple[Engine, Config]) -> None:
    csat = report(day).csat
    assert (csat.responses, csat.mean_score, csat.satisfied_percent) == (3, 4.0, pytest.approx(200 / 3))


def test_figures_for_one_team(day: tuple[Engine, Config]) -> None:
    figures = report(day, Filters(team="care-en"))  # B and C
    assert figures.acknowledgement == Durations.of(minutes(30, 45))
    assert figures.first_response == Durations.of(minutes(45, 120))
    assert (figures.opened, figures.resolved_of_opened, figures.backlog.open_cases) == (2, 1, 1)
    assert figures.csat.responses == 1


def test_figures_for_one_category(day: tuple[Engine, Config]) -> None:
    figures = report(day, Filters(category="inquiry", source="demo"))
    assert figures.resolution == Durations.of(minutes(45))
    measured = {(item.policy, item.target): item.measured for item in figures.attainment}
    assert measured == {
        ("complaints", "acknowledgement"): 0,
        ("complaints", "response"): 0,
        ("complaints", "resolution"): 0,
        ("inquiries", "acknowledgement"): 1,
        ("inquiries", "response"): 1,
        ("inquiries", "resolution"): 1,
    }
    assert report(day, Filters(source="elsewhere")).opened == 0


def test_figures_team_by_team(day: tuple[Engine, Config]) -> None:
    engine, config = day
    with Session(engine) as session:
        teams = measure_by(session, config, DAY, "team")
    # care-it: A (F opened before the period); care-en: B and C; D (spam) and E were never routed.
    assert {name: figures.opened for name, figures in teams.items()} == {
        "care-it": 1,
        "care-en": 2,
        "payments": 0,
        "unrouted": 1,
    }
    assert teams["care-it"].resolution == Durations.of(minutes(80, 110))


def test_the_team_rows_and_unrouted_add_up_to_the_total(day: tuple[Engine, Config]) -> None:
    engine, config = day
    with Session(engine) as session:
        total = measure(session, config, DAY)
        rows = measure_by(session, config, DAY, "team").values()
    assert sum(row.opened for row in rows) == total.opened == 4
    assert sum(row.resolved_of_opened for row in rows) == total.resolved_of_opened
    assert sum(row.backlog.open_cases for row in rows) == total.backlog.open_cases
    messages = [sum(row.volume_by_channel.values()) for row in rows]
    assert sum(messages) == sum(total.volume_by_channel.values()) == 6


def test_the_unrouted_row_holds_the_cases_no_rule_routed(day: tuple[Engine, Config]) -> None:
    figures = report(day, Filters(team=UNROUTED))  # D (spam) and E, still waiting
    assert (figures.opened, figures.backlog.open_cases, figures.volume_by_channel) == (1, 1, {"demo": 2})
    engine, config = day
    with Session(engine) as session:
        assert list(measure_by(session, config, DAY, "team", Filters(team=UNROUTED))) == [UNROUTED]


def test_a_team_the_configuration_no_longer_names_keeps_its_row(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Cases routed to a team since removed from the configuration still count, under its name."""
    config = demo_config(tmp_path, policies)
    desk = Desk(engine, config, clock)
    at(clock, 10)
    desk.assign(desk.post(handle="gina"), "night-shift", LUCA)
    desk.post(handle="hugo")
    with Session(engine) as session:
        teams = measure_by(session, config, DAY, "team")
    assert {name: figures.opened for name, figures in teams.items()} == {
        "care-it": 0,
        "care-en": 0,
        "payments": 0,
        "night-shift": 1,
        "unrouted": 1,
    }


def test_a_breakdown_within_a_filter_keeps_only_that_group(day: tuple[Engine, Config]) -> None:
    engine, config = day
    with Session(engine) as session:
        assert list(measure_by(session, config, DAY, "team", Filters(team="care-en"))) == ["care-en"]
        with pytest.raises(ValueError, match="team, source, category"):
            measure_by(session, config, DAY, "author")


def test_a_local_day_counts_its_own_hours_not_those_of_the_utc_day(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Rome's 23 November runs from 23:00 UTC on the 22nd: the day rows, kept by UTC day, must
    not stand in for it (as the digest's and the report's local days once read them)."""
    config = demo_config(tmp_path, policies)
    desk = Desk(engine, config, clock)
    written = [
        datetime(2026, 11, 22, 23, 10, tzinfo=UTC),  # 00:10 on the 23rd in Rome
        datetime(2026, 11, 22, 23, 40, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 23, 30, tzinfo=UTC),  # 00:30 on the 24th in Rome
    ]
    for number, moment in enumerate(written):
        clock.now = moment
        desk.post(handle=f"night-owl-{number}")
    rome = ZoneInfo("Europe/Rome")
    day = Period(datetime(2026, 11, 23, tzinfo=rome), datetime(2026, 11, 24, tzinfo=rome))
    with Session(engine) as session:
        figures = measure(session, config, day)
    assert (figures.opened, figures.volume_by_channel) == (3, {"demo": 3})


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        Period(DAY.until, DAY.since)
