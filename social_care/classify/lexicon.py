"""A language's cues, loaded from ``lexicons/<lang>.toml`` and compiled for one pass over a post.

Every cue (a word or a phrase of words) is keyed by its first word, so a post
is scanned once, word by word, with dictionary look-ups only. Words of six
letters or more also match a one-letter typo ("dissapointed"), found through a
deletion index and cached per word.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rapidfuzz.distance import Indel

from social_care.text import tokenize

FOLDER = Path(__file__).parent / "lexicons"
TYPO_MIN_LENGTH = 6
TYPO_SIMILARITY = 0.85
KINDS = (
    "negative",
    "strong_negative",
    "mild_negative",
    "positive",
    "neutral",
    "request",
    "question",
    "urgent",
)
STRONG = 2
_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Cue:
    """A word or phrase that points one way; phrases and strong words weigh double."""

    kind: str
    words: tuple[str, ...]
    weight: int = 1

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, eq=False)
class Entry:
    """What a word can start: cues (longest first), a negation, a lack ("no wifi")."""

    cues: tuple[Cue, ...] = ()
    negator: bool = False
    lack: bool = False

    def cue_at(self, words: list[str], position: int) -> Cue | None:
        for cue in self.cues:
            length = len(cue.words)
            if length == 1 or tuple(words[position : position + length]) == cue.words:
                return cue
        return None


PLAIN = Entry()


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
    _deletions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _entries: dict[str, Entry] = field(default_factory=dict)
    _cluster_entries: dict[str, Entry] = field(default_factory=dict)

    def entries(self, words: list[str]) -> list[Entry]:
        """Each word's entry; plain words share :data:`PLAIN`. Cached per word."""
        found = list(map(self._entries.get, words))
        if None in found:
            found = [
                entry if entry is not None else self._entry(word)
                for word, entry in zip(words, found, strict=True)
            ]
        return found  # type: ignore[return-value]

    def cluster_entries(self, words: list[str]) -> list[Entry]:
        cache = self._cluster_entries
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        return [
            cache.get(word) or cache.setdefault(word, _entry_of(self.clusters.get(word))) for word in words
        ]

    def _entry(self, word: str) -> Entry:
        known = self.cues.get(word)
        unknown = None if known else self.unknown_word(word)
        cues = tuple(known) if known else ((unknown,) if unknown else ())
        entry = _entry_of(cues, negator=word in self.negators, lack=word in self.lacks)
        if len(self._entries) >= _CACHE_LIMIT:
            self._entries.clear()
        self._entries[word] = entry
        return entry

    def unknown_word(self, word: str) -> Cue | None:
        """A cue for a word the lists do not hold: a one-letter typo of a cue
        word ("dissapointed"), or a run-together word with a telling part
        ("#servicefail")."""
        return self._typo_of(word) or self._affixed(word)

    def _typo_of(self, word: str) -> Cue | None:
        if len(word) < TYPO_MIN_LENGTH or word.isdigit():
            return None
        keys = {word, *(word[:index] + word[index + 1 :] for index in range(len(word)))}
        candidates = {known for key in keys for known in self._deletions.get(key, ())}
        scored = [(Indel.normalized_similarity(word, known), known) for known in candidates]
        best = max(scored, default=None)
        if best is None or best[0] < TYPO_SIMILARITY:
            return None
        return next(cue for cue in self.cues[best[1]] if len(cue.words) == 1)

    def _affixed(self, word: str) -> Cue | None:
        for kind, parts in self.affixes.items():
            for part in parts:
                if len(word) > len(part) + 2 and (word.startswith(part) or word.endswith(part)):
                    return Cue(kind, (word,), STRONG)
        return None

    def index_typos(self) -> None:
        for word, cues in self.cues.items():
            if len(word) >= TYPO_MIN_LENGTH and any(len(cue.words) == 1 for cue in cues):
                self._deletions[word].add(word)
                for index in range(len(word)):
                    self._deletions[word[:index] + word[index + 1 :]].add(word)


def _entry_of(cues: Sequence[Cue] | None, *, negator: bool = False, lack: bool = False) -> Entry:
    if not cues and not negator and not lack:
        return PLAIN
    return Entry(tuple(cues or ()), negator, lack)


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
        first_person=_words(data.get("person", {}).get("first", [])),
        lacks=_words(data.get("lacks", [])),
        affixes={kind: tuple(_words(parts)) for kind, parts in data.get("affixes", {}).items()},
    )
    lexicon.index_typos()
    return lexicon


def available_languages(folder: Path = FOLDER) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.toml"))
