"""The rule classifier: cue phrases per language, weighed into an explainable verdict.

Every decision carries the reasons a person can check ("negative cue 'non
funziona'"). Negative cues (including the common sarcastic forms) make a
complaint even when phrased as a question; a question or request without them
is an inquiry; positive cues alone are praise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from social_care.classify.lexicon import Lexicon, available_languages, load_lexicon
from social_care.matching import Match
from social_care.text import fold, without_urls

PRIORITIES = ("low", "normal", "high", "urgent")
_WORD = re.compile(r"\w+")
_BASE_PRIORITY = {"complaint": 1, "inquiry": 1, "praise": 0, "other": 0}
_TIER_BOOST = {"standard": 0, "premium": 1, "critical": 1}
_WIDE_REACH = 10_000


@dataclass(frozen=True)
class Verdict:
    category: str
    confidence: float
    cluster: str
    sentiment: float
    language: str
    priority: str
    reasons: list[str] = field(default_factory=list)


class RuleClassifier:
    def __init__(self, product_tiers: Mapping[str, str] | None = None) -> None:
        self._lexicons = {language: load_lexicon(language) for language in available_languages()}
        self._tiers = dict(product_tiers or {})

    def classify(
        self,
        text: str,
        *,
        language: str | None = None,
        followers: int | None = None,
        direct: bool = False,
        matches: list[Match] | None = None,
    ) -> Verdict:
        folded = fold(without_urls(text))
        lexicon, detected = self._lexicon_for(folded, language)
        negative = lexicon.cues["negative"].found(folded) + lexicon.cues["sarcasm"].found(folded)
        positive = lexicon.cues["positive"].found(folded)
        asking = (
            "?" in text
            or bool(lexicon.cues["request"].found(folded))
            or _opens_with_question(folded, lexicon)
        )
        category, confidence, reasons = _category(negative, positive, asking)
        cluster, cluster_reason = _cluster(folded, lexicon, category)
        reasons += cluster_reason
        priority, priority_reasons = self._priority(
            category, folded, lexicon, followers=followers, direct=direct, matches=matches or []
        )
        sentiment = round((len(positive) - len(negative)) / (len(positive) + len(negative) + 1), 3)
        return Verdict(
            category, confidence, cluster, sentiment, detected, priority, reasons + priority_reasons
        )

    def _lexicon_for(self, folded: str, hint: str | None) -> tuple[Lexicon, str]:
        """The hinted language's lexicon, else the one whose stopwords and cues fit best."""
        if hint in self._lexicons:
            return self._lexicons[hint], hint
        words = _WORD.findall(folded)
        scores = {name: _fit(lexicon, words, folded) for name, lexicon in self._lexicons.items()}
        best = max(scores, key=lambda name: scores[name])
        return self._lexicons[best], best if scores[best] > 0 else "und"

    def _priority(
        self,
        category: str,
        folded: str,
        lexicon: Lexicon,
        *,
        followers: int | None,
        direct: bool,
        matches: list[Match],
    ) -> tuple[str, list[str]]:
        level = _BASE_PRIORITY[category]
        reasons = []
        if level and (urgent := lexicon.cues["urgent"].found(folded)):
            level += 1
            reasons.append(f"urgency cue '{urgent[0]}'")
        if level and followers is not None and followers >= _WIDE_REACH:
            level += 1
            reasons.append(f"wide reach ({followers:,} followers)")
        tiers = [self._tiers.get(match.product, "standard") for match in matches if match.product]
        if level and any(_TIER_BOOST[tier] for tier in tiers):
            level += 1
            reasons.append("product in a premium tier")
        if level and direct and category == "complaint":
            reasons.append("addresses the brand directly")
        return PRIORITIES[min(level, len(PRIORITIES) - 1)], reasons


def _fit(lexicon: Lexicon, words: list[str], folded: str) -> int:
    cues = sum(len(cue_list.found(folded)) for cue_list in lexicon.cues.values())
    return sum(word in lexicon.stopwords for word in words) + cues


def _opens_with_question(folded: str, lexicon: Lexicon) -> bool:
    opening = " ".join(word for word in _WORD.findall(folded) if not word.startswith("@"))[:40]
    hits = lexicon.cues["question"].found(opening)
    return bool(hits) and opening.startswith(hits[0])


def _category(negative: list[str], positive: list[str], asking: bool) -> tuple[str, float, list[str]]:
    if negative and len(negative) >= len(positive):
        reasons = [f"negative cue '{cue}'" for cue in dict.fromkeys(negative)]
        return "complaint", min(0.55 + 0.15 * len(negative), 0.95), reasons
    if asking:
        return "inquiry", 0.7 if not positive else 0.6, ["asks a question or for help"]
    if positive:
        reasons = [f"positive cue '{cue}'" for cue in dict.fromkeys(positive)]
        return "praise", min(0.55 + 0.15 * len(positive), 0.95), reasons
    return "other", 0.5, ["no complaint, question or praise cues"]


def _cluster(folded: str, lexicon: Lexicon, category: str) -> tuple[str, list[str]]:
    if category not in {"complaint", "inquiry"}:
        return "other", []
    best, hits = "other", list[str]()
    for name, cues in lexicon.clusters.items():
        found = cues.found(folded)
        if len(found) > len(hits):
            best, hits = name, found
    if not hits:
        return "other", []
    return best, [f"about {best.replace('_', ' ')} ('{hits[0]}')"]
