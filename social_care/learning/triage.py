"""Triage of one post: the rules, and the trained model when one is active or in shadow.

The rules always read the post; their cues are the model's features and their
verdict is kept beside the model's. An active model decides the category (the
cluster and priority follow from it, as the rules would set them for that
category), and its reasons name its strongest learned features. A model in shadow
is only asked: its verdict is returned for storing, and nothing acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from social_care.classify.rules import RuleClassifier, RuleReading, Verdict
from social_care.learning.versions import Versioned
from social_care.matching import Match
from social_care.text import Tokens

RULES = "rules"


class ModelSource(Protocol):
    def current(self, session: Session) -> tuple[Versioned | None, Versioned | None]: ...


@dataclass(frozen=True)
class Judgement:
    """What the desk acts on and who decided it, the rules' own verdict, and a shadow's."""

    verdict: Verdict
    decided_by: str
    rules: Verdict
    shadow: Verdict | None = None
    shadow_by: str = ""


class Triage:
    """The rules, with a model from ``models`` (none: the rules alone)."""

    def __init__(self, rules: RuleClassifier, models: ModelSource | None = None) -> None:
        self.rules = rules
        self._models = models

    def judge(
        self,
        text: str,
        *,
        session: Session | None = None,
        language: str | None = None,
        followers: int | None = None,
        direct: bool = False,
        matches: list[Match] | None = None,
        tokens: Tokens | None = None,
    ) -> Judgement:
        read = self.rules.read(text, language=language, tokens=tokens)
        decided = self.rules.decide(read)
        context = {"followers": followers, "direct": direct, "matches": matches}
        rules_verdict = self.rules.judge(read, decided=decided, **context)  # type: ignore[arg-type]
        if self._models is None:
            return Judgement(rules_verdict, RULES, rules_verdict)
        active, shadow = self._models.current(session)  # type: ignore[arg-type]
        verdict, decided_by = rules_verdict, RULES
        if active is not None:
            verdict, decided_by = self._with_model(active, read, decided, rules_verdict, context), active.name
        shadow_verdict = (
            self._with_model(shadow, read, decided, rules_verdict, context) if shadow is not None else None
        )
        return Judgement(verdict, decided_by, rules_verdict, shadow_verdict, shadow.name if shadow else "")

    def _with_model(
        self,
        versioned: Versioned,
        read: RuleReading,
        decided: tuple[str, float, list[str]],
        rules_verdict: Verdict,
        context: dict[str, object],
    ) -> Verdict:
        # The model reads the rules' own call, as in training; the desk compares it with the
        # rules' verdict, which may have found that a post names no one of ours.
        rules_category, _, rules_reasons = decided
        category, prediction = versioned.model.settle(read, rules_category)
        at = len(rules_reasons)
        if prediction.category != category:  # its labels never had this category
            note = f"{versioned.name} has no {category} labels: the rules decide"
            return rules_verdict._replace(
                reasons=[*rules_verdict.reasons[:at], note, *rules_verdict.reasons[at:]]
            )
        learned = prediction.reasons()
        if category != rules_verdict.category:
            call = (
                category,
                prediction.confidence,
                [f"{versioned.name} over the rules' {rules_verdict.category}", *learned],
            )
            return self.rules.judge(read, decided=call, **context)  # type: ignore[arg-type]
        # The same category: the rules' cluster and priority stand, only the confidence and reasons change.
        return rules_verdict._replace(
            confidence=prediction.confidence,
            reasons=[*rules_verdict.reasons[:at], *learned, *rules_verdict.reasons[at:]],
        )
