"""Deletion compliance: the real tweepy and praw clients ask the fakes which stored posts still stand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import ConnectorError, PostsChecked
from connectors.demo import DemoConnector
from connectors.feeds import FeedConnector
from connectors.reddit import RedditConnector
from connectors.x import XConnector
from tests.connectors.test_reddit import connect
from tests.connectors.test_x import x
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.x_api import FakeX
from tests.support.clock import FakeClock

LOOKUP = "/2/tweets"


@pytest.fixture
def fake_x(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


@pytest.fixture
def fake_reddit() -> Iterator[FakeReddit]:
    with FakeReddit().running() as server:
        yield server


def lookups(fake: FakeX) -> list[dict[str, str]]:
    return [request.params for request in fake.requests if (request.method, request.path) == ("GET", LOOKUP)]


def test_only_platforms_that_can_be_asked_about_a_post_check_posts() -> None:
    assert XConnector.check_batch == RedditConnector.check_batch == 100
    assert DemoConnector.check_batch == FeedConnector.check_batch == 0


# -- X --------------------------------------------------------------------------------------------


def test_x_tells_standing_deleted_and_protected_tweets_apart_in_one_request(
    fake_x: FakeX, clock: FakeClock
) -> None:
    bob = fake_x.add_user("bob")
    standing = fake_x.add_tweet("ada", "Velora works again")
    deleted = fake_x.add_tweet("ada", "Velora is useless")
    protected = fake_x.add_tweet("bob", "Velora lost my data")
    fake_x.delete_tweet(deleted)
    fake_x.protect_user(bob)

    checked = x(fake_x, clock).check_posts([standing, deleted, protected])

    assert checked == PostsChecked(
        present=frozenset({standing}), gone={deleted: "deleted", protected: "protected"}, reads=1
    )
    [params] = lookups(fake_x)
    assert params["ids"].split(",") == [standing, deleted, protected]


def test_x_checks_a_hundred_tweets_in_one_request_billed_one_read_each(
    fake_x: FakeX, clock: FakeClock
) -> None:
    tweets = [fake_x.add_tweet(f"user{n % 7}", f"Velora {n}") for n in range(100)]

    checked = x(fake_x, clock).check_posts(tweets)

    assert checked.present == frozenset(tweets) and checked.gone == {}
    assert checked.reads == 100
    assert len(lookups(fake_x)) == 1 and len(fake_x.requests) == 1


def test_x_bills_no_read_for_a_tweet_it_did_not_return(fake_x: FakeX, clock: FakeClock) -> None:
    gone = [fake_x.add_tweet("ada", f"Velora {n}") for n in range(3)]
    for tweet in gone:
        fake_x.delete_tweet(tweet)

    checked = x(fake_x, clock).check_posts(gone)

    assert checked.reads == 0 and checked.present == frozenset()
    assert checked.gone == dict.fromkeys(gone, "deleted")


def test_a_problem_of_another_kind_leaves_the_tweet_unanswered(fake_x: FakeX, clock: FakeClock) -> None:
    standing = fake_x.add_tweet("ada", "Velora fine")
    unsure = fake_x.add_tweet("bob", "Velora broken")
    fake_x.fail_lookup_of(unsure, "resource-unavailable")

    checked = x(fake_x, clock).check_posts([standing, unsure])

    assert checked.present == frozenset({standing})
    assert unsure not in checked.gone


def test_a_429_on_the_look_up_waits_until_x_resets(fake_x: FakeX, clock: FakeClock) -> None:
    tweet = fake_x.add_tweet("ada", "Velora")
    fake_x.fail_next(429, reset_in=30, path=LOOKUP)

    with pytest.raises(ConnectorError, match="checking posts") as raised:
        x(fake_x, clock).check_posts([tweet])

    assert raised.value.retry_after == 30 and not raised.value.permanent


def test_x_is_asked_about_no_more_than_a_hundred_tweets_at_once(fake_x: FakeX, clock: FakeClock) -> None:
    tweets = [str(1_900_000_000_000_000_000 + n) for n in range(101)]
    with pytest.raises(ValueError, match="100"):
        x(fake_x, clock).check_posts(tweets)
    assert fake_x.requests == []


def test_the_x_look_up_waits_at_the_sources_gate(fake_x: FakeX, clock: FakeClock) -> None:
    tweet = fake_x.add_tweet("ada", "Velora")
    seen: list[int] = []

    x(fake_x, clock, before_request=lambda: seen.append(len(fake_x.requests))).check_posts([tweet])

    assert seen == [0] and len(lookups(fake_x)) == 1


# -- Reddit ---------------------------------------------------------------------------------------


def test_reddit_tells_standing_deleted_removed_and_purged_things_apart(fake_reddit: FakeReddit) -> None:
    standing = fake_reddit.add_submission("velora", "Pulse question", "does it sync?")
    answer = fake_reddit.add_comment(standing, "same question")
    deleted_post = fake_reddit.add_submission("velora", "Velora rant", "never again")
    deleted_comment = fake_reddit.add_comment(standing, "rude words")
    removed_post = fake_reddit.add_submission("velora", "Buy cheap Velora", "spam")
    removed_comment = fake_reddit.add_comment(standing, "more spam")
    purged = fake_reddit.add_comment(standing, "gone for good")
    for name in (deleted_post, deleted_comment):
        fake_reddit.delete(name)
    for name in (removed_post, removed_comment):
        fake_reddit.remove(name)
    fake_reddit.purge(purged)
    asked = [standing, answer, deleted_post, deleted_comment, removed_post, removed_comment, purged]

    checked = connect(fake_reddit).check_posts(asked)

    assert checked.present == frozenset({standing, answer})
    assert checked.gone == {
        deleted_post: "deleted",
        deleted_comment: "deleted",
        removed_post: "removed",
        removed_comment: "removed",
        purged: "deleted",
    }
    assert checked.reads == 6


def test_a_deleted_account_leaves_its_comments_standing(fake_reddit: FakeReddit) -> None:
    thread = fake_reddit.add_submission("velora", "Pulse question")
    orphan = fake_reddit.add_comment(thread, "my Velora died", author="[deleted]")

    checked = connect(fake_reddit).check_posts([orphan])

    assert checked.present == frozenset({orphan}) and checked.gone == {}


@pytest.mark.parametrize(
    ("category", "fate"),
    [("deleted", "deleted"), ("moderator", "removed"), ("reddit", "removed"), ("anti_evil_ops", "removed")],
)
def test_a_submissions_removed_by_category_says_who_took_it_down(
    fake_reddit: FakeReddit, category: str, fate: str
) -> None:
    post = fake_reddit.add_submission("velora", "Velora", "text still there", removed_by_category=category)
    assert connect(fake_reddit).check_posts([post]).gone == {post: fate}


def test_reddit_checks_a_hundred_things_in_one_request_through_the_gate(fake_reddit: FakeReddit) -> None:
    thread = fake_reddit.add_submission("velora", "Pulse question")
    things = [thread, *(fake_reddit.add_comment(thread, f"me too {n}") for n in range(99))]
    answered_before_each_gate: list[int] = []
    connector = connect(
        fake_reddit, before_request=lambda: answered_before_each_gate.append(len(fake_reddit.requests))
    )

    checked = connector.check_posts(things)

    assert checked.present == frozenset(things) and checked.reads == 100
    [info] = fake_reddit.requested("/api/info")
    assert info.query["id"].split(",") == things
    assert answered_before_each_gate == list(range(len(fake_reddit.requests)))


def test_a_429_on_the_reddit_look_up_waits_what_reddit_asked(fake_reddit: FakeReddit) -> None:
    post = fake_reddit.add_submission("velora", "Velora")
    fake_reddit.fail(429, path="/api/info", headers={"retry-after": "7"})

    with pytest.raises(ConnectorError) as raised:
        connect(fake_reddit).check_posts([post])

    assert raised.value.retry_after == 7 and not raised.value.permanent


def test_reddit_is_asked_about_no_more_than_a_hundred_things_at_once(fake_reddit: FakeReddit) -> None:
    with pytest.raises(ValueError, match="100"):
        connect(fake_reddit).check_posts([f"t1_{n}" for n in range(101)])
    assert fake_reddit.requests == []
