"""The demo platform: bundled posts released as if arriving now, replies recorded."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from connectors.base import SourceContext
from connectors.demo import DemoConnector, DemoOptions
from social_care.classify import RuleClassifier
from social_care.learning.triage import Triage
from social_care.matching import WatchMatcher
from social_care.posts import MAX_POST_TEXT
from social_care.resources import bundled
from social_care.text import tokenize
from social_care.watchlist import bare_handle, own_handles, product_tiers, watch_terms
from tests.support.clock import FakeClock
from tests.support.configs import demo_config

POSTS = bundled("config") / "demo" / "posts.jsonl"
# The share of bundled posts the rules must triage as the set expects.
EXPECTED_AGREEMENT = 0.9


def demo(tmp_path: Path, clock: FakeClock, **options: object) -> DemoConnector:
    settings = DemoOptions(replies_file=str(tmp_path / "replies.jsonl"), **options)  # type: ignore[arg-type]
    context = SourceContext(source_id="demo", account="@velora", api_base_url="")
    return DemoConnector(context=context, options=settings, secrets={}, clock=clock)


def test_the_bundled_set_is_large_bilingual_and_varied() -> None:
    records = [json.loads(line) for line in POSTS.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 200
    languages = Counter(record["lang"] for record in records)
    assert languages["en"] >= 80 and languages["it"] >= 80
    kinds = Counter(record["expect"] for record in records)
    assert {"complaint", "inquiry", "praise", "other"} <= set(kinds)
    assert any(record["direct"] for record in records) and not all(record["direct"] for record in records)
    assert any("<script>" in record["text"] for record in records)


def test_the_rules_triage_the_bundled_posts_as_the_set_expects(tmp_path: Path) -> None:
    """Each post triaged as the pipeline triages a mention (``Pipeline.process``): the same watch
    terms, matches, language, reach and directness, through the same Triage without a model.
    A post of our own accounts is set aside by the pipeline before any case: nothing for the desk."""
    config = demo_config(tmp_path)
    matcher, triage = WatchMatcher(watch_terms(config)), Triage(RuleClassifier(product_tiers(config)))
    own = own_handles(config)
    records = [json.loads(line) for line in POSTS.read_text(encoding="utf-8").splitlines()]
    agreed = 0
    for record in records:
        tokens = tokenize(record["text"])
        judgement = triage.judge(
            record["text"],
            language=record["lang"],
            followers=record["author"].get("followers"),
            direct=record["direct"],
            matches=matcher.match_tokens(record["text"], tokens),
            tokens=tokens,
        )
        ours = bare_handle(record["author"]["handle"]) in own
        agreed += ("other" if ours else judgement.verdict.category) == record["expect"]
    assert agreed / len(records) >= EXPECTED_AGREEMENT


def test_a_first_poll_releases_the_initial_burst_shifted_to_now(tmp_path: Path, clock: FakeClock) -> None:
    batch = demo(tmp_path, clock, initial_burst=5).fetch(None)
    assert [post.external_id for post in batch.posts] == ["d0001", "d0002", "d0003", "d0004", "d0005"]
    assert all(post.created_at <= clock.now for post in batch.posts)
    assert max(post.created_at for post in batch.posts) > clock.now.replace(hour=8)


def test_posts_are_released_a_few_per_minute_and_never_twice(tmp_path: Path, clock: FakeClock) -> None:
    connector = demo(tmp_path, clock, initial_burst=2, per_minute=4)
    first = connector.fetch(None)
    assert connector.fetch(first.cursor).posts == []
    clock.advance(seconds=30)
    second = connector.fetch(first.cursor)
    assert [post.external_id for post in second.posts] == ["d0003", "d0004"]
    clock.advance(minutes=1)
    third = connector.fetch(second.cursor)
    assert [post.external_id for post in third.posts] == ["d0005", "d0006", "d0007", "d0008"]


def test_when_the_set_runs_out_it_starts_again_under_new_ids(tmp_path: Path, clock: FakeClock) -> None:
    total = len(POSTS.read_text(encoding="utf-8").splitlines())
    batch = demo(tmp_path, clock, initial_burst=total + 2).fetch(None)
    ids = [post.external_id for post in batch.posts]
    assert ids[-2:] == ["d0001-r1", "d0002-r1"]
    assert len(ids) == len(set(ids))


def test_without_looping_it_stops_at_the_end(tmp_path: Path, clock: FakeClock) -> None:
    total = len(POSTS.read_text(encoding="utf-8").splitlines())
    connector = demo(tmp_path, clock, initial_burst=total + 50, loop=False)
    batch = connector.fetch(None)
    assert len(batch.posts) == total
    clock.advance(hours=1)
    assert connector.fetch(batch.cursor).posts == []


def test_replies_are_threaded_to_their_parent(tmp_path: Path, clock: FakeClock) -> None:
    records = {
        json.loads(line)["id"]: json.loads(line) for line in POSTS.read_text(encoding="utf-8").splitlines()
    }
    batch = demo(tmp_path, clock, initial_burst=len(records)).fetch(None)
    replies = [post for post in batch.posts if records[post.external_id]["reply_to"]]
    assert replies
    for post in replies:
        assert post.thread.parent_id == records[post.external_id]["reply_to"]
        assert post.thread.thread_id is not None and records[post.thread.thread_id]["reply_to"] is None


def test_a_malformed_line_is_rejected_and_the_rest_released(tmp_path: Path, clock: FakeClock) -> None:
    posts = tmp_path / "posts.jsonl"
    good = POSTS.read_text(encoding="utf-8").splitlines()[:3]
    posts.write_text(
        "\n".join([good[0], "{not json", good[1], '{"id": "x"}', good[2]]) + "\n", encoding="utf-8"
    )
    batch = demo(tmp_path, clock, posts_file=str(posts), initial_burst=5, loop=False).fetch(None)
    assert [post.external_id for post in batch.posts] == ["d0001", "d0002", "d0003"]
    assert [rejected.reason.split(":")[0] for rejected in batch.rejected] == ["demo line 2", "demo line 4"]
    assert batch.rejected[0].payload == "{not json"


def test_a_line_whose_text_is_longer_than_the_desk_takes_in_is_rejected(
    tmp_path: Path, clock: FakeClock
) -> None:
    posts = tmp_path / "posts.jsonl"
    good = POSTS.read_text(encoding="utf-8").splitlines()[:2]
    author = {"id": "a", "handle": "a"}
    oversized = json.dumps({"id": "long", "author": author, "text": "x" * (MAX_POST_TEXT + 1)})
    posts.write_text("\n".join([good[0], oversized, good[1]]) + "\n", encoding="utf-8")
    batch = demo(tmp_path, clock, posts_file=str(posts), initial_burst=3, loop=False).fetch(None)
    assert [post.external_id for post in batch.posts] == ["d0001", "d0002"]
    [rejected] = batch.rejected
    assert rejected.reason == "demo line 2: the text is 40,001 characters long, more than the 40,000 allowed"
    assert rejected.payload == oversized


def test_the_demo_platform_records_replies_and_finds_them_again(tmp_path: Path, clock: FakeClock) -> None:
    connector = demo(tmp_path, clock)
    assert connector.find_reply("d0001") is None
    reply_id = connector.reply("d0001", "Hi Giulia, we're on it.")
    assert connector.find_reply("d0001") == reply_id
    recorded = [
        json.loads(line) for line in (tmp_path / "replies.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert recorded == [
        {
            "id": reply_id,
            "in_reply_to": "d0001",
            "text": "Hi Giulia, we're on it.",
            "at": clock.now.isoformat(),
        }
    ]


def test_the_demo_behaves_like_x_about_automatic_replies() -> None:
    assert DemoConnector.reply_max_length == 280
    assert DemoConnector.auto_reply_allowed and DemoConnector.auto_reply_requires_direct
    assert DemoConnector.credentials == ()


def test_the_demo_platform_skips_the_replies_the_outbox_already_recorded(
    tmp_path: Path, clock: FakeClock
) -> None:
    connector = demo(tmp_path, clock)
    acknowledgement = connector.reply("d0001", "Hi Giulia, we're on it.")
    assert connector.find_reply("d0001", exclude={acknowledgement}) is None
    answer = connector.reply("d0001", "Luca here: fixed.")
    assert connector.find_reply("d0001", exclude={acknowledgement}) == answer
