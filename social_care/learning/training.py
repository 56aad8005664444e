"""Training a triage model on labelled posts, and measuring it against the rules on the
same folds before anyone relies on it.

scikit-learn fits one logistic regression per language (class weights balanced, so
a rare category is not drowned by a common one) over the features of
:mod:`features`: word, pair and letter-group counts, scaled per post by one over
the square root of their number, beside the rules' verdict and cues. The fitted
weights become a :class:`~social_care.learning.model.LanguageModel`, and every
figure printed is computed with that plain-Python model, the one the desk will run.

Cross-validation splits the labels into k stratified folds; each fold is predicted
by a model trained on the others, and by the rules alone, so the two are compared
on exactly the same posts. The out-of-fold scores also set each language's
temperature, which makes a model's confidence a calibrated probability.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import diags, hstack
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from social_care.classify.rules import RuleClassifier, RuleReading
from social_care.learning.features import rule_features, text_features
from social_care.learning.model import LanguageModel, LearnedModel, softmax

CATEGORIES = ("complaint", "inquiry", "praise", "other")
DEFAULT_FOLDS = 5
# Fewer labels than this in a language: its posts join the most labelled language's model.
MIN_LANGUAGE_LABELS = 50
REGULARISATION = 4.0
# Words and pairs of words weigh this many letter groups: a word has a dozen of those.
WORD_WEIGHT = 3.0
_MIN_WEIGHT = 1e-6
MIN_FOLDS = MIN_CATEGORIES = 2


class TrainingError(ValueError):
    """Labels a model cannot be trained or measured on; the message says what is missing."""


@dataclass(frozen=True)
class Example:
    """A labelled post: what a person said its category is."""

    text: str
    category: str
    language: str | None = None


@dataclass(frozen=True)
class Read:
    """An example as the rules read it: the rules' call is a feature and the baseline."""

    example: Example
    reading: RuleReading
    rules_category: str
    rules_confidence: float

    @property
    def language(self) -> str:
        return self.reading.language


@dataclass
class Scores:
    """Precision, recall, F1 and support per category, and their macro-average F1."""

    per_category: dict[str, tuple[float, float, float, int]]

    @property
    def macro_f1(self) -> float:
        return sum(item[2] for item in self.per_category.values()) / max(len(self.per_category), 1)

    @classmethod
    def of(cls, gold: Sequence[str], guessed: Sequence[str], categories: Sequence[str]) -> Scores:
        pairs = Counter(zip(gold, guessed, strict=True))
        table = {}
        for category in categories:
            hits = pairs[(category, category)]
            predicted = sum(count for (_, guess), count in pairs.items() if guess == category)
            actual = sum(count for (truth, _), count in pairs.items() if truth == category)
            precision = hits / predicted if predicted else 0.0
            recall = hits / actual if actual else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            table[category] = (precision, recall, f1, actual)
        return cls(table)


@dataclass
class Evaluation:
    """The model and the rules on the same k folds, out of fold."""

    folds: int
    categories: tuple[str, ...]
    model: Scores
    rules: Scores
    fold_macro_f1: list[tuple[float, float]]  # (model, rules) per fold
    calibration_error: float  # expected calibration error of the model's confidence, out of fold
    rules_calibration_error: float
    temperatures: dict[str, float] = field(default_factory=dict)

    @property
    def folds_won(self) -> int:
        return sum(model > rules for model, rules in self.fold_macro_f1)

    @property
    def wins(self) -> bool:
        """Better than the rules over all folds, and on most folds: a lucky split does not count."""
        return self.model.macro_f1 > self.rules.macro_f1 and self.folds_won * 2 > self.folds

    def to_dict(self) -> dict[str, object]:
        return {
            "folds": self.folds,
            "categories": list(self.categories),
            "model": {name: list(values) for name, values in self.model.per_category.items()},
            "rules": {name: list(values) for name, values in self.rules.per_category.items()},
            "model_macro_f1": self.model.macro_f1,
            "rules_macro_f1": self.rules.macro_f1,
            "fold_macro_f1": [list(pair) for pair in self.fold_macro_f1],
            "calibration_error": self.calibration_error,
            "rules_calibration_error": self.rules_calibration_error,
            "wins": self.wins,
        }


