"""A trained triage model as data: per language, a weight for each category on each
feature it learned, and how it turns scores into a calibrated confidence.

The model is stored as gzipped JSON (in the database, or a file from ``social-care
learn --out``), never as pickled objects: loading a model must not run code,
whoever wrote the bytes. Predicting is plain Python over the features of one post,
exactly what scikit-learn computed in training (see :mod:`training`): the sum of the
post's text feature weights scaled by one over the square root of their number,
plus the rules' features, plus an intercept, through a softmax at the model's
temperature.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from itertools import pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from social_care.classify.rules import RuleReading
from social_care.learning.features import describe, rule_features, word_features

FORMAT = "social-care-triage-model"
VERSION = 1
EXPLAINED_FEATURES = 3
# A reason names a feature only if it moved the score at least this much.
NOTABLE_WEIGHT = 0.05
_WORD_CACHE_LIMIT = 100_000


class ModelError(ValueError):
    """A model file or stored model that cannot be read; the message says why."""


class Prediction(NamedTuple):
    """A model's call on one post: the category, its calibrated probability, and the
    features that pushed hardest towards it (name as a reason shows it, contribution)."""

    category: str
    confidence: float
    strongest: list[tuple[str, float]]

    def reasons(self) -> list[str]:
        return [f"learned: {name} {weight:+.1f}" for name, weight in self.strongest]


class Scored(NamedTuple):
    """A post's scores, and the features behind them: (feature, weights) of the text, which count
    against ``scale``, and of the rules, which do not. A word stands for its letter groups too."""

    totals: list[float]
    text: list[tuple[str, tuple[float, ...]]]
    scale: float
    rules: list[tuple[str, tuple[float, ...]]]

    def strongest(self, index: int) -> list[tuple[str, float]]:
        """The features that pushed class ``index`` up most, as a reason names them (a word said
        twice counts twice)."""
        scale = self.scale
        items = self.text + self.rules
        pushes = [vector[index] * scale for _, vector in self.text]
        pushes += [vector[index] for _, vector in self.rules]
        order = sorted(range(len(items)), key=pushes.__getitem__, reverse=True)[: EXPLAINED_FEATURES * 2]
        pushed: dict[str, float] = {}
        for at in order:
            name = items[at][0]
            pushed[name] = pushed.get(name, 0.0) + pushes[at]
        top = sorted(pushed.items(), key=itemgetter(1), reverse=True)[:EXPLAINED_FEATURES]
        return [(describe(name), weight) for name, weight in top if weight >= NOTABLE_WEIGHT]


@dataclass
class LanguageModel:
    """One language's linear model over named features."""

    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    temperature: float = 1.0
    _words: dict[str, tuple[tuple[float, ...] | None, int, str]] = field(default_factory=dict, repr=False)
    _pairs: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict, repr=False)

    def scores(self, read: RuleReading, rules_category: str) -> Scored:
        """The raw score of each class, with the present features that made it."""
        weights, cache = self.weights, self._words
        words = read.tokens.words
        entries = [cache.get(word) or self._word(word) for word in words]
        count = sum([entry[1] for entry in entries])
        text = [(entry[2], entry[0]) for entry in entries if entry[0] is not None]
        count += max(len(words) - 1, 0)
        pairs = self._pairs or self._index_pairs()
        for first, second in pairwise(words):
            if (following := pairs.get(first)) is not None and (vector := following.get(second)) is not None:
                text.append((f"b:{first} {second}", vector))
        scale = 1 / math.sqrt(count) if count else 0.0
        rules = [
            (feature, vector)
            for feature in rule_features(read, rules_category)
            if (vector := weights.get(feature)) is not None
        ]
        totals = list(self.intercept)
        for items, factor in ((text, scale), (rules, 1.0)):
            if items:  # column sums in C: a post brings a few dozen vectors of a few classes
                for index, total in enumerate(map(sum, zip(*(vector for _, vector in items), strict=True))):
                    totals[index] += factor * total
        return Scored(totals, text, scale, rules)

    def predict(self, read: RuleReading, rules_category: str) -> Prediction:
        scored = self.scores(read, rules_category)
        probabilities = softmax([score / self.temperature for score in scored.totals])
        best = max(range(len(self.classes)), key=probabilities.__getitem__)
        return Prediction(self.classes[best], round(probabilities[best], 3), scored.strongest(best))

    def settle(self, read: RuleReading, rules_category: str) -> tuple[str, Prediction]:
        """The category the desk acts on when this model is asked, and its prediction.

        A model knows only the categories its labels had. When they lacked some (a
        company's complaint / not-complaint data mapped to complaint and other), its
        "other" means "none of mine", so a post the rules put in a category the labels
        never spoke of keeps the rules' call: a model never shown a question does not
        silence questions.
        """
        prediction = self.predict(read, rules_category)
        if prediction.category == "other" and rules_category not in self.classes:
            return rules_category, prediction
        return prediction.category, prediction

    def _index_pairs(self) -> dict[str, dict[str, tuple[float, ...]]]:
        """The pairs of words by their first word: most words start no learned pair, and are
        passed over without making the pair's name."""
        pairs: dict[str, dict[str, tuple[float, ...]]] = {"": {}}
        for feature, vector in self.weights.items():
            if feature.startswith("b:"):
                first, _, second = feature[2:].partition(" ")
                pairs.setdefault(first, {})[second] = vector
        self._pairs = pairs
        return pairs

    def _word(self, word: str) -> tuple[tuple[float, ...] | None, int, str]:
        """A word's features summed once, then cached with their number and the word's feature
        name: posts repeat most of their words."""
        if len(self._words) >= _WORD_CACHE_LIMIT:
            self._words.clear()
        features = word_features(word)
        vectors = [vector for vector in map(self.weights.get, features) if vector is not None]
        summed = tuple(map(sum, zip(*vectors, strict=True))) if vectors else None
        known = self._words[word] = (summed, len(features), features[0])
        return known


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exponentials = [math.exp(score - top) for score in scores]
    total = sum(exponentials)
    return [value / total for value in exponentials]


