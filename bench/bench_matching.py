# ruff: noqa: SIM905 (word lists read better as one string of words)
"""How fast the matcher and the classifier are, and how that changes with the size
of the watch list.

Usage:
    .venv/bin/python bench/bench_matching.py [--posts N] [--terms 10,100,1000,10000] [--seed S]
        [--no-compare] [--compare-posts N] [--compare-rounds R]

For each watch-list size it generates that many watch terms (brands, companies,
products and staff, each with aliases, a handle or a hashtag, fuzzy matching
on) and posts of 5-50 words (about 22 on average, like real posts), half
English and half Italian, where some posts name a term exactly, some misspell
it and most name nothing. Posts also carry the long tail real text has (rare
words, numbers, other people's handles, links), so the matcher's per-word
caches are not flattered by a tiny vocabulary; each measurement gets a fresh
matcher, warmed up on posts other than the timed ones.

It prints posts per second on one core (the process and its children are pinned
to one) for matching alone, for matching plus classification, and for a
baseline of one compiled regular expression (every form of every term in one
case-insensitive alternation, whole words, exact only); the index build time;
the memory the built index holds (tracemalloc); and the peak memory, as the
growth of the process's maximum resident set size (getrusage ru_maxrss) while
building the index and matching + classifying every post. Each size runs in a
fresh process so that one size's memory and caches do not colour the next.
Everything is generated from the seed; nothing touches the network.

Then, unless --no-compare, on the posts and watch terms of the size nearest 1,000,
in a fresh process too: classification speed against VADER, for the rules alone,
the rules plus a trained model, and `social-care classify`'s path with and without
the model, with the issue's targets (see classifier_speed.py; the model is trained
from ../shared/eval before timing)."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from classifier_speed import Speeds, compare, print_speeds

from social_care.classify import RuleClassifier
from social_care.deletions import one_letter_less
from social_care.matching import WatchMatcher
from social_care.text import clear_caches, tokenize
from social_care.watchlist import Term

# --- word lists -------------------------------------------------------------------------------

BRAND_SYLLABLES = (
    "ve lo ra ka mi to zen dar qu ix no va sol ter bri an co lu mar pe ri sta gon fel ia or us el vi".split()
)
RARE_SYLLABLES = "bo ske tran wu gli pha dro ne fy ok zim hu ja ple cri mu xo sna de ty".split()
MODELS = (
    "Pulse Casa Pay Air Max Nova Go Link Home Beat Fit Cloud Drive Mini Plus Lite One Flow Spark Vision"
).split()
FIRST_NAMES = (
    "Marco Giulia Luca Sara Paolo Chiara Andrea Elena Matteo Anna Davide Laura Simone Marta Fabio "
    "Emma James Olivia Noah Sophie Liam Grace Ethan Chloe Ryan Lucy Adam Ella Daniel Mia"
).split()
FILLER = {
    "en": (
        "the a my i it is was and to for of on in with this that just so today again still really after "
        "before about when what your our we they you have has had been be one more time day week phone app "
        "order update new old got from at all can will there their here now then some very much store"
    ).split(),
    "it": (
        "il la lo un una mio mia che e di da per con su è ho ha oggi ancora dopo prima quando cosa questo "
        "quella sono siamo telefono ordine app aggiornamento nuovo settimana giorno tempo anche ma poi già "
        "molto tutto negozio casa lavoro sempre ieri domani qui"
    ).split(),
}
CUES = {
    "en": {
        "complaint": [
            "not working",
            "still broken",
            "worst service ever",
            "my refund never arrived",
            "the app keeps crashing",
            "great, another outage",
            "nobody answers",
            "charged twice",
        ],
        "inquiry": [
            "do you ship to Italy",
            "how do I reset",
            "is there a way to",
            "can someone help me with",
        ],
        "praise": ["thank you so much", "love it", "amazing support", "works perfectly", "best purchase"],
    },
    "it": {
        "complaint": [
            "non funziona",
            "ancora rotto",
            "mai più",
            "il rimborso non è arrivato",
            "l'app si blocca",
            "nessuno risponde",
            "addebito doppio",
        ],
        "inquiry": ["spedite in Svizzera", "come faccio a", "c'è un modo per", "qualcuno mi aiuta con"],
        "praise": ["grazie mille", "bravissimi", "funziona benissimo", "servizio eccellente"],
    },
}
INTENTS = {"complaint": 0.3, "inquiry": 0.25, "praise": 0.15, "": 0.3}
MENTIONS = {"exact": 0.2, "misspelt": 0.1, "": 0.7}
WARMUP_POSTS = 2_000

# --- watch terms ------------------------------------------------------------------------------


def make_terms(count: int, rng: random.Random) -> list[Term]:
    """``count`` terms in blocks of ten: a brand, its company, five products and three people."""
    names = _unique_words(rng, BRAND_SYLLABLES, count // 10 + 1, 2, 3)
    surnames = iter(_unique_words(rng, BRAND_SYLLABLES, count, 3, 3))
    terms: list[Term] = []
    for brand in names:
        terms.extend(_brand_block(brand, surnames, rng))
        if len(terms) >= count:
            break
    return terms[:count]


def _brand_block(brand: str, surnames: Iterator[str], rng: random.Random) -> list[Term]:
    block = [
        Term(
            "brand",
            brand,
            brand,
            "",
            (brand, f"{brand} Italia", f"@{brand.lower()}_help", f"#{brand}"),
            (f"Villa {brand}",),
            88.0,
        ),
        Term("company", f"{brand} S.p.A.", brand, "", (f"{brand} S.p.A.", f"{brand} Group"), (), 100.0),
    ]
    for model in rng.sample(MODELS, 5):
        name = f"{brand} {model}"
        block.append(
            Term("product", name, brand, name, (name, f"{brand}{model}", f"#{brand}{model}"), (), 88.0)
        )
    for _ in range(3):
        first, last = rng.choice(FIRST_NAMES), next(surnames)
        name = f"{first} {last}"
        block.append(Term("staff", name, brand, "", (name, f"{first[0]}. {last}"), (), 88.0))
    return block


def _unique_words(rng: random.Random, syllables: list[str], count: int, low: int, high: int) -> list[str]:
    """``count`` distinct capitalised words of ``low`` to ``high`` syllables, five letters or more."""
    found: dict[str, None] = {}
    while len(found) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(low, high)))
        if len(word) >= 5:
            found[word.capitalize()] = None
    return list(found)


# --- posts ------------------------------------------------------------------------------------


def make_posts(terms: Sequence[Term], count: int, rng: random.Random) -> list[str]:
    return [_post(terms, rng) for _ in range(count)]


def _length(rng: random.Random) -> int:
    """Words in a post: 5 to 50, most around 10-20, as in the development sets
    (real posts there average 15-19 words, median 15-20, longest 57)."""
    return round(rng.triangular(5, 50, 10))


def _post(terms: Sequence[Term], rng: random.Random) -> str:
    language = rng.choice(("en", "it"))
    intent = _pick(rng, INTENTS)
    words = [_filler_word(language, rng) for _ in range(_length(rng))]
    if intent:
        words.insert(rng.randrange(len(words)), rng.choice(CUES[language][intent]))
    mention = _pick(rng, MENTIONS)
    if mention and terms:
        form = rng.choice(rng.choice(terms).forms)
        words.insert(rng.randrange(len(words)), _misspell(form, rng) if mention == "misspelt" else form)
    if rng.random() < 0.2:
        words.insert(0, f"@user{rng.randrange(100_000)}")
    if rng.random() < 0.1:
        words.append(f"https://example.com/p/{rng.randrange(10**9):x}")
    end = {"inquiry": "?", "praise": "!"}.get(intent, ".")
    text = " ".join(words)
    return text[:1].upper() + text[1:] + end


def _filler_word(language: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return "".join(rng.choice(RARE_SYLLABLES) for _ in range(rng.randint(2, 4)))
    if roll < 0.08:
        return str(rng.randrange(10_000))
    if roll < 0.1:
        return f"#{rng.choice(FILLER[language])}{rng.choice(FILLER[language])}"
    return rng.choice(FILLER[language]) + ("," if roll > 0.97 else "")


def _misspell(form: str, rng: random.Random) -> str:
    """One typing error in the form's longest word: a letter dropped, doubled, swapped or replaced."""
    words = form.split()
    index = max(range(len(words)), key=lambda at: len(words[at]))
    word = words[index]
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "double", "swap", "replace"))
    if edit == "drop":
        word = word[:at] + word[at + 1 :]
    elif edit == "double":
        word = word[:at] + word[at] + word[at:]
    elif edit == "swap":
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    else:
        word = word[:at] + rng.choice("aeiou") + word[at + 1 :]
    words[index] = word
    return " ".join(words)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- the three contenders ---------------------------------------------------------------------


