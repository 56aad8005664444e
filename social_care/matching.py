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

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from rapidfuzz import process
from rapidfuzz.distance import Indel

from social_care.deletions import DeletionIndex
from social_care.text import Tokens, tokenize
from social_care.watchlist import Term

MIN_FUZZY_LENGTH = 5
EXACT = 100.0
NEAR_ENOUGH = 0.75
# Inside a longer name a word may be further off ("Acme Fone"): the whole phrase decides.
WORD_IN_PHRASE = 0.6
# A word in more names than this does not find them on its own (first names, "Pro").
SHARED_ANCHOR_LIMIT = 4
# A group of forms this large is narrowed by one rapidfuzz call before each form is scored.
_PROBE_FROM = 3
_CACHE_LIMIT = 300_000
_DIGIT = re.compile(r"\d")


class Match(NamedTuple):
    """Where a watch term was named in a post, as written there, and how closely (100 = exact)."""

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


@dataclass(frozen=True, eq=False)
class _Form:
    """One written form of a term, as folded words, and the words it can be found by."""

    term: Term
    words: tuple[str, ...]
    phrase: str
    length: int


class _Group(NamedTuple):
    """The forms a word finds standing at the same place in them, all of one length."""

    at: int
    length: int
    forms: tuple[_Form, ...]
    # Another place in these forms and the forms' words there, to rule most forms out at once.
    probe: int
    probe_words: tuple[str, ...]

    @classmethod
    def of(cls, at: int, length: int, forms: list[_Form]) -> _Group:
        probe = 1 if at == 0 else 0
        words = tuple(form.words[probe] for form in forms) if length > 1 else ()
        return cls(at, length, tuple(forms), probe, words)

    def plausible(self, window: tuple[str, ...]) -> tuple[_Form, ...]:
        """The forms whose word at the probe place is near enough the post's (rapidfuzz, in C)."""
        if len(self.forms) < _PROBE_FROM or self.length < 2:  # noqa: PLR2004
            return self.forms
        near = process.extract(
            window[self.probe],
            self.probe_words,
            scorer=Indel.normalized_similarity,
            score_cutoff=WORD_IN_PHRASE,
            limit=None,
        )
        return tuple(self.forms[index] for _, _, index in near)


class _Proposal(NamedTuple):
    start: int
    form: _Form
    score: float


@dataclass(frozen=True)
class _Exclusion:
    words: tuple[str, ...]
    term: Term


