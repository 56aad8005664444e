"""Which reply template is used: platform, then category, then language, with English last."""

from __future__ import annotations

import pytest

from responders.replies import ReplyRenderer
from social_care.resources import bundled

VALUES = {"name": "Anna", "product": "Velora Pulse", "reference": "SC-000042", "window": "entro 1 ora"}


@pytest.fixture
def renderer() -> ReplyRenderer:
    return ReplyRenderer(bundled("templates") / "replies")


def render(renderer: ReplyRenderer, **choice: str) -> str:
    return renderer.render(max_length=10_000, values=VALUES, **choice)


def test_the_fallback_order_is_platform_category_language_then_english(renderer: ReplyRenderer) -> None:
    assert renderer.candidates(
        platform="x", purpose="acknowledgement", category="complaint", language="it"
    ) == [
        "x/acknowledgement.complaint.it.txt",
        "acknowledgement.complaint.it.txt",
        "x/acknowledgement.it.txt",
        "acknowledgement.it.txt",
        "x/acknowledgement.complaint.en.txt",
        "acknowledgement.complaint.en.txt",
        "x/acknowledgement.en.txt",
        "acknowledgement.en.txt",
    ]


def test_a_platform_folder_wins_over_the_shared_template(renderer: ReplyRenderer) -> None:
    choice = {"purpose": "acknowledgement", "category": "complaint", "language": "it"}
    on_reddit = render(renderer, platform="reddit", **choice)
    on_x = render(renderer, platform="x", **choice)
    assert "scrivici in privato" in on_reddit and "scrivici in privato" not in on_x
    assert all(value in on_reddit for value in VALUES.values())


def test_a_language_without_templates_falls_back_to_english(renderer: ReplyRenderer) -> None:
    text = render(renderer, platform="x", purpose="acknowledgement", category="praise", language="de")
    assert text.startswith("Hi Anna, thanks for reaching out")
