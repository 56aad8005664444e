"""Business time: minutes that run only inside opening hours, in the calendar's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from social_care.config import ConfigError, load_config
from social_care.config.models import BusinessCalendar, WorkingHours
from social_care.resources import example_config
from social_care.sla.calendar import Calendar

ROME = ZoneInfo("Europe/Rome")
OFFICE = Calendar.from_config(
    BusinessCalendar(
        name="office",
        timezone="Europe/Rome",
        hours=WorkingHours(days=["mon", "tue", "wed", "thu", "fri"], start=time(9), end=time(18)),
        holidays=[date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)],
    )
)


def rome(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ROME)  # type: ignore[misc]


def test_minutes_inside_opening_hours_are_added_as_they_are() -> None:
    assert OFFICE.add(rome(2026, 11, 23, 10, 0), timedelta(minutes=45)) == rome(2026, 11, 23, 10, 45)


def test_a_clock_started_before_opening_runs_from_the_opening() -> None:
    assert OFFICE.add(rome(2026, 11, 23, 7, 30), timedelta(minutes=15)) == rome(2026, 11, 23, 9, 15)


def test_what_is_left_at_closing_time_carries_over_the_night() -> None:
    assert OFFICE.add(rome(2026, 11, 24, 17, 30), timedelta(minutes=60)) == rome(2026, 11, 25, 9, 30)


def test_the_weekend_does_not_count() -> None:
    assert OFFICE.add(rome(2026, 11, 27, 17, 30), timedelta(minutes=60)) == rome(2026, 11, 30, 9, 30)


def test_holidays_do_not_count() -> None:
    christmas_eve = rome(2026, 12, 24, 17, 45)
    assert OFFICE.add(christmas_eve, timedelta(minutes=30)) == rome(2026, 12, 28, 9, 15)


def test_hours_stay_local_when_daylight_saving_ends_over_the_weekend() -> None:
    friday = rome(2026, 10, 23, 17, 0)  # 15:00 UTC, summer time
    due = OFFICE.add(friday, timedelta(minutes=120))
    assert due == rome(2026, 10, 26, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_hours_stay_local_when_daylight_saving_starts_over_the_weekend() -> None:
    due = OFFICE.add(rome(2026, 3, 27, 17, 0), timedelta(minutes=120))
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_target_longer_than_a_day_spans_several_working_days() -> None:
    assert OFFICE.add(rome(2026, 11, 26, 12, 0), timedelta(hours=24)) == rome(2026, 11, 30, 18, 0)


def test_a_round_the_clock_calendar_adds_plain_time() -> None:
    start = datetime(2026, 11, 28, 23, 50, tzinfo=UTC)
    assert Calendar.always().add(start, timedelta(minutes=30)) == datetime(2026, 11, 29, 0, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "start",
    [rome(2026, 11, 23, 8, 0), rome(2026, 11, 27, 16, 59), rome(2026, 12, 24, 12, 0), rome(2026, 10, 24, 3)],
)
@pytest.mark.parametrize("minutes", [1, 59, 540, 2000])
def test_elapsed_business_time_undoes_adding_it(start: datetime, minutes: int) -> None:
    duration = timedelta(minutes=minutes)
    assert OFFICE.elapsed(start, OFFICE.add(start, duration)) == duration


def test_elapsed_business_time_skips_nights_weekends_and_holidays() -> None:
    assert OFFICE.elapsed(rome(2026, 12, 24, 17, 0), rome(2026, 12, 28, 10, 0)) == timedelta(hours=2)


def test_a_calendar_that_closes_before_it_opens_is_reported_with_its_key(tmp_path: Path) -> None:
    office_hours = "  start = 09:00:00\n  end = 18:00:00\n\n[[sla]]"
    text = example_config().read_text(encoding="utf-8")
    assert office_hours in text
    path = tmp_path / "social-care.toml"
    path.write_text(text.replace(office_hours, "  start = 18:00:00\n  end = 09:00:00\n\n[[sla]]"), "utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert [str(problem) for problem in error.value.problems] == [
        f"{path}: calendars[0].hours: expected start before end, found 18:00 to 09:00"
    ]
