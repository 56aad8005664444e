"""The work of matching and classifying one post, counted in instructions, which a shared
machine does not disturb as it does wall-clock time.

Usage (PYTHONHASHSEED fixed so that two runs lay their dictionaries out alike):

    for stage in none both; do PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/count_instructions.py 1000 $stage 2>&1 | grep Collected; done

Both runs build the same watch list and posts as bench_matching.py (seed 7) and warm up the
same way; "both" then matches and classifies 2,000 timed posts, "none" does not. The
difference of the two counts, divided by 2,000, is the instructions per post.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_matching as bench

from social_care.classify import RuleClassifier

TIMED_POSTS = 2_000


def main() -> None:
    terms, stage = int(sys.argv[1]), sys.argv[2]
    load = bench.workload(terms, bench.Settings(TIMED_POSTS, 7, 0.0))
    classifier = RuleClassifier()
    for text in load.warmup:
        classifier.classify(text)
    matcher, _ = bench.fresh_matcher(load.terms, load.warmup)
    if stage == "both":
        work = bench.match_and_classify(matcher, classifier)
        for text in load.timed:
            work(text)


if __name__ == "__main__":
    main()
