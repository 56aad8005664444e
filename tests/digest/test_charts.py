"""The charts: small PNGs of a fixed size, the same bytes for the same data, and a sentence that states it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from social_care.digest.charts import HOURS_HEIGHT, SCALE, TREND_HEIGHT, WIDTH, hours_chart, trend_chart
from social_care.digest.model import DayIndex, HourCount
from social_care.digest.words import ENGLISH, ITALIAN
from tests.digest.days import DAY, FALL_BACK, SPRING_FORWARD, ZONE, hours_of, local_day, trend_to
from tests.digest.pictures import bars_in, pixel_size

ROME = ZoneInfo(ZONE)
KILOBYTE = 1024


def test_the_trend_is_a_small_png_drawn_at_twice_its_size_and_the_same_for_the_same_data() -> None:
    chart = trend_chart(trend_to(DAY), content_id="trend-1@digest", words=ENGLISH)
    again = trend_chart(trend_to(DAY), content_id="trend-1@digest", words=ENGLISH)

    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert pixel_size(chart.png) == (WIDTH * SCALE, TREND_HEIGHT * SCALE)
    assert 5 * KILOBYTE < len(chart.png) < 60 * KILOBYTE
    assert again.png == chart.png
    assert chart.content_id == "trend-1@digest"


def test_the_trends_alternative_states_where_it_went_its_extremes_and_its_gaps() -> None:
    chart = trend_chart(trend_to(DAY), content_id="trend-1@digest", words=ENGLISH)
    assert chart.alt == (
        "Reputation index over 30 days: from +12 on 4 Nov to -8 on 3 Dec, "
        "lowest -30 on 22 Nov, highest +14 on 6 Nov; no mentions on 2 of the days"
    )


def test_the_trends_alternative_in_italian_elides_the_article_before_a_vowel() -> None:
    trend = [DayIndex(DAY.replace(day=number), value) for number, value in ((8, 5.0), (11, -20.0), (12, 0.0))]
    alt = trend_chart(trend, content_id="trend-1@digest", words=ITALIAN).alt
    assert alt == (
        "Indice di reputazione negli ultimi 3 giorni: da +5 l'8 dic a 0 il 12 dic, "
        "minimo -20 l'11 dic, massimo +5 l'8 dic"
    )


def test_a_month_without_mentions_draws_an_empty_trend_and_says_so() -> None:
    trend = [DayIndex(point.day, None) for point in trend_to(DAY)]
    chart = trend_chart(trend, content_id="trend-1@digest", words=ENGLISH)
    assert chart.alt == "Reputation index over 30 days: no day had mentions"
    assert pixel_size(chart.png) == (WIDTH * SCALE, TREND_HEIGHT * SCALE)


def test_the_hour_chart_has_a_bar_per_hour_and_names_the_busiest() -> None:
    chart = hours_chart(hours_of(DAY, ZONE), day=DAY, zone=ROME, content_id="hours-1@digest", words=ENGLISH)

    assert pixel_size(chart.png) == (WIDTH * SCALE, HOURS_HEIGHT * SCALE)
    assert bars_in(chart.png) == 24
    assert chart.alt == "Mentions per hour on Thu 3 Dec: 214 in all, most from 15:00 to 16:00 (23)"
    assert len(chart.png) < 60 * KILOBYTE


@pytest.mark.parametrize(
    ("day", "hours", "words", "alt"),
    [
        (
            SPRING_FORWARD,
            23,
            ENGLISH,
            "Mentions per hour on Sun 29 Mar, a day of 23 hours (the clocks went forward): "
            "214 in all, most from 15:00 to 16:00 (23)",
        ),
        (
            FALL_BACK,
            25,
            ENGLISH,
            "Mentions per hour on Sun 25 Oct, a day of 25 hours (the clocks went back): "
            "214 in all, most from 15:00 to 16:00 (23)",
        ),
        (
            SPRING_FORWARD,
            23,
            ITALIAN,
            "Menzioni per ora di dom 29 mar, un giorno di 23 ore (si è passati all'ora legale): "
            "214 in tutto, il massimo dalle 15:00 alle 16:00 (23)",
        ),
    ],
)
def test_a_daylight_saving_day_has_as_many_bars_as_hours_and_its_alternative_says_so(
    day: object, hours: int, words: object, alt: str
) -> None:
    chart = hours_chart(hours_of(day, ZONE), day=day, zone=ROME, content_id="hours-1@digest", words=words)  # type: ignore[arg-type]
    assert bars_in(chart.png) == hours
    assert chart.alt == alt


def test_the_hour_of_a_crisis_peak_stands_out_in_red() -> None:
    hours = hours_of(DAY, ZONE)
    peak = hours[14].starts_at
    plain = hours_chart(hours, day=DAY, zone=ROME, content_id="hours-1@digest", words=ENGLISH)
    marked = hours_chart(
        hours, day=DAY, zone=ROME, content_id="hours-1@digest", words=ENGLISH, crisis_hours={peak}
    )
    assert marked.png != plain.png
    assert bars_in(marked.png) == 24


def test_a_day_without_mentions_still_draws_its_hours_flat() -> None:
    start, _ = local_day(DAY, ZONE)
    hours = [HourCount(hour.starts_at, 0) for hour in hours_of(DAY, ZONE)]
    chart = hours_chart(hours, day=DAY, zone=ROME, content_id="hours-1@digest", words=ENGLISH)
    assert bars_in(chart.png) == 0
    assert chart.alt == "Mentions per hour on Thu 3 Dec: none"
    assert hours[0].starts_at == start
