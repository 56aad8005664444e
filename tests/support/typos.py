"""Typing errors made on purpose, for tests of what the fuzzy look-ups find."""

from __future__ import annotations

import random

EDITS = ("drop", "double", "swap", "replace")


def typed_badly(word: str, rng: random.Random, errors: int) -> str:
    """``word`` with ``errors`` typing errors: a letter dropped, doubled, swapped or replaced."""
    for _ in range(errors):
        at = rng.randrange(len(word))
        edit = rng.choice(EDITS)
        if edit == "drop" and len(word) > 3:
            word = word[:at] + word[at + 1 :]
        elif edit == "double":
            word = word[:at] + word[at] + word[at:]
        elif edit == "swap" and at:
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        else:
            word = word[:at] + rng.choice("aeioulrs") + word[at + 1 :]
    return word
