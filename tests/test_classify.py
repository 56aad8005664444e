"""The rule classifier: categories with reasons, in English and Italian."""

from __future__ import annotations

import pytest

from social_care.classify import RuleClassifier

CLASSIFIER = RuleClassifier({"Velora Pay": "critical"})


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("My watch is not working since the update", "complaint"),
        ("why hasn't my refund arrived yet?", "complaint"),
        ("great, another outage. third this week", "complaint"),
        ("Il Velora Pulse non funziona, mi aiutate?", "complaint"),
        ("mai più un ordine da voi", "complaint"),
        ("Do you ship to Switzerland?", "inquiry"),
        ("Spedite anche in Svizzera?", "inquiry"),
        ("Thank you, support was amazing", "praise"),
        ("Grazie mille, bravissimi e velocissimi", "praise"),
        ("Velora announces its results on Tuesday", "other"),
    ],
)
def test_each_post_gets_its_category(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


def test_a_verdict_explains_itself() -> None:
    verdict = CLASSIFIER.classify("Il pacco non è arrivato, ordine in ritardo di una settimana")
    assert verdict.category == "complaint" and verdict.cluster == "delivery" and verdict.language == "it"
    assert any("negative cue" in reason for reason in verdict.reasons)
    assert any(reason.startswith("about delivery") for reason in verdict.reasons)


def test_language_is_detected_or_taken_from_the_platform() -> None:
    assert CLASSIFIER.classify("the app is broken again and I am fed up").language == "en"
    assert CLASSIFIER.classify("ho un problema con la app").language == "it"
    assert CLASSIFIER.classify("ok", language="it").language == "it"
    assert CLASSIFIER.classify("12345 !!!").language == "und"


def test_reach_urgency_and_product_tier_raise_priority() -> None:
    assert CLASSIFIER.classify("my order is late").priority == "normal"
    assert CLASSIFIER.classify("my order is late, urgent").priority == "high"
    assert CLASSIFIER.classify("my order is late", followers=50_000).priority == "high"
    assert CLASSIFIER.classify("Thanks!", followers=50_000).priority == "low"


def test_sentiment_leans_with_the_cues() -> None:
    assert (
        CLASSIFIER.classify("terrible, broken, useless").sentiment
        < 0
        < CLASSIFIER.classify("love it, amazing").sentiment
    )
