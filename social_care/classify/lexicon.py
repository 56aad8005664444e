"""A language's cues, loaded from ``lexicons/<lang>.toml`` and compiled for one pass over a post.

Every cue (a word or a phrase of words), negator and "lack" word is a key of
one Aho-Corasick automaton (pyahocorasick) over the post's folded words, so a
post is searched in one call in C and only what it holds reaches Python.
Words of six letters or more also match a one-letter typo ("dissapointed"),
found through a deletion index, unless the two differ by a negating prefix
("scomodissimo" is the opposite of "comodissimo", not a typo of it) or the word
is a common word of its own (the ``neutral`` list); that answer is cached per word.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick
from rapidfuzz.distance import Indel

from social_care.deletions import DeletionIndex
from social_care.text import Tokens, name_words, tokenize

FOLDER = Path(__file__).parent / "lexicons"
TYPO_MIN_LENGTH = 6
TYPO_SIMILARITY = 0.85
# How far a word behind a negating prefix may be from the other word and still be its opposite.
PREFIX_SLACK = 2
KINDS = (
    "negative",
    "strong_negative",
    "mild_negative",
    "positive",
    "neutral",
    "request",
    "question",
    "urgent",
    "working",
    "offer",
)
STRONG = 2
_TWO_DIGITS = re.compile(r"\d.*\d")
_CACHE_LIMIT = 200_000
# Up to this many characters, a hit's word is found by counting the spaces before it (in C).
_COUNT_FROM_START = 2_000
# Words are joined by one space and keys padded by one on each side, so that keys match
# whole words only; neighbouring keys share the space between them, which Aho-Corasick allows.
_SEPARATOR = " "


@dataclass(frozen=True)
class Cue:
    """A word or phrase that points one way; phrases and strong words weigh double."""

    kind: str
    words: tuple[str, ...]
    weight: int = 1
    # Written out once: a reason quotes it for every post the cue is found in.
    text: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(self.words))


class Key(NamedTuple):
    """What one key of the automaton stands for: a cue, a negator or lack word, a cluster cue,
    two words a question can open with ("how do", "is there")."""

    cue: Cue | None
    negator: bool
    lack: bool
    cluster: Cue | None
    opening: bool = False


_NOTHING = Key(None, False, False, None)


class Reading(NamedTuple):
    """A post's words and the automaton's hits in them: (first word, number of words, key)."""

    words: list[str]
    unique: set[str]
    hits: list[tuple[int, int, Key]]


def joined(words: Sequence[str]) -> str:
    """The text an automaton searches: every word padded, so keys match whole words."""
    return " " + _SEPARATOR.join(words) + " "


class Automaton:
    """Keys (tuples of words) found in a post in one pass, each with its start position."""

    def __init__(self, keys: dict[tuple[str, ...], Any]) -> None:
        automaton = ahocorasick.Automaton()
        for words, value in keys.items():
            automaton.add_word(joined(words), (len(words), value))
        if keys:
            automaton.make_automaton()
        self._iter = automaton.iter if keys else None

    def find(self, text: str) -> list[tuple[int, int, Any]]:
        """(first word, number of words, value) of every key in ``text`` (from :func:`joined`)."""
        if self._iter is None:
            return []
        hits = self._iter(text)
        # A key ends on the space after its last word, which follows a space for every word before.
        if len(text) <= _COUNT_FROM_START:
            count = text.count
            return [(count(_SEPARATOR, 0, end) - size, size, value) for end, (size, value) in hits]
        # In a long post, counting from the start for every hit would cost its length each time:
        # the spaces' positions are listed once and each hit finds its place among them.
        spaces = [at for at, character in enumerate(text) if character == _SEPARATOR]
        return [(bisect_right(spaces, end) - 1 - size, size, value) for end, (size, value) in hits]


@dataclass
class Lexicon:
    language: str
    stopwords: frozenset[str]
    negators: frozenset[str]
    cues: dict[str, list[Cue]]
    clusters: dict[str, list[Cue]]
    question_words: frozenset[str]
    question_verbs: frozenset[str]
    question_subjects: frozenset[str]
    first_person: frozenset[str]
    lacks: frozenset[str]
    affixes: dict[str, tuple[str, ...]]
    second_person: frozenset[str] = frozenset()
    excess: frozenset[str] = frozenset()
    remedies: frozenset[str] = frozenset()
    asked: frozenset[str] = frozenset()
    negating_prefixes: tuple[str, ...] = ()
    _typos: DeletionIndex = field(default_factory=DeletionIndex)
    _unknown: dict[str, Cue | None] = field(default_factory=dict)
    _telling: set[str] = field(default_factory=set)
    # The @handles and #hashtags known to hold no cue ("@united", "#sxsw"): most posts name only these.
    quiet_names: set[str] = field(default_factory=set)
    _telling_names: dict[str, bool] = field(default_factory=dict)
    _name_words: dict[str, list[str]] = field(default_factory=dict)
    # The names that hold a first-person word ("us" in "@USAirways"): not the writer speaking.
    self_naming: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.heads = frozenset(self.cues)
        # The pairs of words a question can open with ("how do", "is there").
        verbs, subjects = self.question_verbs, self.question_subjects
        self.opening_pairs = frozenset(
            {(first, verb) for first in self.question_words for verb in verbs}
            | {(verb, subject) for verb in verbs for subject in subjects}
        )
        # An excess word ("too", "troppo") reaches the word after it as a lack word does.
        reaching = self.lacks | self.excess
        self.significant = self.heads | self.negators | reaching
        keys: dict[tuple[str, ...], Key] = {}
        for word in self.negators | reaching:
            keys[(word,)] = Key(None, word in self.negators, word in reaching, None)
        for cue in (cue for cues in self.cues.values() for cue in cues):
            keys[cue.words] = keys.get(cue.words, _NOTHING)._replace(cue=cue)
        for cue in (cue for cues in self.clusters.values() for cue in cues):
            keys[cue.words] = keys.get(cue.words, _NOTHING)._replace(cluster=cue)
        for pair in self.opening_pairs:
            keys[pair] = keys.get(pair, _NOTHING)._replace(opening=True)
        self._automaton = Automaton(keys)
        self._key_words = frozenset(word for words in keys for word in words)
        # A telling part at either end of a longer word, with three letters or more besides it;
        # one pattern, a group per kind, the first kind listed winning.
        self._affix_kinds = {f"kind{number}": kind for number, kind in enumerate(self.affixes)}
        branches = [
            f"(?P<{group}>(?:{alternatives}).{{3,}}|.{{3,}}(?:{alternatives}))"
            for group, kind in self._affix_kinds.items()
            if (alternatives := "|".join(map(re.escape, self.affixes[kind])))
        ]
        self._affix_pattern = re.compile("|".join(branches), re.DOTALL) if branches else None
        # Every telling part, to leave at once the words that neither start nor end with one.
        self._affix_parts = tuple(part for parts in self.affixes.values() for part in parts)
        # Shorter words are neither a typo of a cue word nor a telling part and three letters.
        affix_lengths = [len(part) + 3 for parts in self.affixes.values() for part in parts]
        self._shortest_unknown = min([TYPO_MIN_LENGTH, *affix_lengths])

    def read(self, tokens: Tokens, instead: Mapping[int, str] | None = None) -> Reading:
        """Every cue, negator, lack word, cluster cue and question opening of a post, in one pass in C.

        The words at the positions ``instead`` holds are read as the word it gives there: a
        blank for a word of an account's name (no key holds it, and no phrase runs through it).
        """
        words, unique = tokens.words, tokens.unique
        if instead:
            words = list(words)
            for position, word in instead.items():
                words[position] = word
            unique = set(words)
            unique.discard("")
        return Reading(words, unique, self._automaton.find(joined(words)))

    def names_a_cue(self, name: str) -> bool:
        """Whether an @handle or a #hashtag (mark included) holds what :meth:`read` would find in
        its words alone: a cue, a negator or a question's opening ("@HappyHelpDesk"), never a word
        that is only part of a phrase ("us" in "@USAirways", of "let us know"); a hashtag of one
        word is the writer's own. Known once per name: a name that holds none joins
        :attr:`quiet_names`."""
        known = self._telling_names.get(name)
        if known is not None:
            return known
        if len(self._telling_names) >= _CACHE_LIMIT:
            self._telling_names.clear()
            self._name_words.clear()
            self.quiet_names.clear()
            self.self_naming.clear()
        words = name_words(name[1:])
        self._name_words[name] = words
        if not self.first_person.isdisjoint(words):
            self.self_naming[name] = tuple(word for word in words if word in self.first_person)
        known = (name[0] == "@" or len(words) > 1) and self._holds_cue(words)
        self._telling_names[name] = known
        if not known:
            self.quiet_names.add(name)
        return known

    def words_of(self, name: str) -> list[str]:
        """The folded words of an @handle or a #hashtag (mark included), as :meth:`read` sees them."""
        words = self._name_words.get(name)
        if words is None:
            self.names_a_cue(name)
            words = self._name_words[name]
        return words

    def _holds_cue(self, words: list[str]) -> bool:
        if self._automaton.find(joined(words)):
            return True
        self._learn(set(words))
        return not self._telling.isdisjoint(words)

    def telling(self, word: str) -> bool:
        """Whether a word is part of a key of the automaton or a cue all the same: whether it
        would change what :meth:`read` finds."""
        if word in self._key_words:
            return True
        if word not in self._unknown:
            self._learn({word})
        return word in self._telling

    @staticmethod
    def may_open_question(reading: Reading) -> bool:
        """Whether two words a question can open with stand side by side somewhere in the post
        (whether they open a sentence is for the caller to check)."""
        for _, _, key in reading.hits:  # noqa: SIM110 (any() over a generator costs twice as much)
            if key.opening:
                return True
        return False

    def spots(self, reading: Reading) -> list[tuple[int, Key]]:
        """Left to right, every position where a cue, a negator or a lack word starts.

        At each position the longest cue wins; a word the lists do not hold
        counts when it is a typo of a cue word or a run-together word with a
        telling part.
        """
        self._learn(reading.unique)
        telling = not self._telling.isdisjoint(reading.unique)
        hits = reading.hits
        if not telling and len(hits) <= 1:  # the common case: nothing to order or merge
            return [
                (position, key) for position, _, key in hits if key.cue is not None or key.negator or key.lack
            ]
        found: dict[int, Key] = {}
        for position, _, key in hits:
            if key.cue is None and not key.negator and not key.lack:
                continue  # a cluster cue or a question opening only
            known = found.get(position)
            found[position] = key if known is None else _merged(known, key)
        if telling:
            for position, word in enumerate(reading.words):
                if word in self._telling:
                    key = Key(self._unknown[word], word in self.negators, word in self.lacks, None)
                    known = found.get(position)
                    found[position] = key if known is None else _merged(known, key)
        return sorted(found.items())

    def is_plain(self, word: str) -> bool:
        """Neither a cue, nor a negator or lack word, nor a telling unknown word."""
        return word not in self.significant and word not in self._telling

    def cluster_cues(self, reading: Reading) -> list[Cue]:
        """Left to right, the longest cluster cue starting at each position that has one."""
        longest: dict[int, Cue] = {}
        for position, size, key in reading.hits:
            cue = key.cluster
            if cue is not None and (position not in longest or size > len(longest[position].words)):
                longest[position] = cue
        return [longest[position] for position in sorted(longest)]

    def _learn(self, words: set[str]) -> None:
        """Look up, once per word, whether a word the lists do not hold is a cue all the same."""
        new = words.difference(self._unknown)
        if not new:
            return
        if len(self._unknown) >= _CACHE_LIMIT:
            self._unknown.clear()
            self._telling.clear()
        shortest = self._shortest_unknown
        for word in new:
            cue = None if len(word) < shortest or word in self.heads else self.unknown_word(word)
            self._unknown[word] = cue
            if cue is not None:
                self._telling.add(word)

    def unknown_word(self, word: str) -> Cue | None:
        """A cue for a word the lists do not hold: the opposite of a cue word
        behind a negating prefix ("scomodissimo", "unhelpfull"), a one-letter
        typo of a cue word ("dissapointed"), or a run-together word with a
        telling part ("#servicefail")."""
        if len(word) < self._shortest_unknown:
            return None
        return self._negated(word) or self._typo_of(word) or self._affixed(word)

    def _negated(self, word: str) -> Cue | None:
        for prefix in self.negating_prefixes:
            if word.startswith(prefix) and (cues := self.cues.get(word[len(prefix) :])) is not None:
                cue = next((cue for cue in cues if len(cue.words) == 1), None)
                if cue is not None and cue.kind in _OPPOSITE:
                    return Cue(_OPPOSITE[cue.kind], (word,), cue.weight)
        return None

    def _typo_of(self, word: str) -> Cue | None:
        # Typos are looked for only among cue words of letters alone (see index_typos): a word
        # with two digits or more ("user2024") still holds one with a letter less.
        if len(word) < TYPO_MIN_LENGTH or word.isdigit() or _TWO_DIGITS.search(word):
            return None
        candidates = self._typos.near(word)
        if not candidates:
            return None
        best = max((Indel.normalized_similarity(word, known), known) for known in candidates)
        if best[0] < TYPO_SIMILARITY or self._prefixed(word, best[1]) or self._prefixed(best[1], word):
            return None
        return next(cue for cue in self.cues[best[1]] if len(cue.words) == 1)

    def _prefixed(self, word: str, other: str) -> bool:
        """Whether ``word`` is ``other`` behind a negating prefix, give or take a letter
        ("scomodissimo" and "comodissimo", "infelici" and "felice")."""
        return any(
            word.startswith(prefix) and Indel.distance(word[len(prefix) :], other) <= PREFIX_SLACK
            for prefix in self.negating_prefixes
        )

    def _affixed(self, word: str) -> Cue | None:
        parts = self._affix_parts
        if not (word.startswith(parts) or word.endswith(parts)):
            return None
        found = self._affix_pattern.fullmatch(word) if self._affix_pattern else None
        if found is None or found.lastgroup is None:
            return None
        return Cue(self._affix_kinds[found.lastgroup], (word,), STRONG)

    def index_typos(self) -> None:
        """File the single-word cues a misspelling may be read as: long enough, and letters only
        ("gr8" and "2fa" are cues, never a typo's target)."""
        for word, cues in self.cues.items():
            if len(word) >= TYPO_MIN_LENGTH and word.isalpha() and any(len(cue.words) == 1 for cue in cues):
                self._typos.add(word)


