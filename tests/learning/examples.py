"""Labelled posts for the learning tests, generated from a seed.

A company's own vocabulary: made-up product words the rules cannot know, which
name a fault ("blorked", "sgrufolato") or delight ("zinglyest", "fiammeggiante"),
in English and Italian. A model learns them from labels; the rules call such posts
"other". And posts whose labels are the rules' own verdicts, which no model can
beat.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from social_care.classify import RuleClassifier

FAULTS = {"en": ["blorked", "snarfed", "gloppy"], "it": ["sgrufolato", "imbrattolo", "sfrangiato"]}
DELIGHTS = {
    "en": ["zinglyest", "flumptastic", "wuzzly"],
    "it": ["fiammeggiante", "scintillosa", "zuccherino"],
}
NEUTRAL = {
    "en": ["the", "kettle", "my", "this", "morning", "came", "in", "with", "box", "today", "green", "one"],
    "it": [
        "il",
        "bollitore",
        "mio",
        "questa",
        "mattina",
        "arrivato",
        "con",
        "scatola",
        "oggi",
        "verde",
        "uno",
    ],
}
TEMPLATES = {
    "en": {
        "complaint": "{a} {b} kettle {word} {c}",
        "praise": "{a} kettle {word} {b} {c}",
        "other": "{a} {b} {c} kettle",
    },
    "it": {
        "complaint": "{a} {b} bollitore {word} {c}",
        "praise": "{a} bollitore {word} {b} {c}",
        "other": "{a} {b} {c} bollitore",
    },
}


def house_examples(count: int = 150, *, seed: int = 1, noise: float = 0.0) -> list[dict[str, Any]]:
    """``count`` posts in each language, a third of each category; ``noise`` of the labels flipped."""
    rng = random.Random(seed)
    rows = []
    for language in ("en", "it"):
        for number in range(count):
            category = ("complaint", "praise", "other")[number % 3]
            words = FAULTS if category == "complaint" else DELIGHTS
            fillers = rng.sample(NEUTRAL[language], 3)
            text = TEMPLATES[language][category].format(
                a=fillers[0], b=fillers[1], c=fillers[2], word=rng.choice(words[language])
            )
            label = category
            if rng.random() < noise:
                label = rng.choice([other for other in ("complaint", "praise", "other") if other != category])
            rows.append({"id": f"{language}-{number}", "text": text, "label": label, "lang": language})
    return rows


RULE_TEXTS = [
    "not working at all since yesterday, terrible",
    "the app keeps crashing, worst update ever",
    "thank you so much, the support was amazing",
    "love it, great job team",
    "how do I change my delivery address?",
    "can you tell me when the store opens?",
    "non funziona più niente, pessimo servizio",
    "grazie mille, assistenza fantastica",
    "come posso cambiare la password?",
    "the kettle arrived on monday",
]


def rules_examples(copies: int = 12) -> list[dict[str, Any]]:
    """Posts labelled with the rules' own verdict: the rules are right on every one."""
    rules = RuleClassifier()
    return [
        {"id": f"r-{copy}-{number}", "text": f"{text} #{copy}", "label": rules.classify(text).category}
        for copy in range(copies)
        for number, text in enumerate(RULE_TEXTS)
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path