def regex_baseline(terms: Sequence[Term]) -> re.Pattern[str]:
    """Every form of every term in one case-insensitive alternation of whole words, longest first."""
    forms = sorted({form for term in terms for form in term.forms}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)", re.IGNORECASE)


def match_and_classify(matcher: WatchMatcher, classifier: RuleClassifier) -> Callable[[str], object]:
    def work(text: str) -> object:
        tokens = tokenize(text)  # once, shared, as the pipeline does
        return classifier.classify(text, matches=matcher.match_tokens(text, tokens), tokens=tokens)

    return work


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    posts: int
    seed: int
    regex_budget: float


@dataclass(frozen=True)
class Row:
    terms: int
    matcher: float
    both: float
    regex: float
    regex_posts: int
    timed_posts: int
    build_seconds: float
    index_mib: float
    peak_mib: float
    matched: float
    regex_matched: float


@dataclass(frozen=True)
class Workload:
    terms: list[Term]
    warmup: list[str]
    timed: list[str]


def workload(count: int, settings: Settings) -> Workload:
    rng = random.Random(f"{settings.seed}-{count}")
    terms = make_terms(count, rng)
    return Workload(terms, make_posts(terms, WARMUP_POSTS, rng), make_posts(terms, settings.posts, rng))


def posts_per_second(
    work: Callable[[str], object], posts: Sequence[str], budget: float = 0.0
) -> tuple[float, int, int]:
    """Posts per second, posts done and posts with a truthy answer; ``budget`` s stops it early."""
    started = time.perf_counter()
    done = found = 0
    for done, text in enumerate(posts, start=1):
        found += bool(work(text))
        if budget and done % 100 == 0 and time.perf_counter() - started > budget:
            break
    return done / (time.perf_counter() - started), done, found