_OPPOSITE = {"positive": "negative", "negative": "positive"}


def _merged(known: Key, key: Key) -> Key:
    """What starts at one position: the longer cue, and every flag of the word there."""
    cue = known.cue
    if key.cue is not None and (cue is None or len(key.cue.words) > len(cue.words)):
        cue = key.cue
    return Key(cue, known.negator or key.negator, known.lack or key.lack, known.cluster)


def _table(sections: dict[str, list[str]]) -> dict[str, list[Cue]]:
    table: dict[str, list[Cue]] = defaultdict(list)
    seen: set[tuple[str, ...]] = set()
    for kind, phrases in sections.items():
        for phrase in phrases:
            words = tuple(tokenize(phrase).words)
            if words and words not in seen:
                seen.add(words)
                strong = kind == "strong_negative" or (len(words) > 1 and kind != "mild_negative")
                name = kind.removeprefix("strong_").removeprefix("mild_")
                table[words[0]].append(Cue(name, words, STRONG if strong else 1))
    for cues in table.values():
        cues.sort(key=lambda cue: -len(cue.words))
    return dict(table)


def _words(entries: list[str]) -> frozenset[str]:
    return frozenset(tokenize(" ".join(entries)).words)


@cache
def load_lexicon(language: str, folder: Path = FOLDER) -> Lexicon:
    data = tomllib.loads((folder / f"{language}.toml").read_text(encoding="utf-8"))
    phrases, words, questions = data.get("phrases", {}), data.get("words", {}), data.get("questions", {})
    person = data.get("person", {})
    merged = {kind: phrases.get(kind, []) + words.get(kind, []) for kind in KINDS}
    lexicon = Lexicon(
        language=language,
        stopwords=frozenset(tokenize(" ".join(data.get("stopwords", []))).words),
        negators=frozenset(tokenize(" ".join(data.get("negators", []))).words),
        cues=_table(merged),
        clusters=_table(data.get("clusters", {})),
        question_words=_words(questions.get("question_words", [])),
        question_verbs=_words(questions.get("verbs", [])),
        question_subjects=_words(questions.get("subjects", [])),
        first_person=_words(person.get("first", [])),
        lacks=_words(data.get("lacks", [])),
        affixes={kind: tuple(_words(parts)) for kind, parts in data.get("affixes", {}).items()},
        second_person=_words(person.get("second", [])),
        excess=_words(data.get("excess", [])),
        remedies=_words(data.get("remedies", [])),
        asked=_words(data.get("asked", [])),
        negating_prefixes=tuple(data.get("negating_prefixes", [])),
    )
    lexicon.index_typos()
    return lexicon


def available_languages(folder: Path = FOLDER) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.toml"))
