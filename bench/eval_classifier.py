"""Measure the classifier on labelled JSON Lines files.

Usage:
    python bench/eval_classifier.py FILE... [--map LABEL=CATEGORY ...] [--lang xx] [--errors N]
    python bench/eval_classifier.py --learn [--folds 5] [--seed 0] FILE...
    python bench/eval_classifier.py --curve 100,500,2000 [--seed 0] FILE...

Each line needs "text" and "label"; labels are mapped to the product's
categories (complaint, inquiry, praise, other) with the default mapping below,
which fits the development sets in shared/eval, plus any --map given. For each
file it prints per-category precision, recall and F1 (each category against the
rest), the confusion matrix, and the speed. --errors N prints N misclassified
examples per category pair, for reading, never for writing rules aimed at them.

--learn measures the rules alone against the rules plus a trained model on the
same k folds (per-category precision, recall and F1, macro-F1, calibration
error, time), then the issue's targets for each development set. --curve N,...
trains on N labels of each file and scores a fixed held-out 20%, to show how
many labels the model needs (see learning_figures.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning_figures import curve_report, learn_report, print_targets

from social_care.classify import RuleClassifier
from social_care.learning.training import Scores

CATEGORIES = ("complaint", "inquiry", "praise", "other")
DEFAULT_MAP = {
    "complaint": "complaint",
    "inquiry": "inquiry",
    "praise": "praise",
    "other": "other",
    "neutral": "other",
    "not_inquiry": "other",
    "negative": "complaint",
    "positive": "praise",
}


def read(path: Path, mapping: dict[str, str]) -> list[tuple[str, str, str | None]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        label = str(record["label"])
        if label not in mapping:
            raise SystemExit(f"{path}:{number}: label {label!r} has no mapping; add --map {label}=CATEGORY")
        rows.append((str(record["text"]), mapping[label], record.get("lang")))
    return rows


def scores(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, tuple[float, float, float, int]], Counter[tuple[str, str]]]:
    """Per category (each against the rest) precision, recall, F1 and support, as training
    measures them, and the confusion counts."""
    confusion: Counter[tuple[str, str]] = Counter(pairs)
    gold = [truth for (truth, _), count in confusion.items() for _ in range(count)]
    guessed = [guess for (_, guess), count in confusion.items() for _ in range(count)]
    return Scores.of(gold, guessed, CATEGORIES).per_category, confusion


def report(
    path: Path,
    rows: list[tuple[str, str, str | None]],
    classifier: RuleClassifier,
    lang: str | None,
    errors: int,
) -> None:
    started = time.perf_counter()
    guesses = [classifier.classify(text, language=lang or hint).category for text, _, hint in rows]
    elapsed = time.perf_counter() - started
    table, confusion = scores((gold, guess) for (_, gold, _), guess in zip(rows, guesses, strict=True))
    print(f"\n## {path.name}: {len(rows)} posts, {len(rows) / elapsed:,.0f} posts/s\n")
    print("| category | precision | recall | F1 | support |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for category, (precision, recall, f1, support) in table.items():
        if support or any(guess == category for guess in guesses):
            print(f"| {category} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {support} |")
    print("\nconfusion (rows: gold, columns: predicted)\n")
    print("| gold \\ predicted | " + " | ".join(CATEGORIES) + " |")
    print("| --- |" + " ---: |" * len(CATEGORIES))
    for gold in CATEGORIES:
        if any(confusion[(gold, guess)] for guess in CATEGORIES):
            print(f"| {gold} | " + " | ".join(str(confusion[(gold, guess)]) for guess in CATEGORIES) + " |")
    if errors:
        _print_errors(rows, guesses, errors)


def _print_errors(rows: list[tuple[str, str, str | None]], guesses: list[str], count: int) -> None:
    wrong = [
        (gold, guess, text) for (text, gold, _), guess in zip(rows, guesses, strict=True) if gold != guess
    ]
    random.Random(0).shuffle(wrong)
    by_pair: Counter[tuple[str, str]] = Counter()
    print("\nsample of errors (gold -> predicted)\n")
    for gold, guess, text in wrong:
        if by_pair[(gold, guess)] < count:
            by_pair[(gold, guess)] += 1
            print(f"- {gold} -> {guess}: {text[:160]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--map", action="append", default=[], metavar="LABEL=CATEGORY")
    parser.add_argument(
        "--lang", help="language hint for every post (default: the file's 'lang' field, else detected)"
    )
    parser.add_argument("--errors", type=int, default=0, metavar="N")
    parser.add_argument(
        "--learn", action="store_true", help="the rules alone against rules + model, cross-validated"
    )
    parser.add_argument("--folds", type=int, default=5, help="folds of --learn (default 5)")
    parser.add_argument("--curve", metavar="N,...", help="learning curve: train on N labels of each file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and samples (default 0)")
    options = parser.parse_args()
    mapping = dict(DEFAULT_MAP)
    for item in options.map:
        label, _, category = item.partition("=")
        if category not in CATEGORIES:
            parser.error(f"--map {item}: the category must be one of {', '.join(CATEGORIES)}")
        mapping[label] = category
    classifier = RuleClassifier()
    if options.learn or options.curve:
        learned(options, mapping, classifier)
        return
    for path in options.files:
        report(path, read(path, mapping), classifier, options.lang, options.errors)


def learned(options: argparse.Namespace, mapping: dict[str, str], classifier: RuleClassifier) -> None:
    sizes = [int(size) for size in options.curve.split(",")] if options.curve else []
    evaluations = {}
    for path in options.files:
        rows = read(path, mapping)
        if options.learn:
            evaluations[path.stem] = learn_report(
                path, rows, classifier, lang=options.lang, folds=options.folds, seed=options.seed
            )
        if sizes:
            curve_report(path, rows, classifier, lang=options.lang, sizes=sizes, seed=options.seed)
    print_targets(evaluations)


if __name__ == "__main__":
    main()