def read_examples(rules: RuleClassifier, examples: Sequence[Example]) -> list[Read]:
    """Each example read once by the rules: their reading is both a feature and the baseline."""
    found = []
    for example in examples:
        reading = rules.read(example.text, language=example.language)
        category, confidence, _ = rules.decide(reading)
        found.append(Read(example, reading, category, confidence))
    return found


def fit(reads: Sequence[Read], *, regularisation: float = REGULARISATION) -> LearnedModel:
    """A model for each language with enough labels; the others' posts join the largest."""
    if not reads:
        raise TrainingError("no labels to learn from")
    groups = _language_groups(reads)
    default = max(groups, key=lambda language: len(groups[language]))
    languages = {
        language: _fit_language([reads[index] for index in indexes], regularisation)
        for language, indexes in groups.items()
    }
    return LearnedModel(languages, default, trained_on=len(reads))


def learn(
    reads: Sequence[Read],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    regularisation: float = REGULARISATION,
) -> tuple[LearnedModel, Evaluation]:
    """Cross-validate, then fit on every label; the model takes the temperatures the folds found."""
    evaluation = cross_validate(reads, folds=folds, seed=seed, regularisation=regularisation)
    model = fit(reads, regularisation=regularisation)
    for language, language_model in model.languages.items():
        language_model.temperature = evaluation.temperatures.get(language, 1.0)
    model.notes = {"evaluation": evaluation.to_dict()}
    return model, evaluation


