"""The deletion index: words a letter or two away, found without a loop over the indexed words."""

from __future__ import annotations

import random
from itertools import combinations

from social_care.deletions import DeletionIndex, deletions, one_letter_less
from tests.support.typos import typed_badly

WORDS = ["velora", "vellini", "ferraris", "velorapulse", "pulse", "casa", "disappointed", "rimborso"]


def every_key(word: str, removed: int) -> set[str]:
    """The whole neighbourhood, made the slow way: ``word`` less up to ``removed`` letters."""
    return {
        "".join(letter for at, letter in enumerate(word) if at not in gone)
        for count in range(removed + 1)
        for gone in combinations(range(len(word)), count)
    }


def brute_force(word: str, removed: int) -> set[str]:
    return {known for known in WORDS if every_key(word, removed) & every_key(known, 1)}


def test_skipping_deletions_never_loses_a_word_the_whole_neighbourhood_finds() -> None:
    index = DeletionIndex()
    for word in WORDS:
        index.add(word)
    rng = random.Random(3)
    queries = [typed_badly(rng.choice(WORDS), rng, rng.randint(1, 2)) for _ in range(1000)] + [
        "xqzwv",
        "after",
        "abc",
    ]
    for query in queries:
        for removed in (1, 2):
            assert index.near(query, removed) == brute_force(query, removed), (query, removed)


def test_a_word_is_filed_under_itself_and_each_of_its_one_letter_deletions() -> None:
    index = DeletionIndex()
    index.add("velora")
    assert len(index) == len({"velora", *deletions("velora")})
    assert index.near("velora") == {"velora"}
    assert index.near("vellora") == {"velora"} and index.near("vlora") == {"velora"}
    assert index.near("vellorra", removed=1) == set() and index.near("vellorra", removed=2) == {"velora"}


def test_a_word_far_longer_than_any_indexed_word_is_near_none_and_never_taken_apart() -> None:
    """A post of one endless word must not cost time or memory in proportion to its square."""
    index = DeletionIndex()
    for word in WORDS:
        index.add(word)
    longest = max(map(len, WORDS))
    one_letter_less.cache_clear()
    assert index.near("x" * 16_000, removed=2) == set()
    assert index.near("disappointedly" + "y" * 100) == set()
    assert one_letter_less.cache_info().misses == 0
    assert index.near("disappointedd", removed=2) == {"disappointed"}  # still within reach
    assert len("disappointedd") <= longest + 2