def fresh_matcher(terms: Sequence[Term], warmup: Sequence[str]) -> tuple[WatchMatcher, float]:
    """A new matcher (and empty word caches), built and then warmed up on posts not timed."""
    clear_caches()
    one_letter_less.cache_clear()
    started = time.perf_counter()
    matcher = WatchMatcher(terms)
    build = time.perf_counter() - started
    for text in warmup:
        matcher.match(text)
    return matcher, build


def index_mib(terms: Sequence[Term]) -> float:
    """What the built index holds, traced by tracemalloc (Python allocations)."""
    tracemalloc.start()
    matcher = WatchMatcher(terms)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del matcher
    return held / 2**20


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(count: int, settings: Settings) -> Row:
    """Every figure for one watch-list size; run in a fresh process so sizes do not share memory."""
    load = workload(count, settings)
    classifier = RuleClassifier()
    for text in load.warmup:
        classifier.classify(text)
    before = max_rss_mib()
    matcher, build = fresh_matcher(load.terms, load.warmup)
    matcher_rate, _, matched = posts_per_second(matcher.match, load.timed)
    del matcher
    matcher, _ = fresh_matcher(load.terms, load.warmup)
    both_rate, _, _ = posts_per_second(match_and_classify(matcher, classifier), load.timed)
    peak = max_rss_mib() - before
    del matcher
    pattern = regex_baseline(load.terms)
    for text in load.warmup[:100]:
        pattern.findall(text)
    regex_rate, regex_posts, regex_matched = posts_per_second(
        pattern.findall, load.timed, budget=settings.regex_budget
    )
    return Row(
        terms=len(load.terms),
        matcher=matcher_rate,
        both=both_rate,
        regex=regex_rate,
        regex_posts=regex_posts,
        timed_posts=len(load.timed),
        build_seconds=build,
        index_mib=index_mib(load.terms),
        peak_mib=peak,
        matched=matched / len(load.timed),
        regex_matched=regex_matched / regex_posts,
    )


def measure_apart(count: int, settings: Settings) -> Row:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, count, settings).result()


def speeds(count: int, settings: Settings, posts: int, rounds: int) -> Speeds:
    load = workload(count, settings)
    return compare(load.terms, load.warmup, load.timed[:posts], rounds=rounds)


def speeds_apart(count: int, settings: Settings, posts: int, rounds: int) -> Speeds:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(speeds, count, settings, posts, rounds).result()


