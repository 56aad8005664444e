"""The figures of ``eval_classifier.py --learn`` and ``--curve``: the rules alone against the
rules plus a trained model, through the training module's own functions, so the figures
follow whatever training, features and lexicons do today.

``--learn`` cross-validates on each file (training.cross_validate: the same stratified
folds for both, every post predicted by a model that never saw it) and ends with the
issue's targets. ``--curve`` trains on N labels drawn from the file (stratified,
seeded, each size's sample inside the next) and scores a fixed held-out part that
no size trains on.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from social_care.classify import RuleClassifier
from social_care.learning.training import (
    CATEGORIES,
    Evaluation,
    Example,
    Read,
    Scores,
    cross_validate,
    fit,
    read_examples,
)

Rows = list[tuple[str, str, str | None]]
HELD_OUT = 0.2


@dataclass(frozen=True)
class Target:
    """The issue's figure for one development set: the category that matters there, the F1
    the rules plus a model must reach, and the rules' F1 before the model (to beat)."""

    category: str
    model: float
    today: float


TARGETS = {
    "airline_sentiment_dev": Target("complaint", 0.92, 0.855),
    "tweet_acts_dev": Target("inquiry", 0.82, 0.731),
    "brand_emotion_dev": Target("praise", 0.72, 0.561),
    "sentipolc_it_dev": Target("complaint", 0.68, 0.371),
}


def reads_of(rows: Rows, classifier: RuleClassifier, lang: str | None) -> list[Read]:
    return read_examples(classifier, [Example(text, gold, lang or hint) for text, gold, hint in rows])


# --- cross-validation -------------------------------------------------------------------------


def learn_report(
    path: Path, rows: Rows, classifier: RuleClassifier, *, lang: str | None, folds: int, seed: int
) -> Evaluation:
    started = time.perf_counter()
    reads = reads_of(rows, classifier, lang)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    evaluation = cross_validate(reads, folds=folds, seed=seed)
    seconds = time.perf_counter() - started
    print(f"\n## {path.name}: {len(rows):,} posts, {folds}-fold cross-validation (seed {seed})\n")
    print("| category | support | rules P | rules R | rules F1 | +model P | +model R | +model F1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for category in evaluation.categories:
        rules, model = evaluation.rules.per_category[category], evaluation.model.per_category[category]
        print(
            f"| {category} | {rules[3]:,} | {rules[0]:.3f} | {rules[1]:.3f} | {rules[2]:.3f} "
            f"| {model[0]:.3f} | {model[1]:.3f} | {model[2]:.3f} |"
        )
    print(f"| macro-F1 | | | | {evaluation.rules.macro_f1:.3f} | | | {evaluation.model.macro_f1:.3f} |")
    print(
        f"\ncalibration error (expected, 10 bins): rules {evaluation.rules_calibration_error:.3f}, "
        f"rules + model {evaluation.calibration_error:.3f}; folds won by the model: "
        f"{evaluation.folds_won} of {folds} ({'wins' if evaluation.wins else 'does not win'}); "
        f"time: reading {read_seconds:.1f} s, cross-validation {seconds:.1f} s"
    )
    return evaluation


def print_targets(evaluations: dict[str, Evaluation]) -> None:
    known = [(name, TARGETS[name], found) for name, found in evaluations.items() if name in TARGETS]
    if not known:
        return
    print("\n## The issue's targets (out-of-fold F1 of the category that matters in each set)\n")
    print("| set | category | who | F1 | target | met |")
    print("| --- | --- | --- | ---: | --- | --- |")
    for name, target, found in known:
        rules = found.rules.per_category[target.category][2]
        model = found.model.per_category[target.category][2]
        print(
            f"| {name} | {target.category} | rules alone | {rules:.3f} | "
            f"> {target.today:.3f} (today) | {_met(rules - target.today, strict=True)} |"
        )
        print(
            f"| {name} | {target.category} | rules + model | {model:.3f} | "
            f">= {target.model:.2f} | {_met(model - target.model, strict=False)} |"
        )


def _met(margin: float, *, strict: bool) -> str:
    met = margin > 0 if strict else margin >= 0
    return f"{'yes' if met else 'no'} ({margin:+.3f})"


# --- learning curve ---------------------------------------------------------------------------


def curve_report(
    path: Path,
    rows: Rows,
    classifier: RuleClassifier,
    *,
    lang: str | None,
    sizes: Sequence[int],
    seed: int,
) -> None:
    reads = reads_of(rows, classifier, lang)
    gold = [read.example.category for read in reads]
    categories = tuple(category for category in CATEGORIES if category in set(gold))
    order = stratified_order(gold, seed)
    cut = round(len(order) * HELD_OUT)
    held, pool = [reads[i] for i in order[:cut]], [reads[i] for i in order[cut:]]
    held_gold = [read.example.category for read in held]
    rules = Scores.of(held_gold, [within(read.rules_category, categories) for read in held], categories)
    target = TARGETS.get(path.stem)
    focus = target.category if target else None
    measure = f"{focus} F1" if focus else "macro-F1"
    print(
        f"\n## {path.name}: learning curve, {measure} on {len(held):,} held-out posts "
        f"({HELD_OUT:.0%}, stratified, seed {seed}, never trained on)\n"
    )
    print(
        f"| labels | rules {measure} | rules + model {measure} | rules macro-F1 | +model macro-F1 | fit s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        taken = pool[:size]
        started = time.perf_counter()
        model = fit(taken)
        seconds = time.perf_counter() - started
        guessed = [within(model.settle(read.reading, read.rules_category)[0], categories) for read in held]
        scores = Scores.of(held_gold, guessed, categories)
        shown = f"{len(taken):,}" + (f" (all; {size:,} asked)" if len(taken) < size else "")
        print(
            f"| {shown} | {_figure(rules, focus):.3f} | {_figure(scores, focus):.3f} | "
            f"{rules.macro_f1:.3f} | {scores.macro_f1:.3f} | {seconds:.1f} |"
        )


def stratified_order(gold: Sequence[str], seed: int) -> list[int]:
    """Indexes in an order whose every prefix holds each category in its share of the whole:
    each category's posts shuffled, then interleaved by their place in their category."""
    by_category: dict[str, list[int]] = defaultdict(list)
    for index, category in enumerate(gold):
        by_category[category].append(index)
    rng = random.Random(seed)
    keyed = []
    for category in sorted(by_category):
        indexes = by_category[category]
        rng.shuffle(indexes)
        keyed.extend(((place + rng.random()) / len(indexes), index) for place, index in enumerate(indexes))
    return [index for _, index in sorted(keyed)]


def within(category: str, categories: Sequence[str]) -> str:
    """A call outside the labels' categories counts as "other", as the labels would have said
    (what training.cross_validate does)."""
    return category if category in categories or "other" not in categories else "other"


def _figure(scores: Scores, category: str | None) -> float:
    return scores.per_category[category][2] if category else scores.macro_f1
