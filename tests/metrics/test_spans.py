"""A period as rollup rows: whole UTC days as day rows, the shorter way at each edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from social_care.metrics.rollups import DAY, HOUR
from social_care.metrics.spans import Piece, pieces, sign_of

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def hours_counted(found: list[Piece], since: datetime, until: datetime) -> list[datetime]:
    """Every UTC hour between ``since`` and ``until`` as many times as the pieces count it, with a
    day row standing for its 24 hours."""
    counted = []
    moment = since
    while moment < until:
        day_start = moment.replace(hour=0)
        times = sign_of(found, HOUR, moment) + sign_of(found, DAY, day_start)
        counted += [moment] * times
        moment += timedelta(hours=1)
    return counted


def test_a_day_in_rome_is_an_edge_hour_a_utc_day_and_an_hour_taken_away() -> None:
    tuesday = datetime(2026, 12, 8, tzinfo=ROME)
    assert pieces(tuesday, tuesday + timedelta(days=1)) == [
        Piece(HOUR, utc(7, 23), utc(8), +1),
        Piece(HOUR, utc(8, 23), utc(9), -1),
        Piece(DAY, utc(8), utc(9), +1),
    ]


def test_a_day_in_new_york_takes_five_hours_away_and_adds_five() -> None:
    tuesday = datetime(2026, 12, 8, tzinfo=NEW_YORK)  # 05:00 UTC
    found = pieces(tuesday, tuesday + timedelta(days=1))
    assert found == [
        Piece(HOUR, utc(8), utc(8, 5), -1),
        Piece(HOUR, utc(9), utc(9, 5), +1),
        Piece(DAY, utc(8), utc(9), +1),
    ]


def test_every_hour_of_a_period_counts_once_and_no_other_hour_counts() -> None:
    for since, until in [
        (datetime(2026, 12, 8, tzinfo=ROME), datetime(2026, 12, 9, tzinfo=ROME)),
        (datetime(2026, 12, 8, tzinfo=NEW_YORK), datetime(2026, 12, 15, tzinfo=NEW_YORK)),
        (
            utc(3, 7),
            utc(
                6,
                7,
            ),
        ),  # a report to a moment inside a day
        (utc(3, 13), utc(4, 2)),
        (utc(3), utc(10)),
        (utc(3, 4), utc(3, 9)),
    ]:
        found = pieces(since, until)
        wide_since, wide_until = (
            since.astimezone(UTC) - timedelta(days=2),
            until.astimezone(UTC) + timedelta(days=2),
        )
        wanted = []
        moment = since.astimezone(UTC)
        while moment < until:
            wanted.append(moment)
            moment += timedelta(hours=1)
        assert hours_counted(found, wide_since.replace(hour=0), wide_until) == wanted, (since, until)


def test_whole_utc_days_are_day_rows_alone_and_an_empty_period_is_nothing() -> None:
    assert pieces(utc(3), utc(10)) == [Piece(DAY, utc(3), utc(10), +1)]
    assert pieces(utc(3, 5), utc(3, 5)) == []


def test_a_bound_inside_an_hour_counts_from_that_hours_start() -> None:
    assert pieces(utc(3, 4) + timedelta(minutes=30), utc(3, 6)) == [Piece(HOUR, utc(3, 4), utc(3, 6), +1)]
