"""How fast classification is against VADER, and what a trained model adds: the speed
comparison of ``bench_matching.py`` (its posts, its matcher, one core).

Contenders, each timed per post on the same posts after the same warm-up, with word
caches emptied first:

- VADER: ``SentimentIntensityAnalyzer().polarity_scores``, a lexicon-and-rules
  sentiment scorer, the usual fast baseline;
- the rules alone: ``RuleClassifier.classify``;
- the rules plus a model: ``Triage(rules, FixedModel(...)).judge``, the rules' reading
  and a trained model's call on it;
- ``social-care classify``, rules: ``classify_command.result`` with a Triage without a
  model (tokenising once, matching, the rules, the output record);
- ``social-care classify``, rules plus model: the same with the model.

The model is trained once, before anything is timed, with ``training.fit`` on the
labels of two development sets (English and Italian, as the posts are), read with
eval_classifier's label mapping. Each contender is timed ``rounds`` times, in turn,
and its best round counts, which on a shared machine is the least disturbed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval_classifier import DEFAULT_MAP, read

from social_care.classify import RuleClassifier
from social_care.classify_command import PostLine, result
from social_care.learning.model import LearnedModel
from social_care.learning.training import Example, fit, read_examples
from social_care.learning.triage import Triage
from social_care.learning.versions import FixedModel
from social_care.matching import WatchMatcher
from social_care.text import clear_caches
from social_care.watchlist import Term

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
TRAINING_SETS = (EVAL / "airline_sentiment_dev.jsonl", EVAL / "sentipolc_it_dev.jsonl")
INSTALL_VADER = ".venv/bin/pip install vaderSentiment  (or: pip install -e '.[bench]')"

VADER = "VADER polarity_scores"
RULES = "rules alone (RuleClassifier.classify)"
MODEL = "rules + model (Triage.judge)"
COMMAND = "social-care classify, rules (result)"
COMMAND_MODEL = "social-care classify, rules + model (result)"


@dataclass(frozen=True)
class Speeds:
    rates: dict[str, float]  # posts per second, best round
    posts: int
    rounds: int
    trained_on: int
    training_seconds: float
    missing: str = ""  # why a contender was skipped


def train(paths: Sequence[Path], rules: RuleClassifier) -> tuple[LearnedModel, float]:
    started = time.perf_counter()
    rows = [row for path in paths for row in read(path, DEFAULT_MAP)]
    reads = read_examples(rules, [Example(text, gold, lang) for text, gold, lang in rows])
    return fit(reads), time.perf_counter() - started


def contenders(
    rules: RuleClassifier, matcher: WatchMatcher, model: LearnedModel
) -> tuple[dict[str, Callable[[], Callable[[str], object]]], str]:
    """For each contender, a maker of a fresh per-post function (a fresh model each time, so
    its word cache starts empty too); and why VADER is missing, if it is."""
    makers: dict[str, Callable[[], Callable[[str], object]]] = {}
    missing = ""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        missing = f"VADER is not installed, its row is skipped; install it with: {INSTALL_VADER}"
    else:
        makers[VADER] = lambda: SentimentIntensityAnalyzer().polarity_scores
    data = model.to_bytes()

    def fixed() -> FixedModel:
        return FixedModel("bench model", LearnedModel.from_bytes(data))

    makers[RULES] = lambda: rules.classify
    makers[MODEL] = lambda: Triage(rules, fixed()).judge
    makers[COMMAND] = lambda: _command(matcher, Triage(rules))
    makers[COMMAND_MODEL] = lambda: _command(matcher, Triage(rules, fixed()))
    return makers, missing


def _command(matcher: WatchMatcher, triage: Triage) -> Callable[[str], object]:
    def work(text: str) -> object:
        return result(PostLine("1", text), matcher=matcher, triage=triage)

    return work


def compare(terms: Sequence[Term], warmup: Sequence[str], timed: Sequence[str], *, rounds: int = 3) -> Speeds:
    """Posts per second of each contender on ``timed``, best of ``rounds``."""
    rules = RuleClassifier()
    model, training_seconds = train(TRAINING_SETS, rules)
    matcher = WatchMatcher(terms)
    makers, missing = contenders(rules, matcher, model)
    rates = dict.fromkeys(makers, 0.0)
    for _ in range(rounds):
        for name, make in makers.items():
            rates[name] = max(rates[name], _rate(make(), warmup, timed))
    return Speeds(rates, len(timed), rounds, model.trained_on, training_seconds, missing)


def _rate(work: Callable[[str], object], warmup: Sequence[str], timed: Sequence[str]) -> float:
    clear_caches()
    for text in warmup:
        work(text)
    started = time.perf_counter()
    for text in timed:
        work(text)
    return len(timed) / (time.perf_counter() - started)


def print_speeds(speeds: Speeds, terms: int) -> None:
    print(
        f"\n## Classification speed: {speeds.posts:,} posts, {terms:,} watch terms, one core, "
        f"best of {speeds.rounds} round{'s' if speeds.rounds != 1 else ''}\n"
    )
    if speeds.missing:
        print(speeds.missing + "\n")
    rules = speeds.rates[RULES]
    print(f"| {'contender':<44} | {'posts/s':>8} | {'µs/post':>8} | {'x rules alone cost':>18} |")
    print(f"| {'---':<44} | {'---:':>8} | {'---:':>8} | {'---:':>18} |")
    for name, rate in speeds.rates.items():
        print(f"| {name:<44} | {rate:>8,.0f} | {1e6 / rate:>8.0f} | {rules / rate:>18.2f} |")
    print(
        f"\nThe model: trained (not timed, {speeds.training_seconds:.0f} s) with training.fit on "
        f"{speeds.trained_on:,} labels of {', '.join(path.stem for path in TRAINING_SETS)}.\n"
    )
    print("| target | figure | met |")
    print("| --- | ---: | --- |")
    if VADER in speeds.rates:
        ratio = rules / speeds.rates[VADER]
        print(f"| rules alone at least as fast as VADER | x{ratio:.2f} VADER's speed | {_yes(ratio >= 1)} |")
    for what, name, base in (
        ("rules + model cost at most twice the rules alone", MODEL, RULES),
        ("the same through `social-care classify` (result)", COMMAND_MODEL, COMMAND),
    ):
        cost = speeds.rates[base] / speeds.rates[name]
        print(f"| {what} | x{cost:.2f} the cost | {_yes(cost <= 2)} |")


def _yes(met: bool) -> str:
    return "yes" if met else "no"
