"""Whom an automatic acknowledgement greets: a display name only when it cannot become a link or a
mention in our public reply, and never with characters that reorder or hide the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from responders.replies import greeting_name
from social_care.runtime import build_service
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config

COMPLAINT = "@velora my Velora Pulse is broken since the update"
GREETING_WITHOUT_NAME = "Hi, we're sorry Velora Pulse let you down."
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


def acknowledgements(names: list[tuple[str, str]], engine: Engine, tmp_path: Path) -> list[str]:
    """The acknowledgement each direct complaint gets, by (display name, handle) of its author."""
    posts = [
        post(f"p{number}", COMPLAINT, name=name, handle=handle, direct=True)
        for number, (name, handle) in enumerate(names)
    ]
    service = build_service(scenario_config(tmp_path, posts), engine, clock=FakeClock())
    service.poller.poll("demo")
    service.sender.run_once()
    lines = (tmp_path / "demo-replies.jsonl").read_text(encoding="utf-8").splitlines()
    by_post = {record["in_reply_to"]: record["text"] for record in map(json.loads, lines)}
    return [by_post[f"p{number}"] for number in range(len(names))]


def test_a_name_that_reads_as_an_address_or_a_handle_is_not_used_and_the_greeting_has_none(
    engine: Engine, tmp_path: Path
) -> None:
    plain, address, look_alike, handle, reddit, name_then_link = acknowledgements(
        [
            ("Anna Bruni", "anna_b"),
            ("velora-refunds.com", "refunds1"),
            ("velora-refunds\uff0ecom", "refunds2"),  # a full-width dot
            ("@velora_help", "impostor"),
            ("u/velora_care", "impostor2"),
            ("Anna https://x.example/win", "anna_c"),
        ],
        engine,
        tmp_path,
    )
    assert plain.startswith("Hi Anna Bruni, we're sorry")
    for reply in (address, look_alike, handle, reddit, name_then_link):
        assert reply.startswith(GREETING_WITHOUT_NAME), reply
        assert "refunds" not in reply and "velora_" not in reply and "x.example" not in reply


def test_control_and_bidirectional_characters_are_removed_from_the_name(
    engine: Engine, tmp_path: Path
) -> None:
    [reply] = acknowledgements(
        [("Anna\u202e inverted\u202c\u2066 x\u2069\u200b\x07", "anna_b")], engine, tmp_path
    )
    assert reply.startswith("Hi Anna inverted x, we're sorry")


@pytest.mark.parametrize(
    ("name", "handle", "greeted"),
    [
        ("", "@fan_1", "fan_1"),  # no display name: the handle, without its sign
        ("", "forum.example", ""),  # a feed's domain is no name either
        ("Anna\nBruni", "anna_b", "Anna Bruni"),
        ("J.R.R. Tolkien", "jrr", "J.R.R. Tolkien"),
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467 Rossi",
            "rossi",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467 Rossi",
        ),
        ("#1 fan", "fan", ""),
        ("bit.ly/win", "fan", ""),
        ("W" * 80, "w", "W" * 50),
    ],
)
def test_what_a_name_becomes_in_a_greeting(name: str, handle: str, greeted: str) -> None:
    assert greeting_name(name, handle, max_length=50) == greeted