class WatchMatcher:
    """The matcher for a list of watch terms."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._by_word: dict[str, list[tuple[_Form, int]]] = defaultdict(list)
        self._exclusions: dict[str, list[_Exclusion]] = defaultdict(list)
        self._deletions = DeletionIndex()
        self._anchors_cache: dict[str, tuple[_Group, ...]] = {}
        # How well a run of words spells a form: real text names a brand with the same few words.
        self._scores: dict[tuple[int, tuple[str, ...]], list[tuple[_Form, float]]] = {}
        # Words known to anchor some form: a post sharing none of them has no match.
        self._hot: set[str] = set()
        forms = [form for term in terms for form in self._forms_of(term)]
        # The loosest threshold a misspelt word that finds a form must reach.
        thresholds = [form.term.fuzzy_threshold / 100 for form in forms]
        self._loosest = max(NEAR_ENOUGH, min(thresholds, default=1.0))
        shared = Counter(word for form in forms for word in set(form.words))
        for form in forms:
            for index in _anchors(form, shared):
                self._by_word[form.words[index]].append((form, index))
                self._index_word(form.words[index])
        self._exclusion_words = frozenset(self._exclusions)

    def match(self, text: str) -> list[Match]:
        return self.match_tokens(text, tokenize(text))

    def match_tokens(self, text: str, tokens: Tokens) -> list[Match]:
        """The post's matches; most posts leave after two set operations done in C."""
        words = tokens.words
        cache = self._anchors_cache
        unique = tokens.unique
        for word in unique.difference(cache):
            self._anchors_for(word)
        if self._hot.isdisjoint(unique):
            return []
        hot = self._hot
        excluded = self._excluded(words) if self._exclusion_words.intersection(words) else {}
        proposals = {
            (proposal.start, proposal.form): proposal
            for position, word in enumerate(words)
            if word in hot
            for proposal in self._proposals(words, position, self._anchored(word), excluded)
        }
        return [self._match(text, tokens, proposal) for proposal in _choose(proposals.values())]

    def _anchored(self, word: str) -> tuple[_Group, ...]:
        found = self._anchors_cache.get(word)
        return found if found is not None else self._anchors_for(word)

    def _match(self, text: str, tokens: Tokens, proposal: _Proposal) -> Match:
        start, end = tokens.span(proposal.start, proposal.start + proposal.form.length - 1)
        term = proposal.form.term
        return Match(
            term.name, term.kind, term.brand, term.product, text[start:end], start, end, proposal.score
        )

    def _forms_of(self, term: Term) -> list[_Form]:
        """Every spelling of the term (as written, and run together); its exclusions are filed."""
        for phrase in term.exclusions:
            words = tuple(tokenize(phrase).words)
            if words:
                self._exclusions[words[0]].append(_Exclusion(words, term))
        spellings = {tuple(tokenize(written).words) for written in term.forms} - {()}
        spellings |= {("".join(words),) for words in spellings}
        return [_Form(term, words, " ".join(words), len(words)) for words in spellings]

    def _index_word(self, word: str) -> None:
        if not _fuzzy_enough(word):
            return
        self._deletions.add(word)

    def _near(self, word: str) -> list[str]:
        """Indexed words a letter or two away from ``word`` (not ``word`` itself).

        Taking two letters from the word finds no more than one letter less
        does, except words two letters shorter (similarity 1 - 1/(n-1) at best
        for an n-letter word) or three changes away (less similar still); they
        are looked for only where the loosest threshold could accept them.
        """
        if not _fuzzy_enough(word):
            return []
        size = len(word)
        removed = 2 if size >= 2 * MIN_FUZZY_LENGTH - 1 and 1 - 1 / (size - 1) >= self._loosest else 1
        candidates = self._deletions.near(word, removed)
        if not candidates:
            return []  # most new words
        candidates.discard(word)
        return [known for known in candidates if Indel.normalized_similarity(word, known) >= NEAR_ENOUGH]

    def _anchors_for(self, word: str) -> tuple[_Group, ...]:
        """The forms ``word`` can anchor, as spelt or a letter or two off, grouped by where
        the word stands in them and how long they are (cached per word)."""
        near = self._near(word)
        if not near and word not in self._by_word:
            if len(self._anchors_cache) >= _CACHE_LIMIT:
                self._anchors_cache.clear()
            self._anchors_cache[word] = ()
            return ()
        found = list(self._by_word.get(word, ()))
        for known in near:
            # A misspelt word that finds a form must itself be close enough for that term.
            similarity = Indel.normalized_similarity(word, known)
            found.extend(
                (form, index)
                for form, index in self._by_word.get(known, ())
                if similarity >= form.term.fuzzy_threshold / 100
            )
        groups: dict[tuple[int, int], list[_Form]] = defaultdict(list)
        for form, index in found:
            groups[index, form.length].append(form)
        if len(self._anchors_cache) >= _CACHE_LIMIT:
            self._anchors_cache.clear()
        result = tuple(_Group.of(index, length, forms) for (index, length), forms in groups.items())
        self._anchors_cache[word] = result
        if result:
            self._hot.add(word)
        return result

    def _proposals(
        self,
        words: list[str],
        position: int,
        groups: tuple[_Group, ...],
        excluded: dict[int, list[tuple[int, Term]]],
    ) -> list[_Proposal]:
        """The forms found at ``position``; the forms a run of words spells are cached by that run."""
        proposals = []
        for group in groups:
            index, length = group.at, group.length
            start = position - index
            if start < 0 or start + length > len(words):
                continue
            window = tuple(words[start : start + length])
            key = (index, window)
            scored = self._scores.get(key)
            if scored is None:
                if len(self._scores) >= _CACHE_LIMIT:
                    self._scores.clear()
                self._scores[key] = scored = [
                    (form, score)
                    for form in group.plausible(window)
                    if (score := _score(window, form, index)) is not None
                ]
            for form, score in scored:
                if not (excluded and _is_excluded(excluded, start, length, form.term)):
                    proposals.append(_Proposal(start, form, score))
        return proposals

    def _excluded(self, words: list[str]) -> dict[int, list[tuple[int, Term]]]:
        """Start position -> (end position, term) of every exclusion phrase in the post."""
        found: dict[int, list[tuple[int, Term]]] = defaultdict(list)
        for position, word in enumerate(words):
            for exclusion in self._exclusions.get(word, ()):
                length = len(exclusion.words)
                if tuple(words[position : position + length]) == exclusion.words:
                    found[position].append((position + length, exclusion.term))
        return found


