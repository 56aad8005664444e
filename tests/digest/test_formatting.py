"""Figures in words: a dash for nothing measured, changes with their sign and their tone, local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from social_care.digest.formatting import DASH, Formatter
from social_care.digest.model import Attainment, Figure
from social_care.digest.words import ENGLISH, ITALIAN, words_for
from tests.digest.days import DAY

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 07:00 in Rome


def formatter(words=ENGLISH) -> Formatter:  # type: ignore[no-untyped-def]
    return Formatter(words, zone=ZoneInfo("Europe/Rome"), day=DAY, now=NOW)


def test_nothing_to_measure_is_a_dash_never_zero() -> None:
    for view in (
        formatter().count(Figure(None, 4, 5)),
        formatter().duration(Figure(None)),
        formatter().share(Figure(None, 50)),
    ):
        assert (view.value, view.known, view.day_before, view.week) == (DASH, False, None, None)
    assert formatter().count(Figure(0, None, None)).value == "0"


def test_a_count_changes_in_percent_and_from_nothing_by_its_amount() -> None:
    view = formatter().count(Figure(214, 181, 175.4), better=None)
    assert (view.value, str(view.day_before), str(view.week)) == ("214", "+18%", "+22%")
    assert view.day_before is not None and (view.day_before.arrow, view.day_before.tone) == (
        "\u25b2",
        "neutral",
    )
    from_nothing = formatter().count(Figure(7, 0, 0))
    assert str(from_nothing.day_before) == "+7"


def test_a_change_is_good_or_bad_news_by_which_way_is_better() -> None:
    more_complaints = formatter().count(Figure(41, 30), better="lower").day_before
    slower = formatter().duration(Figure(600, 300)).day_before
    better_index = formatter().index(Figure(-8, -11)).day_before
    unchanged = formatter().count(Figure(40, 40), better="lower").day_before
    assert more_complaints is not None and more_complaints.tone == "bad"
    assert slower is not None and (slower.text, slower.tone) == ("+100%", "bad")
    assert better_index is not None and (better_index.text, better_index.tone) == ("+3", "good")
    assert unchanged is not None and (unchanged.text, unchanged.arrow, unchanged.tone) == ("0%", "=", "flat")


def test_a_share_changes_in_points_and_a_ratio_in_tenths() -> None:
    assert str(formatter().share(Figure(62.5, 58)).day_before) == "+4 pts"
    assert str(formatter(ITALIAN).share(Figure(62.5, 58)).day_before) == "+4 p.p."
    view = formatter(ITALIAN).ratio(Figure(2.4, 2.6, 2.42))
    assert (view.value, str(view.day_before), str(view.week)) == ("2,4", "-0,2", "0,0")


@pytest.mark.parametrize(
    ("seconds", "english", "italian"),
    [
        (42, "42 s", "42 s"),
        (312, "5 min", "5 min"),
        (9_300, "2 h 35 min", "2 h 35 min"),
        (273_600, "3 d 4 h", "3 g 4 h"),
    ],
)
def test_durations_read_as_a_person_says_them(seconds: int, english: str, italian: str) -> None:
    assert formatter().duration(Figure(seconds)).value == english
    assert formatter(ITALIAN).duration(Figure(seconds)).value == italian


def test_an_attainment_just_under_its_floor_never_reads_as_the_floor() -> None:
    view = formatter().attainment(Attainment("complaints", "acknowledgement", 8996, 10000, 90))
    assert (view.percent, view.floor, view.state) == ("89.9%", "90%", "missed")
    met = formatter(ITALIAN).attainment(Attainment("complaints", "response", 60, 63, 90))
    assert (met.percent, met.state) == ("95,2%", "met")
    none = formatter().attainment(Attainment("urgent", "resolution", 0, 0, 95))
    assert (none.percent, none.state) == (DASH, "none")


def test_times_are_the_recipients_and_another_day_names_its_day() -> None:
    assert formatter().moment(datetime(2026, 12, 3, 13, 20, tzinfo=UTC)) == "14:20"
    assert formatter().moment(datetime(2026, 12, 2, 22, 10, tzinfo=UTC)) == "Wed 2 Dec 23:10"
    assert formatter().hour(datetime(2026, 12, 3, 13, 0, tzinfo=UTC)) == "14:00\u201315:00"
    assert formatter().since(NOW - timedelta(hours=5)) == "5 h 00 min"
    assert formatter().until(NOW + timedelta(minutes=40)) == "40 min"


def test_numbers_group_thousands_the_languages_way() -> None:
    assert formatter().number(48_200) == "48,200"
    assert formatter(ITALIAN).number(48_200) == "48.200"
    assert formatter().number(None) == DASH


def test_only_web_addresses_become_links() -> None:
    assert Formatter.link("https://x.com/a/status/1") == "https://x.com/a/status/1"
    assert Formatter.link("javascript:alert(1)") == ""
    assert Formatter.link("data:text/html,<script>") == ""


def test_a_long_post_is_cut_to_an_excerpt_on_one_line() -> None:
    text = "line one\n\nline two " + "word " * 200
    excerpt = Formatter.excerpt(text)
    assert excerpt.startswith("line one line two word") and excerpt.endswith("\u2026") and len(excerpt) <= 320


def test_a_language_the_digest_does_not_speak_falls_back_to_english() -> None:
    assert words_for("de") is ENGLISH and words_for("it") is ITALIAN