def cross_validate(
    reads: Sequence[Read],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    regularisation: float = REGULARISATION,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """The model against the rules on the same ``folds`` stratified folds, every post predicted
    by a model that never saw it."""
    gold = [read.example.category for read in reads]
    counts = Counter(gold)
    check_enough(counts, folds)
    categories = tuple(category for category in CATEGORIES if category in counts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    guessed = [""] * len(reads)
    raw: dict[str, list[tuple[list[float], int, tuple[str, ...]]]] = defaultdict(list)
    fold_scores = []
    rules_guesses = [_within(read.rules_category, categories) for read in reads]
    for number, (train, test) in enumerate(splitter.split(np.zeros(len(gold)), gold), start=1):
        model = fit([reads[index] for index in train], regularisation=regularisation)
        for index in test:
            read = reads[index]
            language_model = model.for_language(read.language)
            category, _ = language_model.settle(read.reading, read.rules_category)
            guessed[index] = _within(category, categories)
            totals = language_model.scores(read.reading, read.rules_category).totals
            truth = language_model.classes.index(gold[index]) if gold[index] in language_model.classes else -1
            raw[_group_of(model, read.language)].append((totals, truth, language_model.classes))
        fold_scores.append(
            (
                Scores.of([gold[i] for i in test], [guessed[i] for i in test], categories).macro_f1,
                Scores.of([gold[i] for i in test], [rules_guesses[i] for i in test], categories).macro_f1,
            )
        )
        if progress:
            progress(number)
    temperatures = {language: _temperature(rows) for language, rows in raw.items()}
    calibrated = []
    for language, rows in raw.items():
        for totals, truth, _ in rows:
            probabilities = softmax([score / temperatures[language] for score in totals])
            best = max(range(len(totals)), key=probabilities.__getitem__)
            calibrated.append((probabilities[best], best == truth))
    rules_right = [(read.rules_confidence, rules_guesses[i] == gold[i]) for i, read in enumerate(reads)]
    return Evaluation(
        folds=folds,
        categories=categories,
        model=Scores.of(gold, guessed, categories),
        rules=Scores.of(gold, rules_guesses, categories),
        fold_macro_f1=fold_scores,
        calibration_error=calibration_error(calibrated),
        rules_calibration_error=calibration_error(rules_right),
        temperatures=temperatures,
    )


def check_enough(counts: Counter[str], folds: int) -> None:
    """:class:`TrainingError` unless every category has a label in each fold, and there are two."""
    if folds < MIN_FOLDS:
        raise TrainingError(f"cross-validation needs at least 2 folds, not {folds}")
    if not counts:
        raise TrainingError(
            "no labels yet: correct cases on their page in the inbox, "
            "or `social-care labels import FILE.jsonl`"
        )
    if len(counts) < MIN_CATEGORIES:
        raise TrainingError(f"the labels are all {next(iter(counts))}: a model needs two categories or more")
    short = sorted(category for category, count in counts.items() if count < folds)
    if short:
        listed = ", ".join(f"{category} ({counts[category]})" for category in short)
        raise TrainingError(f"{folds}-fold cross-validation needs {folds} labels of each category; {listed}")


def calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error: how far stated confidence is from the share right, on average."""
    if not pairs:
        return 0.0
    binned: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for confidence, right in pairs:
        binned[min(int(confidence * bins), bins - 1)].append((confidence, right))
    total = len(pairs)
    return sum(
        len(rows) / total * abs(sum(c for c, _ in rows) / len(rows) - sum(r for _, r in rows) / len(rows))
        for rows in binned.values()
    )


def _within(category: str, categories: Sequence[str]) -> str:
    """A call outside the labels' categories counts as "other", as the labels would have said."""
    return category if category in categories or "other" not in categories else "other"


def _language_groups(reads: Sequence[Read]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, read in enumerate(reads):
        groups[read.language].append(index)
    largest = max(groups, key=lambda language: len(groups[language]))
    merged: dict[str, list[int]] = defaultdict(list)
    for language, indexes in groups.items():
        enough = len(indexes) >= MIN_LANGUAGE_LABELS and language != "und"
        enough = enough and len({reads[index].example.category for index in indexes}) >= MIN_CATEGORIES
        merged[language if enough or language == largest else largest].extend(indexes)
    return dict(merged)


def _group_of(model: LearnedModel, language: str) -> str:
    return language if language in model.languages else model.default


def _fit_language(reads: Sequence[Read], regularisation: float) -> LanguageModel:
    texts = [text_features(read.reading.tokens.words) for read in reads]
    rules = [rule_features(read.reading, read.rules_category) for read in reads]
    labels = [read.example.category for read in reads]
    classes = sorted(set(labels), key=CATEGORIES.index)
    if len(classes) < MIN_CATEGORIES:
        return LanguageModel((classes[0],), (0.0,), {})
    words = CountVectorizer(analyzer=_same, min_df=2, lowercase=False)
    try:
        counted = words.fit_transform(texts)
    except ValueError:  # too few posts for any feature to occur twice
        words = CountVectorizer(analyzer=_same, lowercase=False)
        counted = words.fit_transform(texts)
    scale = diags([1 / math.sqrt(len(features)) if features else 0.0 for features in texts])
    cues = CountVectorizer(analyzer=_same, lowercase=False, binary=True)
    cue_matrix = cues.fit_transform(rules)
    # A word's column weighs WORD_WEIGHT; the factor is folded into the learned weights when
    # the model is written, so that predicting needs no more than adding weights.
    text_names = words.get_feature_names_out()
    factors = np.concatenate(
        [
            [WORD_WEIGHT if name.startswith(("w:", "b:")) else 1.0 for name in text_names],
            np.ones(cue_matrix.shape[1]),
        ]
    )
    matrix = hstack([scale @ counted, cue_matrix]).tocsr() @ diags(factors)
    regression = LogisticRegression(
        C=regularisation, class_weight="balanced", solver="newton-cg", max_iter=1000
    )
    regression.fit(matrix, labels)
    order = [list(regression.classes_).index(category) for category in classes]
    coefficients = np.asarray(regression.coef_)
    intercept = np.asarray(regression.intercept_)
    if len(regression.classes_) == MIN_CATEGORIES:  # one row: the second class against the first
        coefficients = np.vstack([np.zeros_like(coefficients[0]), coefficients[0]])
        intercept = np.array([0.0, intercept[0]])
    coefficients, intercept = coefficients[order] * factors, intercept[order]
    names = list(words.get_feature_names_out()) + list(cues.get_feature_names_out())
    weights = {
        str(name): tuple(float(value) for value in coefficients[:, column])
        for column, name in enumerate(names)
        if np.abs(coefficients[:, column]).max() > _MIN_WEIGHT
    }
    return LanguageModel(tuple(classes), tuple(float(value) for value in intercept), weights)


def _same(features: list[str]) -> list[str]:
    return features


def _temperature(rows: Sequence[tuple[list[float], int, tuple[str, ...]]]) -> float:
    """The temperature that makes out-of-fold probabilities most likely (lowest log loss)."""
    usable = [(totals, truth) for totals, truth, _ in rows if truth >= 0 and len(totals) > 1]
    if not usable:
        return 1.0

    def loss(temperature: float) -> float:
        return -sum(
            math.log(max(softmax([score / temperature for score in totals])[truth], 1e-12))
            for totals, truth in usable
        )

    return float(minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded").x)