@dataclass
class LearnedModel:
    """A model for each language it had labels for; ``default`` serves posts of other languages."""

    languages: dict[str, LanguageModel]
    default: str
    trained_on: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def for_language(self, language: str) -> LanguageModel:
        return self.languages.get(language) or self.languages[self.default]

    def predict(self, read: RuleReading, rules_category: str) -> Prediction:
        return self.for_language(read.language).predict(read, rules_category)

    def settle(self, read: RuleReading, rules_category: str) -> tuple[str, Prediction]:
        return self.for_language(read.language).settle(read, rules_category)

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "default": self.default,
            "trained_on": self.trained_on,
            "notes": self.notes,
            "languages": {
                language: {
                    "classes": list(model.classes),
                    "intercept": [round(value, 6) for value in model.intercept],
                    "temperature": round(model.temperature, 6),
                    "weights": {
                        feature: [round(value, 6) for value in vector]
                        for feature, vector in sorted(model.weights.items())
                    },
                }
                for language, model in sorted(self.languages.items())
            },
        }
        return gzip.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"), mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnedModel:
        try:
            document = json.loads(gzip.decompress(data).decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelError(f"not a social-care triage model ({error})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ModelError("not a social-care triage model (no format marker)")
        if document.get("version") != VERSION:
            raise ModelError(
                f"a triage model of format version {document.get('version')}; this release reads {VERSION}"
            )
        try:
            languages = {
                language: LanguageModel(
                    classes=tuple(str(name) for name in item["classes"]),
                    intercept=tuple(float(value) for value in item["intercept"]),
                    weights={
                        str(name): tuple(map(float, vector)) for name, vector in item["weights"].items()
                    },
                    temperature=float(item["temperature"]),
                )
                for language, item in document["languages"].items()
            }
            model = cls(languages, str(document["default"]), int(document.get("trained_on", 0)))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelError(f"a damaged triage model ({error!r})") from None
        if model.default not in languages:
            raise ModelError("a damaged triage model (its default language has no model)")
        model.notes = dict(document.get("notes") or {})
        return model

    def save(self, path: Path) -> None:
        path.write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> LearnedModel:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ModelError(f"cannot read {path}: {error.strerror}") from None
        return cls.from_bytes(data)
