"""Reddit: the real praw client against a fake Reddit on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr, ValidationError

from connectors.base import ConnectorError, SourceContext
from connectors.reddit import RedditConnector, RedditOptions
from tests.fakes.reddit_api import FakeReddit
from tests.support.clock import FakeClock

SECRETS = {
    "client_id": "app-id",
    "client_secret": "app-secret",
    "username": "velora_care",
    "password": "hunter2",
}


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    with FakeReddit().running() as server:
        yield server


def connect(
    fake: FakeReddit,
    *,
    subreddits: tuple[str, ...] = ("velora",),
    terms: tuple[str, ...] = ("Velora",),
    queries: tuple[str, ...] = (),
    secrets: dict[str, str] | None = None,
    **options: object,
) -> RedditConnector:
    context = SourceContext(
        source_id="reddit",
        account="velora_care",
        api_base_url=fake.url,
        search_terms=list(terms),
        queries=list(queries),
        subreddits=list(subreddits),
    )
    settings = RedditOptions.model_validate({"auth_url": fake.url, "timeout": 0.5, **options})
    given = {name: SecretStr(value) for name, value in (secrets or SECRETS).items()}
    return RedditConnector(context=context, options=settings, secrets=given, clock=FakeClock())


def ids(connector: RedditConnector, cursor: str | None) -> tuple[list[str], str | None]:
    batch = connector.fetch(cursor)
    return [post.external_id for post in batch.posts], batch.cursor


def test_pagination_returns_every_item_exactly_once_oldest_first(fake: FakeReddit) -> None:
    fake.page_size = 3
    added = [fake.add_submission("velora", f"Post {n}") for n in range(8)]
    comments = [fake.add_comment(added[0], f"comment {n}") for n in range(4)]
    found, _ = ids(connect(fake, page_size=3, first_poll_items=100), None)
    assert found == added + comments
    assert any("after" in request.query for request in fake.requested("/r/velora/new"))


def test_a_second_fetch_returns_only_newer_items(fake: FakeReddit) -> None:
    connector = connect(fake)
    fake.add_submission("velora", "Old")
    _, cursor = ids(connector, None)
    newer = fake.add_submission("velora", "Velora broke")
    reply = fake.add_comment(newer, "same here")
    found, cursor = ids(connector, cursor)
    assert found == [newer, reply]
    assert ids(connector, cursor)[0] == []


def test_search_mentions_and_r_all_are_watched(fake: FakeReddit) -> None:
    elsewhere = fake.add_submission("gadgets", "My Velora keeps rebooting")
    fake.add_submission("gadgets", "unrelated")
    host = fake.add_submission("gadgets", "phones")
    mention = fake.add_comment(host, "hey u/velora_care help")
    batch = connect(fake, search_all=True, first_poll_items=100).fetch(None)
    by_id = {post.external_id: post for post in batch.posts}
    assert set(by_id) == {elsewhere, mention}
    assert by_id[mention].direct and not by_id[elsewhere].direct
    assert by_id[mention].thread.thread_id == host and by_id[mention].thread.parent_id == host
    assert by_id[mention].url.startswith("https://www.reddit.com/r/gadgets/comments/")
    searches = fake.requested("/r/all/search")
    assert searches and searches[0].query["sort"] == "new" and searches[0].query["q"] == '"Velora"'


def test_posts_are_normalised(fake: FakeReddit) -> None:
    submission = fake.add_submission("velora", "Broken hinge", "It snapped", author="ann")
    comment = fake.add_comment(submission, "Sorry to hear", author="bob")
    posts = {post.external_id: post for post in connect(fake).fetch(None).posts}
    first, second = posts[submission], posts[comment]
    assert first.text == "Broken hinge\n\nIt snapped" and first.author.handle == "ann"
    assert first.author.followers is None and first.thread.thread_id == submission
    assert first.created_at.timestamp() == fake.thing(submission).data["created_utc"]
    assert second.thread.parent_id == submission and second.thread.thread_id == submission
    assert json.dumps(dict(second.raw))


def test_a_malformed_or_deleted_item_is_rejected_while_the_rest_are_returned(fake: FakeReddit) -> None:
    good = fake.add_submission("velora", "fine")
    fake.add_broken(
        "velora",
        "t3",
        {"id": "zz1", "name": "t3_zz1", "title": "no time", "author": "x", "created_utc": "yesterday"},
    )
    gone = fake.add_submission("velora", "gone", "[removed]")
    later = fake.add_submission("velora", "also fine")
    batch = connect(fake).fetch(None)
    assert [post.external_id for post in batch.posts] == [good, later]
    assert len(batch.rejected) == 2
    assert any(gone in rejected.reason for rejected in batch.rejected)


def test_the_user_agent_has_reddits_form(fake: FakeReddit) -> None:
    connect(fake, app_id="velora-care", app_version="1.2.0").fetch(None)
    agents = {request.headers["user-agent"] for request in fake.requests}
    assert all(agent.startswith("python:velora-care:1.2.0 (by /u/velora_care)") for agent in agents)


def test_a_user_agent_outside_reddits_form_is_refused() -> None:
    with pytest.raises(ValidationError):
        RedditOptions(app_id="my app")
    with pytest.raises(ValidationError):
        RedditOptions(contact="not a name!")


def test_the_base_url_is_honoured(fake: FakeReddit) -> None:
    connect(fake).fetch(None)
    assert fake.requested("/api/v1/access_token")
    assert fake.requested("/r/velora/new") and fake.requested("/message/mentions")


def test_bad_app_credentials_are_permanent(fake: FakeReddit) -> None:
    with pytest.raises(ConnectorError) as raised:
        connect(fake, secrets={**SECRETS, "client_secret": "wrong"}).fetch(None)
    assert raised.value.permanent


def test_a_wrong_password_is_permanent(fake: FakeReddit) -> None:
    with pytest.raises(ConnectorError) as raised:
        connect(fake, secrets={**SECRETS, "password": "wrong"}).fetch(None)
    assert raised.value.permanent


def test_replies_land_on_the_right_parent_and_are_found_again(fake: FakeReddit) -> None:
    submission = fake.add_submission("velora", "help")
    comment = fake.add_comment(submission, "me too")
    connector = connect(fake)
    assert connector.find_reply(comment) is None
    to_comment = connector.reply(comment, "We're on it")
    to_submission = connector.reply(submission, "Looking into it")
    assert fake.replies == [
        {"parent": comment, "text": "We're on it", "id": to_comment},
        {"parent": submission, "text": "Looking into it", "id": to_submission},
    ]
    assert connector.find_reply(comment) == to_comment
    assert connector.find_reply(submission) == to_submission


def test_declared_limits() -> None:
    assert RedditConnector.reply_max_length == 10000 and RedditConnector.rate_limit_per_minute == 100
    assert RedditConnector.auto_reply_allowed and not RedditConnector.auto_reply_requires_direct


def test_raw_queries_are_searched_in_the_watched_subreddits(fake: FakeReddit) -> None:
    refund = fake.add_submission("velora", "Where is my refund?")
    fake.add_submission("velora", "Nice weather")

    found, _ = ids(connect(fake, terms=(), queries=("refund",), first_poll_items=100), None)

    assert refund in found
    [search] = fake.requested("/r/velora/search")
    assert search.query["q"] == "refund" and search.query["restrict_sr"] in {"on", "1", "true", "True"}


def test_find_reply_skips_the_replies_the_outbox_already_recorded(fake: FakeReddit) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    connector = connect(fake)
    acknowledgement = connector.reply(comment, "We're on it")
    assert connector.find_reply(comment, exclude={acknowledgement}) is None
    answer = connector.reply(comment, "Luca here: fixed")
    assert connector.find_reply(comment, exclude={acknowledgement}) == answer
