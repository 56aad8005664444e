"""Words a letter or two away from a word, found through an index of deletions.

The index files every word under itself and under each of its one-letter
deletions ("velora" also under "vlora", "veora", ...); a query word and its own
deletions are looked up, so a word with a typing error meets the right one
under a shared key, with no loop over the indexed words.

Most words are near nothing, and making their deletions would cost more than
looking them up: the index keeps the first and the last three letters of its
keys of each length, and a query makes no deletion that could not start or
end like a key (a word far longer than every indexed word is never taken
apart). The answer is the same as without skipping. A word new to the matcher
is new to the classifier's lexicons too, so the one-letter deletions it does
need are made once (:func:`one_letter_less`, cached for the few words of the
post at hand) and each index asks, in C, whether it holds any of them.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import combinations

_PREFIX = 3
# The ways of removing two letters that touch the first three.
_EARLY_PAIRS = [(first, second) for first in range(_PREFIX) for second in range(first + 1, _PREFIX + 1)]


class DeletionIndex:
    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = defaultdict(set)
        # The first and the last three letters of the keys of each length.
        self._starts: dict[int, set[str]] = defaultdict(set)
        self._ends: dict[int, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, word: str) -> None:
        for key in (word, *deletions(word)):
            self._keys[key].add(word)
            self._starts[len(key)].add(key[:_PREFIX])
            self._ends[len(key)].add(key[-_PREFIX:])

    def near(self, word: str, removed: int = 1) -> set[str]:
        """Indexed words sharing a key with ``word`` or with it less up to ``removed`` (1 or 2) letters.

        ``word`` itself is among them when it is indexed; the caller scores the rest.
        """
        index = self._keys
        keys: tuple[str, ...] | list[str] = one_letter_less(word) if self._may_lose_one(word) else ()
        if removed > 1 and len(word) > _PREFIX + 1:
            keys = [*keys, *self._two_letter_keys(word)]
        elif index.keys().isdisjoint(keys) and word not in index:
            return set()
        found = [index[key] for key in keys if key in index]
        if word in index:
            found.append(index[word])
        return set().union(*found)

    def _may_lose_one(self, word: str) -> bool:
        """Whether any key is ``word`` less one letter.

        Taking a letter from the fourth on keeps the first three, and taking
        one before the last three keeps those: in a word of six letters or
        more every deletion does one or the other, so a word whose first and
        last three letters start and end no key of its length less one is
        near nothing that way, and its deletions are never made.
        """
        size = len(word) - 1
        return (
            size < 2 * _PREFIX - 1
            or word[:_PREFIX] in self._starts.get(size, ())
            or word[-_PREFIX:] in self._ends.get(size, ())
        )

    def _two_letter_keys(self, word: str) -> list[str]:
        """``word`` less two letters, every way but those that cannot be keys."""
        size = len(word) - 2
        starts = self._starts.get(size, ())
        keys = []
        # Two of the first four letters gone leave the last three, in a word of seven letters or more.
        if size < 2 * _PREFIX - 1 or word[-_PREFIX:] in self._ends.get(size, ()):
            keys += [
                word[:first] + word[first + 1 : second] + word[second + 1 :] for first, second in _EARLY_PAIRS
            ]
        if word[:_PREFIX] in starts:
            keys += double_deletions(word, _PREFIX)
        for first in range(_PREFIX):
            # One of the first three letters gone, then one from the fifth on: the key starts as
            # the word less that letter does.
            if word[:first] + word[first + 1 : _PREFIX + 1] in starts:
                shorter = word[:first] + word[first + 1 :]
                keys += [shorter[:index] + shorter[index + 1 :] for index in range(_PREFIX, len(shorter))]
        return keys


def deletions(word: str) -> tuple[str, ...]:
    """``word`` less one letter, every way (the first letter first).

    Joining the letters that stay, in C, costs a third less than slicing.
    """
    if not word:
        return ()
    return tuple(map("".join, combinations(word, len(word) - 1)))[::-1]


# A query word's deletions, made once for every index that looks them up.
one_letter_less = lru_cache(maxsize=256)(deletions)


def double_deletions(word: str, keep: int = 0) -> list[str]:
    """``word`` less two letters, every way that keeps its first ``keep`` letters."""
    size = len(word)
    return [
        word[:first] + word[first + 1 : second] + word[second + 1 :]
        for first in range(keep, size)
        for second in range(first + 1, size)
    ]