def _fuzzy_enough(word: str) -> bool:
    """Long enough to be told from other words by a letter or two, and no number in it."""
    return len(word) >= MIN_FUZZY_LENGTH and (word.isalpha() or not _DIGIT.search(word))


def _anchors(form: _Form, shared: Counter[str]) -> list[int]:
    """The words a form is found by, each looked up on its own.

    Not initials ("G." in "G. Ferraris"), nor words many names share ("Elena"
    among a thousand staff, "App" in many products), unless the form has nothing
    rarer; but always the brand's own name, so that "Velora Puls" is found by
    "Velora" although "Puls" is too short to be looked up as a misspelling.
    """
    words = form.words
    brand = _brand_words(form.term.brand)
    usable = [index for index, word in enumerate(words) if len(word) > 1] or [0]
    chosen = [
        index for index in usable if shared[words[index]] <= SHARED_ANCHOR_LIMIT or words[index] in brand
    ]
    return chosen or [min(usable, key=lambda index: shared[words[index]])]


@lru_cache(maxsize=1024)
def _brand_words(brand: str) -> frozenset[str]:
    return frozenset(tokenize(brand).words)


def _score(window: Sequence[str], form: _Form, anchor: int) -> float | None:
    """How well the post's words spell the form; ``None`` below the term's threshold.

    The word that found the form must be spelt right or nearly (the term's
    threshold); the others may be further off, since the phrase as a whole decides.
    Numbers must be exact ("Pulse 3" is not "Pulse 2").
    """
    if tuple(window) == form.words:
        return EXACT
    threshold = form.term.fuzzy_threshold / 100
    for index, (written, wanted) in enumerate(zip(window, form.words, strict=True)):
        if written == wanted:
            continue
        if not (written.isalpha() and wanted.isalpha()):
            return None  # a number, which must be exact
        floor = threshold if index == anchor else WORD_IN_PHRASE
        if Indel.normalized_similarity(written, wanted) < floor:
            return None
    score = round(100 * Indel.normalized_similarity(" ".join(window), form.phrase), 1)
    return score if score >= form.term.fuzzy_threshold else None


def _choose(proposals: Iterable[_Proposal]) -> list[_Proposal]:
    """Left to right, the longest and then the closest name; overlaps are dropped."""
    chosen: list[_Proposal] = []
    covered = 0
    for proposal in sorted(proposals, key=lambda item: (item.start, -item.form.length, -item.score)):
        if proposal.start >= covered:
            chosen.append(proposal)
            covered = proposal.start + proposal.form.length
    return chosen


def _is_excluded(excluded: dict[int, list[tuple[int, Term]]], position: int, length: int, term: Term) -> bool:
    return any(
        start <= position and position + length <= end and owner == term
        for start, spans in excluded.items()
        for end, owner in spans
    )
