"""Find every mention of the watch list in a post: exact, misspelt, or run together.

The configured names are compiled once into an index keyed by their first word,
so the cost per post depends on the post's words, not on the number of terms.
Misspellings are found through a deletion index (the words of every name with
one letter removed): a post's word and its one-letter deletions are looked up,
the few candidates are scored with rapidfuzz, and the answer is cached per
word, since real text repeats its vocabulary. A name is accepted when the whole
phrase scores at least its term's threshold; exclusion phrases ("Villa Velora"
is a hotel) suppress their term's hits inside them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz.distance import Indel

from social_care.text import Tokens, tokenize
from social_care.watchlist import Term

MIN_FUZZY_LENGTH = 5
EXACT = 100.0
NEAR_ENOUGH = 0.75
# Inside a longer name a word may be further off ("Acme Fone"): the whole phrase decides.
WORD_IN_PHRASE = 0.6
_CACHE_LIMIT = 300_000


@dataclass(frozen=True)
class Match:
    term: str
    kind: str
    brand: str
    product: str
    matched_text: str
    start: int
    end: int
    score: float


class Matcher(Protocol):
    def match(self, text: str) -> list[Match]: ...

    def match_tokens(self, text: str, tokens: Tokens) -> list[Match]: ...


@dataclass(frozen=True)
class _Form:
    term: Term
    words: tuple[str, ...]
    phrase: str
    length: int


@dataclass(frozen=True)
class _Exclusion:
    words: tuple[str, ...]
    term: Term


class WatchMatcher:
    """The matcher for a list of watch terms."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._by_first: dict[str, list[_Form]] = defaultdict(list)
        self._exclusions: dict[str, list[_Exclusion]] = defaultdict(list)
        self._deletions: dict[str, set[str]] = defaultdict(set)
        self._near_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._forms_cache: dict[str, tuple[_Form, ...]] = {}
        for term in terms:
            self._add(term)
        self._exclusion_words = frozenset(self._exclusions)

    def match(self, text: str) -> list[Match]:
        return self.match_tokens(text, tokenize(text))

    def match_tokens(self, text: str, tokens: Tokens) -> list[Match]:
        words = tokens.words
        candidates = list(map(self._forms_cache.get, words))
        if None in candidates:
            candidates = [
                found if found is not None else self._forms_for(word)
                for word, found in zip(words, candidates, strict=True)
            ]
        hits = [position for position, forms in enumerate(candidates) if forms]
        if not hits:
            return []
        excluded = self._excluded(words) if self._exclusion_words.intersection(words) else {}
        matches: list[Match] = []
        covered = 0
        for position in hits:
            if position < covered:
                continue
            found = self._best_at(words, position, candidates[position] or (), excluded)
            if found is None:
                continue
            form, length, score = found
            start, end = tokens.span(position, position + length - 1)
            term = form.term
            matches.append(
                Match(term.name, term.kind, term.brand, term.product, text[start:end], start, end, score)
            )
            covered = position + length
        return matches

    def _add(self, term: Term) -> None:
        for written in term.forms:
            words = tuple(tokenize(written).words)
            if not words:
                continue
            for form in {words, ("".join(words),)}:
                self._by_first[form[0]].append(_Form(term, form, " ".join(form), len(form)))
                for word in form:
                    self._index_word(word)
        for phrase in term.exclusions:
            words = tuple(tokenize(phrase).words)
            if words:
                self._exclusions[words[0]].append(_Exclusion(words, term))

    def _index_word(self, word: str) -> None:
        if len(word) < MIN_FUZZY_LENGTH or _has_digit(word):
            return
        self._deletions[word].add(word)
        for variant in _deletions(word):
            self._deletions[variant].add(word)

    def _near(self, word: str) -> tuple[tuple[str, float], ...]:
        """Indexed words within a letter or two of ``word``, with their similarity (cached)."""
        cached = self._near_cache.get(word)
        if cached is not None:
            return cached
        found: tuple[tuple[str, float], ...] = ()
        if len(word) >= MIN_FUZZY_LENGTH - 1 and not _has_digit(word):
            keys = {word, *_deletions(word)}
            if len(word) >= 2 * MIN_FUZZY_LENGTH - 1:
                keys.update(variant for key in list(keys) for variant in _deletions(key))
            candidates = {known for key in keys for known in self._deletions.get(key, ())}
            scored = ((known, Indel.normalized_similarity(word, known)) for known in candidates)
            found = tuple((known, score) for known, score in scored if score >= NEAR_ENOUGH)
        if len(self._near_cache) >= _CACHE_LIMIT:
            self._near_cache.clear()
        self._near_cache[word] = found
        return found

    def _forms_for(self, word: str) -> tuple[_Form, ...]:
        """The names that may start at ``word``: spelt so, or a letter or two off (cached)."""
        forms = list(self._by_first.get(word, ()))
        for known, _ in self._near(word):
            if known != word:
                forms.extend(self._by_first.get(known, ()))
        if len(self._forms_cache) >= _CACHE_LIMIT:
            self._forms_cache.clear()
        self._forms_cache[word] = found = tuple(sorted(forms, key=lambda form: -form.length))
        return found

    def _best_at(
        self,
        words: list[str],
        position: int,
        forms: tuple[_Form, ...],
        excluded: dict[int, list[tuple[int, Term]]],
    ) -> tuple[_Form, int, float] | None:
        """The longest (then closest) name starting at ``position``; ``forms`` come longest first."""
        best: tuple[_Form, int, float] | None = None
        for form in forms:
            length = form.length
            if best is not None and (length < best[1] or best[2] == EXACT):
                break
            window = words[position : position + length]
            if len(window) < length or (excluded and _is_excluded(excluded, position, length, form.term)):
                continue
            score = self._score(window, form)
            if score is not None and (best is None or score > best[2]):
                best = (form, length, score)
        return best

    def _score(self, window: Sequence[str], form: _Form) -> float | None:
        if tuple(window) == form.words:
            return EXACT
        for written, wanted in zip(window, form.words, strict=True):
            if written != wanted and (_has_digit(written + wanted) or not _similar(written, wanted)):
                return None
        score = round(100 * Indel.normalized_similarity(" ".join(window), form.phrase), 1)
        return score if score >= form.term.fuzzy_threshold else None

    def _excluded(self, words: list[str]) -> dict[int, list[tuple[int, Term]]]:
        """Start position -> (end position, term) of every exclusion phrase in the post."""
        found: dict[int, list[tuple[int, Term]]] = defaultdict(list)
        for position, word in enumerate(words):
            for exclusion in self._exclusions.get(word, ()):
                length = len(exclusion.words)
                if tuple(words[position : position + length]) == exclusion.words:
                    found[position].append((position + length, exclusion.term))
        return found


def _is_excluded(excluded: dict[int, list[tuple[int, Term]]], position: int, length: int, term: Term) -> bool:
    if not excluded:
        return False
    return any(
        start <= position and position + length <= end and owner == term
        for start, spans in excluded.items()
        for end, owner in spans
    )


def _has_digit(text: str) -> bool:
    return any(char.isdigit() for char in text)


def _similar(written: str, wanted: str) -> bool:
    return Indel.normalized_similarity(written, wanted) >= WORD_IN_PHRASE


def _deletions(word: str) -> list[str]:
    return [word[:index] + word[index + 1 :] for index in range(len(word))]