def reference(settings: Settings) -> str:
    """Tokenising and classifying alone, which no number of terms changes."""
    load = workload(10, settings)
    classifier = RuleClassifier()
    for text in load.warmup:
        classifier.classify(text)
    tokens, _, _ = posts_per_second(tokenize, load.timed)
    classified, _, _ = posts_per_second(classifier.classify, load.timed)
    return f"For reference: tokenize alone {tokens:,.0f} posts/s, classifier alone {classified:,.0f} posts/s."


# --- reporting --------------------------------------------------------------------------------


def print_table(rows: Sequence[Row]) -> None:
    header = (
        f"{'terms':>6} | {'matcher/s':>9} | {'match+classify/s':>16} | {'regex/s':>9} | {'build s':>7} | "
        f"{'index MiB':>9} | {'peak MiB':>8} | {'matched':>7} | {'regex matched':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        regex = f"{row.regex:,.0f}" + ("*" if row.regex_posts < row.timed_posts else "")
        print(
            f"{row.terms:>6,} | {row.matcher:>9,.0f} | {row.both:>16,.0f} | {regex:>9} | "
            f"{row.build_seconds:>7.2f} | {row.index_mib:>9.1f} | {row.peak_mib:>8.1f} | "
            f"{row.matched:>7.1%} | {row.regex_matched:>13.1%}"
        )


def print_scaling(rows: Sequence[Row]) -> None:
    by_terms = {row.terms: row for row in rows}
    sizes = sorted(by_terms)
    if len(sizes) < 2:
        return
    small, large = (1_000, 10_000) if {1_000, 10_000} <= set(sizes) else (sizes[-2], sizes[-1])
    low, high = by_terms[small], by_terms[large]
    print(f"\nFrom {small:,} to {large:,} terms (x{large / small:g}), throughput is divided by:")
    for name, before, after in (
        ("matcher", low.matcher, high.matcher),
        ("matcher + classifier", low.both, high.both),
        ("regex baseline", low.regex, high.regex),
    ):
        print(f"  {name:<21} {before / after:5.2f}  ({before:,.0f} -> {after:,.0f} posts/s)")


def pin_to_one_core() -> str:
    """Keep this process and its children on one core, so the figures are one core's."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned to a core (no sched_setaffinity here)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=20_000, help="timed posts per size (default 20,000)")
    parser.add_argument("--terms", default="10,100,1000,10000", help="comma-separated watch-list sizes")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated terms and posts")
    parser.add_argument(
        "--regex-budget",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="stop timing the regex baseline after this long (then marked *; default 20)",
    )
    parser.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="classification speed against VADER and with a trained model (default on)",
    )
    parser.add_argument(
        "--compare-posts", type=int, default=10_000, help="timed posts of the comparison (default 10,000)"
    )
    parser.add_argument(
        "--compare-rounds", type=int, default=3, help="rounds of the comparison, best counts (default 3)"
    )
    return parser.parse_args()


def main() -> None:
    options = arguments()
    settings = Settings(options.posts, options.seed, options.regex_budget)
    print(
        f"Python {sys.version.split()[0]}, {pin_to_one_core()}; {settings.posts:,} timed posts "
        f"(after {WARMUP_POSTS:,} warm-up posts) per size, seed {settings.seed}; "
        "each size in a fresh process.\n"
    )
    rows = [measure_apart(int(size), settings) for size in options.terms.split(",")]
    print_table(rows)
    print_scaling(rows)
    for row in rows:
        if row.regex_posts < row.timed_posts:
            print(f"* regex timed on the first {row.regex_posts:,} posts ({row.terms:,} terms).")
    print(f"\n{reference(settings)}")
    print(
        "matcher/s, match+classify/s, regex/s: posts per second on one core (regex: one alternation of every "
        "form, exact, case-insensitive, whole words; * = timed on fewer posts, see --regex-budget). "
        "build s: index build time. index MiB: the built index, traced by tracemalloc. peak MiB: growth of "
        "the process's maximum resident set size (getrusage ru_maxrss) while building the index and "
        "matching + classifying every post. matched / regex matched: share of posts with at least one hit "
        f"({MENTIONS['exact']:.0%} name a term exactly, {MENTIONS['misspelt']:.0%} misspell one)."
    )
    if options.compare:
        size = min((int(size) for size in options.terms.split(",")), key=lambda size: abs(size - 1_000))
        found = speeds_apart(size, settings, options.compare_posts, options.compare_rounds)
        print_speeds(found, size)


if __name__ == "__main__":
    main()
