"""Find the watched names in a post.

This is the exact matcher: every form of every term, on word boundaries, after
folding case, accents and look-alikes; exclusion phrases ("Villa Velora" is a
hotel) suppress the hits they contain. The forms are compiled once into one
alternation, longest first, so the cost per post does not grow with a loop
over the terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from social_care.text import fold
from social_care.watchlist import Term


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


class ExactMatcher:
    def __init__(self, terms: list[Term]) -> None:
        self._by_form: dict[str, Term] = {}
        exclusions: set[str] = set()
        for term in terms:
            for form in term.forms:
                self._by_form.setdefault(fold(form), term)
            exclusions.update(fold(phrase) for phrase in term.exclusions)
        self._pattern = _alternation(self._by_form)
        self._exclusions = _alternation(exclusions)

    def match(self, text: str) -> list[Match]:
        if self._pattern is None:
            return []
        folded = fold(text)
        excluded = self._excluded_spans(folded)
        matches: list[Match] = []
        for hit in self._pattern.finditer(folded):
            if any(start <= hit.start() and hit.end() <= end for start, end in excluded):
                continue
            term = self._by_form[hit.group(0)]
            matches.append(
                Match(
                    term.name,
                    term.kind,
                    term.brand,
                    term.product,
                    hit.group(0),
                    hit.start(),
                    hit.end(),
                    100.0,
                )
            )
        return matches

    def _excluded_spans(self, folded: str) -> list[tuple[int, int]]:
        if self._exclusions is None:
            return []
        return [hit.span() for hit in self._exclusions.finditer(folded)]


def _alternation(forms: set[str] | dict[str, Term]) -> re.Pattern[str] | None:
    ordered = sorted(forms, key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(form) for form in ordered)
    return re.compile(rf"(?<![\w@#])(?:{body})(?!\w)")
