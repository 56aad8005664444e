"""A recipient's day the clocks change, built from posts: 23 or 25 local hours, each post in its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.config.models import DigestRecipient
from social_care.digest.build import build_digest
from social_care.digest.days import LocalDay
from social_care.digest.model import BrandDay
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk

ROME = ZoneInfo("Europe/Rome")
SPRING_FORWARD = date(2026, 3, 29)  # 02:00 in Rome becomes 03:00
FALL_BACK = date(2026, 10, 25)  # 03:00 in Rome becomes 02:00 again


def digest_of(engine: Engine, tmp_path: Path, day: date, writes: list[datetime]) -> BrandDay:
    """The Rome digest of ``day`` after a customer wrote at each of ``writes`` (UTC)."""
    config = demo_config(tmp_path)
    clock = FakeClock()
    desk = Desk(engine, config, clock)
    for number, moment in enumerate(sorted(writes)):
        clock.now = moment
        desk.post(handle=f"customer{number}", category="complaint")
    recipient = DigestRecipient(email="chiara.conti@velora.example", timezone="Europe/Rome")
    with Session(engine) as session:
        digest = build_digest(
            session, config, recipient, now=datetime(2026, 12, 1, tzinfo=UTC), day=LocalDay(day, ROME)
        )
    [brand_day] = digest.brands
    return brand_day


def local_hours(brand_day: BrandDay) -> list[tuple[str, int]]:
    return [
        (hour.starts_at.astimezone(ROME).strftime("%H:%M%z"), hour.mentions)
        for hour in brand_day.reputation.per_hour
    ]


def test_the_day_the_clocks_go_forward_has_23_hours_and_no_post_is_lost_at_either_end(
    engine: Engine, tmp_path: Path
) -> None:
    writes = [
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 on Saturday in Rome: the day before
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # Rome's midnight
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 summer time, just after the jump
        datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 summer time
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # Monday in Rome
    ]
    brand_day = digest_of(engine, tmp_path, SPRING_FORWARD, writes)

    hours = local_hours(brand_day)
    assert len(hours) == 23
    assert hours[:4] == [("00:00+0100", 1), ("01:00+0100", 0), ("03:00+0200", 1), ("04:00+0200", 0)]
    assert hours[-1] == ("23:00+0200", 1)
    assert brand_day.reputation.mentions.value == 3
    assert brand_day.reputation.mentions.day_before == 1
    assert sum(channel.figure.value or 0 for channel in brand_day.care.messages_by_channel) == 3


def test_the_day_the_clocks_go_back_has_25_hours_and_the_two_two_oclocks_apart(
    engine: Engine, tmp_path: Path
) -> None:
    writes = [
        datetime(2026, 10, 25, 0, 15, tzinfo=UTC),  # 02:15 summer time
        datetime(2026, 10, 25, 1, 15, tzinfo=UTC),  # 02:15 again, winter time
        datetime(2026, 10, 25, 1, 45, tzinfo=UTC),  # 02:45 winter time
        datetime(2026, 10, 25, 22, 59, tzinfo=UTC),  # 23:59 winter time
    ]
    brand_day = digest_of(engine, tmp_path, FALL_BACK, writes)

    hours = local_hours(brand_day)
    assert len(hours) == 25
    assert hours[2:4] == [("02:00+0200", 1), ("02:00+0100", 2)]
    assert hours[-1] == ("23:00+0100", 1)
    assert sum(count for _, count in hours) == brand_day.reputation.mentions.value == 4
    assert brand_day.ends_at.astimezone(UTC) - brand_day.starts_at.astimezone(UTC) == timedelta(hours=25)


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_a_clock_change_day_counts_its_new_cases_in_the_care_figures_too(
    engine: Engine, tmp_path: Path, day: date
) -> None:
    midday = datetime.combine(day, datetime.min.time(), ROME).replace(hour=12).astimezone(UTC)
    brand_day = digest_of(engine, tmp_path, day, [midday, midday + timedelta(minutes=5)])
    assert brand_day.care.backlog.value == 2


def test_in_a_zone_half_an_hour_off_every_post_of_the_day_is_in_one_of_its_hours(
    engine: Engine, tmp_path: Path
) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: the day starts at 18:30 UTC
    config = demo_config(tmp_path)
    clock = FakeClock()
    desk = Desk(engine, config, clock)
    for number, moment in enumerate(
        [datetime(2026, 12, 1, 18, 45, tzinfo=UTC), datetime(2026, 12, 2, 9, 5, tzinfo=UTC)]
    ):
        clock.now = moment
        desk.post(handle=f"customer{number}", category="complaint")
    recipient = DigestRecipient(email="chiara.conti@velora.example", timezone="Asia/Kolkata")
    with Session(engine) as session:
        digest = build_digest(
            session,
            config,
            recipient,
            now=datetime(2026, 12, 5, tzinfo=UTC),
            day=LocalDay(date(2026, 12, 2), kolkata),
        )
    [brand_day] = digest.brands
    hours = brand_day.reputation.per_hour
    assert len(hours) == 24
    assert sum(hour.mentions for hour in hours) == brand_day.reputation.mentions.value == 2
