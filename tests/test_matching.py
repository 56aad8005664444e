"""Finding the watch list in a post: exact, misspelt, run together, never inside an exclusion."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rapidfuzz.distance import Indel

from social_care.config.models import Brand, Person, Product
from social_care.matching import WatchMatcher
from social_care.text import tokenize
from social_care.watchlist import brand_terms, watch_terms
from tests.support.configs import demo_config
from tests.support.typos import typed_badly


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> WatchMatcher:
    return WatchMatcher(watch_terms(demo_config(tmp_path_factory.mktemp("config"))))


def found(matcher: WatchMatcher, text: str) -> list[tuple[str, str]]:
    return [(match.term, match.matched_text) for match in matcher.match(text)]


def test_names_aliases_handles_and_hashtags_are_found(matcher: WatchMatcher) -> None:
    assert found(matcher, "My Pulse 3 died, @velora_help #Velora") == [
        ("Velora Pulse", "Pulse 3"),
        ("Velora", "velora_help"),
        ("Velora", "Velora"),
    ]


def test_the_longest_name_wins(matcher: WatchMatcher) -> None:
    assert found(matcher, "velora pulse battery") == [("Velora Pulse", "velora pulse")]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Velorra support is slow", "Velora"),
        ("Vellora never answers", "Velora"),
        ("my Velora Puls broke", "Velora Pulse"),
        ("Vellora Puls again", "Velora Pulse"),
        ("the Velora Caza router", "Velora Casa"),
        ("VeloraPulse strap", "Velora Pulse"),
        ("velorapay charged me", "Velora Pay"),
        ("velora-pay is down", "Velora Pay"),
        ("#VeloraPulse firmware", "Velora Pulse"),
        ("Marco Belini helped me", "Marco Bellini"),
    ],
)
def test_misspellings_and_spacing_variants_are_found(matcher: WatchMatcher, text: str, term: str) -> None:
    assert [match.term for match in matcher.match(text)] == [term]


def test_fuzzy_hits_score_below_exact_ones(matcher: WatchMatcher) -> None:
    [exact] = matcher.match("Velora")
    [fuzzy] = matcher.match("Velorra")
    assert exact.score == 100.0 and 88 <= fuzzy.score < 100


def test_case_accents_look_alikes_and_invisible_characters_do_not_hide_a_name(matcher: WatchMatcher) -> None:
    assert found(matcher, "VELORA\u200b casa") == [("Velora Casa", "VELORA\u200b casa")]
    assert found(matcher, "Vélora") == [("Velora", "Vélora")]
    assert found(matcher, "V\u0435l\u043era") == [("Velora", "V\u0435l\u043era")]  # Cyrillic e and o
    full_width = "\uff36\uff45\uff4c\uff4f\uff52\uff41"
    assert found(matcher, full_width) == [("Velora", full_width)]


def test_names_inside_other_words_and_distant_spellings_are_not_matches(matcher: WatchMatcher) -> None:
    assert found(matcher, "Veloraptor fossils and @velorafan") == []
    assert found(matcher, "Belora and Valery") == []


def test_a_number_in_a_name_must_be_exact(matcher: WatchMatcher) -> None:
    assert found(matcher, "the Pulse 2 is older") == []


def test_no_exclusion_phrase_produces_a_match(matcher: WatchMatcher) -> None:
    assert found(matcher, "Dinner at Villa Velora, then Velora Beach") == []
    assert found(matcher, "Villa Velora wifi beats my Velora Casa") == [("Velora Casa", "Velora Casa")]


def test_company_names_and_staff_full_names_match_but_not_a_first_name_alone(matcher: WatchMatcher) -> None:
    assert found(matcher, "Velora S.p.A. appoints Marco Bellini") == [
        ("Velora S.p.A.", "Velora S.p.A"),
        ("Marco Bellini", "Marco Bellini"),
    ]
    assert found(matcher, "Marco says hi to Giulia") == []
    assert found(matcher, "G. Ferraris spoke") == [("Giulia Ferraris", "G. Ferraris")]


def test_spans_point_into_the_original_text(matcher: WatchMatcher) -> None:
    text = "Ciao! Il mio #VeloraPulse è rotto"
    [match] = matcher.match(text)
    assert text[match.start : match.end] == "VeloraPulse" and match.kind == "product"


def test_matching_works_on_tokens_shared_with_the_classifier(matcher: WatchMatcher) -> None:
    text = "@velora_help the Velora Casa drops wifi"
    assert matcher.match_tokens(text, tokenize(text)) == matcher.match(text)


def test_a_term_with_a_stricter_threshold_ignores_near_misses() -> None:
    brand = Brand(name="Acme", products=[Product(name="Acme Phone", fuzzy_threshold=80)], fuzzy_threshold=100)
    matcher = WatchMatcher(brand_terms(brand))
    assert [match.term for match in matcher.match("my Acme Fone died")] == ["Acme Phone"]
    assert [match.term for match in matcher.match("acmephone")] == ["Acme Phone"]
    assert [match.term for match in matcher.match("Acmee")] == []


def test_many_terms_do_not_change_what_is_found() -> None:
    people = [Person(name=f"Person{number} Surname{number}") for number in range(2000)]
    brand = Brand(name="Velora", products=[Product(name="Velora Casa")], people=people)
    matcher = WatchMatcher(brand_terms(brand))
    assert [match.term for match in matcher.match("Vellora Casa and Person1999 Surname1999")] == [
        "Velora Casa",
        "Person1999 Surname1999",
    ]


def test_a_misspelling_is_found_the_first_time_and_every_time_after(tmp_path: Path) -> None:
    matcher = WatchMatcher(watch_terms(demo_config(tmp_path)))
    posts = ["nothing to see here", "Vellora support again", "the Vellora app", "vellora"]
    assert [[match.term for match in matcher.match(text)] for text in posts] == [
        [],
        ["Velora"],
        ["Velora"],
        ["Velora"],
    ]


def test_a_common_word_close_to_a_name_but_under_its_threshold_is_not_a_match() -> None:
    brand = Brand(name="Aftera", fuzzy_threshold=95)
    matcher = WatchMatcher(brand_terms(brand))
    assert found(matcher, "after the update") == []
    assert found(matcher, "Aftera after Afterra") == [("Aftera", "Aftera")]


@pytest.mark.parametrize(
    "text",
    [
        "Plain words, punctuation: and numbers 42!",
        "Caffè è già freddo",
        "@velora_help the #VeloraPulse and iPhone",
        "VELORA\u200b casa, sooooo slow",
        "see https://example.com/x and www.example.com now",
    ],
)
def test_spans_of_every_word_point_at_it_in_the_original_text(text: str) -> None:
    tokens = tokenize(text)
    assert len(tokens.starts) == len(tokens.ends) == len(tokens)
    for word, start, end in zip(tokens.words, tokens.starts, tokens.ends, strict=True):
        assert tokenize(text[start:end]).words[0] == word


def _two_letters_more(word: str, rng: random.Random) -> str:
    for _ in range(2):
        at = rng.randrange(1, len(word))
        word = word[:at] + rng.choice("aeiourstn") + word[at:]
    return word


@pytest.mark.parametrize("threshold", [75, 80, 88, 95])
def test_a_misspelt_name_is_found_exactly_when_it_is_close_enough_for_its_threshold(threshold: int) -> None:
    """One typing error, or (in a word of nine letters or more) two letters too many:
    found when the written word is as close as the name's threshold asks, never when not,
    whatever the threshold and the length of the name."""
    names = ["Velora", "Ferraris", "Quintavalle", "Brightwater", "Montefalcone"]
    matcher = WatchMatcher(
        term for name in names for term in brand_terms(Brand(name=name, fuzzy_threshold=threshold))
    )
    rng = random.Random(threshold)
    for name in names:
        for _ in range(200):
            written = typed_badly(name.lower(), rng, 1)
            if rng.random() < 0.5 and len(name) >= 7:
                written = _two_letters_more(name.lower(), rng)
            if tokenize(written).words != [written]:
                continue  # "ferrraris" is read "ferraris": no longer the error made
            close = 100 * Indel.normalized_similarity(written, name.lower()) >= threshold
            terms = [match.term for match in matcher.match(f"about {written} today")]
            assert (name in terms) == close, (written, threshold, terms)
        for _ in range(100):
            written = typed_badly(name.lower(), rng, 3)
            if 100 * Indel.normalized_similarity(tokenize(written).words[0], name.lower()) < threshold:
                assert name not in [match.term for match in matcher.match(f"about {written} today")], written
