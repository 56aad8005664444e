"""What a trained model reads in a post: its words, pairs of words, the letters inside
words, and the rules' own cues.

Features are named strings, not hashed buckets, so that a verdict can say which
ones decided it ("learned: 'refund' +1.3") and the stored model holds only what it
learned. A word's features (the word and its letter groups) depend on the word
alone, which lets a model add them up once per distinct word and cache the sum.
"""

from __future__ import annotations

from itertools import pairwise

from social_care.classify.rules import RuleReading

# Signals count up to this; more weighs as much (three negative cues are as telling as five).
SIGNAL_CAP = 3


def word_features(word: str) -> list[str]:
    """The word itself ("w:refund") and its groups of three to five letters, with its ends marked
    ("<re", "fun", "nd>"), so "rimborso" and "rimborsato" share most of theirs. A number is only
    its length: "2024" and "1999" are the same kind of word.

    Letter groups go unprefixed (no word holds ":", so none is taken for another kind of
    feature): a post's new words are many, and each costs its groups.
    """
    if word.isdigit():
        return [f"w:#{min(len(word), 5)}"]
    marked = f"<{word}>"
    last = len(marked) + 1
    return [
        f"w:{word}",
        *[marked[start : start + 3] for start in range(last - 3)],
        *[marked[start : start + 4] for start in range(last - 4)],
        *[marked[start : start + 5] for start in range(last - 5)],
    ]


def pair_features(words: list[str]) -> list[str]:
    """Each word with the next one ("not working", "non funziona")."""
    return [f"b:{first} {second}" for first, second in pairwise(words)]


def text_features(words: list[str]) -> list[str]:
    """Every word and pair feature of a post, repeated as often as it occurs."""
    found = [feature for word in words for feature in word_features(word)]
    found.extend(pair_features(words))
    return found


def rule_features(read: RuleReading, rules_category: str) -> list[str]:
    """The rules' verdict and their cues by kind, counted up to :data:`SIGNAL_CAP`."""
    found = [f"r:{rules_category}"]
    for kind, value in read.signals().items():
        if value:
            found.append(f"s:{kind}={min(int(value), SIGNAL_CAP)}")
    return found


def describe(feature: str) -> str:
    """How a reason names a feature: the words in quotes, a cue in plain words."""
    kind, colon, value = feature.partition(":")
    if not colon:
        return f"'{feature.strip('<>')}' in a word"
    if kind in ("w", "b"):
        return f"'{value}'" if not value.startswith("#") else "a number"
    if kind == "r":
        return f"the rules' {value}"
    name, _, count = value.partition("=")
    return f"{name} cues x{count}" if name not in ("question", "personal") else name
