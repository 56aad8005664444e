"""Finding the watched names in a post (the exact matcher)."""

from __future__ import annotations

from pathlib import Path

from social_care.matching import WatchMatcher
from social_care.watchlist import watch_terms
from tests.support.configs import demo_config


def matcher(tmp_path: Path) -> WatchMatcher:
    return WatchMatcher(watch_terms(demo_config(tmp_path)))


def terms(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    return [(match.term, match.kind) for match in matcher(tmp_path).match(text)]


def test_names_aliases_handles_and_hashtags_are_found(tmp_path: Path) -> None:
    assert terms(tmp_path, "My Pulse 3 died, @velora_help #Velora") == [
        ("Velora Pulse", "product"),
        ("Velora", "brand"),
        ("Velora", "brand"),
    ]


def test_the_longest_name_wins(tmp_path: Path) -> None:
    assert terms(tmp_path, "velora pulse battery") == [("Velora Pulse", "product")]


def test_case_accents_and_invisible_characters_do_not_hide_a_name(tmp_path: Path) -> None:
    assert terms(tmp_path, "VELORA\u200b casa") == [("Velora Casa", "product")]
    assert terms(tmp_path, "Vélora") == [("Velora", "brand")]


def test_names_inside_other_words_are_not_matches(tmp_path: Path) -> None:
    assert terms(tmp_path, "Veloraptor fossils and @velorafan") == []


def test_exclusion_phrases_suppress_the_names_they_contain(tmp_path: Path) -> None:
    assert terms(tmp_path, "Dinner at Villa Velora, then Velora Beach") == []
    assert terms(tmp_path, "Villa Velora wifi is better than my Velora Casa") == [("Velora Casa", "product")]


def test_company_names_and_staff_full_names_match_but_not_a_first_name_alone(tmp_path: Path) -> None:
    assert terms(tmp_path, "Velora S.p.A. appoints Marco Bellini") == [
        ("Velora S.p.A.", "company"),
        ("Marco Bellini", "staff"),
    ]
    assert terms(tmp_path, "Marco says hi") == []


def test_spans_point_at_the_matched_text(tmp_path: Path) -> None:
    [match] = matcher(tmp_path).match("I love my VeloraPay card")
    assert "I love my VeloraPay card".casefold()[match.start : match.end] == "velorapay"
