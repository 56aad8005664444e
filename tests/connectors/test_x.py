"""X: the real tweepy client against a fake X API v2 on 127.0.0.1, nothing patched."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.base import BeforeRequest, ConnectorError, SourceContext, no_wait
from connectors.x import QUERY_MAX_LENGTH, XConnector, XOptions
from social_care.posts import Post
from social_care.runtime import build_connector
from tests.fakes.x_api import FakeX, Scripted
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


def x(
    fake: FakeX,
    clock: FakeClock,
    *,
    secrets: dict[str, str] | None = None,
    before_request: BeforeRequest = no_wait,
    **changes: object,
) -> XConnector:
    """A connector for @velora pointed at ``fake``; ``changes`` override options or context fields."""
    context_fields = {
        "account",
        "search_terms",
        "handles",
        "queries",
        "watch_mentions",
        "watch_search",
        "api_base_url",
    }
    context = SourceContext(
        **{
            "source_id": "x-velora",
            "account": "@velora",
            "api_base_url": fake.url,
            "search_terms": ["Velora"],
            "handles": [],
            **{key: value for key, value in changes.items() if key in context_fields},
        }  # type: ignore[arg-type]
    )
    options = XOptions.model_validate(
        {
            "user_id": fake.account_id,
            "max_results": 10,
            "timeout_seconds": 0.5,
            **{key: value for key, value in changes.items() if key not in context_fields},
        }
    )
    values = {**vars(fake.credentials), **(secrets or {})}
    return XConnector(
        context=context,
        options=options,
        secrets={name: SecretStr(values[name]) for name in XConnector.credentials},
        clock=clock,
        before_request=before_request,
    )


def ids(posts: list[Post]) -> list[str]:
    return [post.external_id for post in posts]


def test_the_declared_limits_follow_x_rules() -> None:
    assert XConnector.platform == "x"
    assert XConnector.reply_max_length == 280
    assert XConnector.auto_reply_allowed and XConnector.auto_reply_requires_direct
    assert XConnector.default_api_base_url == "https://api.x.com"
    assert set(XConnector.credentials) == {
        "bearer_token",
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    }


def test_the_options_have_sensible_defaults_and_refuse_unknown_keys() -> None:
    options = XOptions()
    assert options.query_extra == "-is:retweet" and options.max_results == 100 and options.timeout_seconds > 0
    with pytest.raises(ValueError, match="extra"):
        XOptions.model_validate({"userid": "1"})


def test_a_tweet_becomes_a_platform_neutral_post(fake: FakeX, clock: FakeClock) -> None:
    fake.add_user("ada", name="Ada L.", followers=321)
    parent = fake.add_tweet("bob", "Velora rocks")
    tweet = fake.add_tweet("ada", "Velora app is down again", reply_to=parent, lang="en")

    post = next(post for post in x(fake, clock).fetch(None).posts if post.external_id == tweet)

    assert post.url == f"https://x.com/ada/status/{tweet}"
    assert (post.author.handle, post.author.name, post.author.followers) == ("@ada", "Ada L.", 321)
    assert post.text == "Velora app is down again" and post.language == "en"
    assert post.created_at.tzinfo is not None and post.created_at >= clock.now
    assert (post.thread.thread_id, post.thread.parent_id) == (parent, parent)
    assert post.raw["id"] == tweet


def test_pagination_collects_every_new_tweet_exactly_once_oldest_first(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock)
    fake.add_tweet("ada", "Velora first")
    cursor = connector.fetch(None).cursor
    new = [fake.add_tweet(f"user{n % 4}", f"Velora number {n} @velora") for n in range(25)]

    batch = connector.fetch(cursor)

    assert ids(batch.posts) == new
    searches = [request for request in fake.requests if request.path == "/2/tweets/search/recent"]
    mentions = [request for request in fake.requests if request.path.endswith("/mentions")]
    assert sum("next_token" in request.params for request in searches) == 2
    assert sum("pagination_token" in request.params for request in mentions) == 2


def test_a_first_poll_reads_only_the_newest_pages(fake: FakeX, clock: FakeClock) -> None:
    old = [fake.add_tweet("ada", f"Velora old {n}") for n in range(15)]
    batch = x(fake, clock, watch_mentions=False, first_poll_pages=1).fetch(None)
    assert ids(batch.posts) == old[-10:]


def test_a_second_poll_returns_only_newer_tweets(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock)
    fake.add_tweet("ada", "Velora one")
    first = connector.fetch(None)
    assert len(first.posts) == 1
    assert connector.fetch(first.cursor).posts == []
    newer = fake.add_tweet("bob", "Velora two")
    assert ids(connector.fetch(first.cursor).posts) == [newer]


def test_the_cursor_holds_the_search_and_mentions_positions(fake: FakeX, clock: FakeClock) -> None:
    search_only = fake.add_tweet("ada", "Velora search hit")
    mention = fake.add_tweet("bob", "hello @velora")
    cursor = x(fake, clock, search_terms=["search hit"]).fetch(None).cursor
    assert cursor and json.loads(cursor) == {"search": search_only, "mentions": mention}


def test_a_tweet_found_by_search_and_mentions_is_returned_once(fake: FakeX, clock: FakeClock) -> None:
    tweet = fake.add_tweet("ada", "@velora Velora is broken")
    assert ids(x(fake, clock).fetch(None).posts) == [tweet]


def test_a_429_in_the_middle_of_pagination_keeps_the_cursor(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock, watch_mentions=False)
    fake.add_tweet("ada", "Velora before")
    cursor = connector.fetch(None).cursor
    waiting = [fake.add_tweet("bob", f"Velora {n}") for n in range(25)]
    fake.script.append(Scripted(path="/2/tweets/search/recent"))  # page one answers normally
    fake.fail_next(429, reset_in=30, path="/2/tweets/search/recent")

    with pytest.raises(ConnectorError) as raised:
        connector.fetch(cursor)

    assert raised.value.retry_after == 30
    assert ids(connector.fetch(cursor).posts) == waiting


def test_an_unreachable_platform_is_transient(clock: FakeClock) -> None:
    gone = FakeX(clock=clock).start()
    gone.stop()
    with pytest.raises(ConnectorError) as raised:
        x(gone, clock).fetch(None)
    assert not raised.value.permanent


def test_a_wrong_bearer_token_is_permanent(fake: FakeX, clock: FakeClock) -> None:
    with pytest.raises(ConnectorError, match="401") as raised:
        x(fake, clock, secrets={"bearer_token": "revoked"}).fetch(None)
    assert raised.value.permanent


def test_a_malformed_tweet_is_rejected_and_the_rest_are_returned(fake: FakeX, clock: FakeClock) -> None:
    good = fake.add_tweet("ada", "Velora one")
    broken = fake.add_tweet("bob", "Velora two", drop=("text",))
    also_good = fake.add_tweet("eve", "Velora three")

    batch = x(fake, clock).fetch(None)

    assert ids(batch.posts) == [good, also_good]
    assert len(batch.rejected) == 1
    assert broken in batch.rejected[0].reason and "no text" in batch.rejected[0].reason
    assert json.loads(batch.rejected[0].payload)["id"] == broken
    assert json.loads(batch.cursor or "{}")["search"] == also_good


def test_a_tweet_without_its_author_is_rejected(fake: FakeX, clock: FakeClock) -> None:
    fake.add_tweet("ada", "Velora no author", drop=("author_id",))
    batch = x(fake, clock).fetch(None)
    assert batch.posts == [] and "author_id" in batch.rejected[0].reason


def test_only_tweets_that_address_our_account_are_direct(fake: FakeX, clock: FakeClock) -> None:
    ours = fake.add_tweet("velora", "Velora news")
    mention = fake.add_tweet("ada", "@velora my order is late")
    reply = fake.add_tweet("bob", "Velora still broken", reply_to=ours)
    quote = fake.add_tweet("eve", "look at this Velora thing", quote_of=ours)
    keyword = fake.add_tweet("joe", "Velora broke my day")

    posts = {post.external_id: post for post in x(fake, clock).fetch(None).posts}

    assert posts[mention].direct and posts[reply].direct and posts[quote].direct
    assert not posts[keyword].direct


def test_retweets_are_excluded_by_default_and_flagged_when_asked_for(fake: FakeX, clock: FakeClock) -> None:
    original = fake.add_tweet("ada", "Velora is great")
    retweet = fake.add_tweet("bob", "RT @ada: Velora is great", retweet_of=original)

    default = x(fake, clock, watch_mentions=False).fetch(None)
    assert ids(default.posts) == [original]
    assert all("-is:retweet" in query for query in fake.queries())

    everything = {post.external_id: post for post in x(fake, clock, query_extra="").fetch(None).posts}
    assert everything[retweet].is_retweet and not everything[original].is_retweet


def test_the_language_filter_goes_into_the_query(fake: FakeX, clock: FakeClock) -> None:
    english = fake.add_tweet("ada", "Velora is great", lang="en")
    fake.add_tweet("bob", "Velora è fantastica", lang="it")
    assert ids(x(fake, clock, lang="en", watch_mentions=False).fetch(None).posts) == [english]
    assert fake.queries()[-1].endswith("-is:retweet lang:en")


def test_the_rate_limit_headers_are_read_on_every_normal_response(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock)
    connector.fetch(None)
    search = connector.rate_limits["/2/tweets/search/recent"]
    assert (search.limit, search.remaining) == (450, 449)
    assert search.resets_at == datetime.fromtimestamp(fake.reset_epoch(), UTC)
    assert connector.rate_limits[f"/2/users/{fake.account_id}/mentions"].remaining == 449


def test_a_reply_lands_on_the_right_parent_and_can_be_found_again(fake: FakeX, clock: FakeClock) -> None:
    fake.add_tweet("bob", "Velora hello")
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    connector = x(fake, clock)

    reply_id = connector.reply(complaint, "Sorry Ada, we are on it.")

    assert fake.replies == [
        {"id": reply_id, "in_reply_to_tweet_id": complaint, "text": "Sorry Ada, we are on it."}
    ]
    assert connector.find_reply(complaint) == reply_id


def test_find_reply_is_none_when_we_never_answered(fake: FakeX, clock: FakeClock) -> None:
    answered = fake.add_tweet("ada", "@velora one")
    unanswered = fake.add_tweet("bob", "@velora two")
    connector = x(fake, clock)
    connector.reply(answered, "Thanks!")
    assert connector.find_reply(unanswered) is None


def test_a_reply_is_signed_with_the_user_context_keys(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora help")
    with pytest.raises(ConnectorError) as raised:
        x(fake, clock, secrets={"consumer_secret": "wrong"}).reply(complaint, "Hi")
    assert raised.value.permanent and fake.replies == []
    post = next(request for request in fake.requests if request.method == "POST")
    assert post.headers["authorization"].startswith("OAuth ")


def test_a_long_watch_list_is_split_into_queries_under_512_characters(fake: FakeX, clock: FakeClock) -> None:
    terms = [f"Velora product number {n}" for n in range(40)]
    handles = [f"@velora_team_{n}" for n in range(20)]
    connector = x(fake, clock, search_terms=terms, handles=handles, watch_mentions=False)

    queries = connector.search_queries()
    connector.fetch(None)

    assert len(queries) > 1 and all(len(query) <= QUERY_MAX_LENGTH for query in queries)
    assert fake.queries() == queries
    joined = " ".join(queries)
    assert all(f'"{term}"' in joined for term in terms) and all(handle in joined for handle in handles)


def test_every_call_goes_to_the_configured_base_url(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora help")
    connector = x(fake, clock)
    connector.fetch(None)
    connector.reply(complaint, "On it")
    connector.find_reply(complaint)
    assert {request.path for request in fake.requests} == {
        "/2/tweets/search/recent",
        f"/2/users/{fake.account_id}/mentions",
        "/2/tweets",
        f"/2/users/{fake.account_id}/tweets",
    }


def test_mentions_without_a_user_id_or_an_account_is_a_configuration_error(
    fake: FakeX, clock: FakeClock
) -> None:
    with pytest.raises(ConnectorError, match="user_id") as raised:
        x(fake, clock, user_id="", account="").fetch(None)
    assert raised.value.permanent and fake.requests == []


def test_a_stream_empty_at_the_first_poll_is_read_to_the_end_at_the_next(
    fake: FakeX, clock: FakeClock
) -> None:
    connector = x(fake, clock, first_poll_pages=1)
    first = connector.fetch(None)
    assert first.posts == [] and json.loads(first.cursor or "{}") == {"search": None, "mentions": None}
    arrived = [fake.add_tweet("ada", f"Velora {n} @velora") for n in range(23)]
    assert ids(connector.fetch(first.cursor).posts) == arrived


def test_a_malformed_tweet_seen_by_search_and_mentions_is_rejected_once(
    fake: FakeX, clock: FakeClock
) -> None:
    fake.add_tweet("ada", "@velora Velora", drop=("author_id",))
    assert len(x(fake, clock).fetch(None).rejected) == 1


def test_without_a_base_url_setting_calls_go_to_api_x_com() -> None:
    import requests

    from connectors.x_session import RebasedSession

    session = RebasedSession(XConnector.default_api_base_url, timeout=1)
    prepared = session.prepare_request(
        requests.Request("GET", "https://api.twitter.com/2/tweets/search/recent")
    )
    assert prepared.url == "https://api.x.com/2/tweets/search/recent"
    session.close()


def test_the_sources_raw_queries_reach_the_recent_search(
    fake: FakeX, clock: FakeClock, tmp_path: Path
) -> None:
    raw_query = '"Velora Casa" has:links -is:reply'
    tweet = fake.add_tweet("ada", "Velora Casa review https://example.com")

    def add_source(raw: Raw) -> None:
        raw["sources"].append(
            {
                "id": "x-queries",
                "platform": "x",
                "brand": "Velora",
                "account": "@velora",
                "api_base_url": fake.url,
                "credentials": {name: name.upper() for name in XConnector.credentials},
                "watch": {"mentions": False, "search": False, "queries": [raw_query]},
                "options": {"user_id": fake.account_id},
            }
        )

    config = demo_config(tmp_path, add_source)
    environ = {name.upper(): value for name, value in vars(fake.credentials).items()}
    connector = build_connector(config, config.source("x-queries"), environ, clock)

    assert ids(connector.fetch(None).posts) == [tweet]
    assert fake.queries() == [raw_query]


def test_a_raw_query_longer_than_x_allows_is_a_permanent_error(fake: FakeX, clock: FakeClock) -> None:
    with pytest.raises(ConnectorError, match=r"watch.queries\[0\] is 600 characters") as raised:
        x(fake, clock, queries=["a" * 600]).fetch(None)
    assert raised.value.permanent and fake.requests == []


def test_a_reply_to_a_deleted_tweet_is_refused_for_that_post_only(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora help")
    fake.delete_tweet(complaint)
    with pytest.raises(ConnectorError, match="deleted or not visible") as raised:
        x(fake, clock).reply(complaint, "Sorry to hear that")
    assert raised.value.permanent and raised.value.only_this_post and fake.replies == []


def test_any_other_403_on_a_reply_is_the_accounts_problem(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora help")
    fake.fail_next(403, path="/2/tweets")  # e.g. an app without write permission
    with pytest.raises(ConnectorError, match="403") as raised:
        x(fake, clock).reply(complaint, "Sorry to hear that")
    assert raised.value.permanent and not raised.value.only_this_post


def test_find_reply_skips_the_replies_the_outbox_already_recorded(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    connector = x(fake, clock)
    acknowledgement = connector.reply(complaint, "Sorry Ada, we are on it.")
    assert connector.find_reply(complaint, exclude={acknowledgement}) is None
    answer = connector.reply(complaint, "Luca here: refunded.")
    assert connector.find_reply(complaint, exclude={acknowledgement}) == answer


def test_a_link_counts_as_23_characters_as_x_counts_it() -> None:
    survey = "https://care.velora.example/csat/" + "t" * 110
    assert XConnector.reply_length(f"{'w' * 200} {survey}") == 200 + 1 + 23
    assert XConnector.reply_length("no link here") == len("no link here")


# -- replies whose outcome is unknown ----------------------------------------------------------


@pytest.fixture
def address_that_never_connects() -> Iterator[str]:
    """A listener that never accepts, its backlog already full: a connect there times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    host, port = listener.getsockname()[:2]
    queued = [socket.socket() for _ in range(4)]
    for client in queued:
        client.setblocking(False)
        client.connect_ex((host, port))
    yield f"http://{host}:{port}"
    for open_socket in [*queued, listener]:
        open_socket.close()


def test_a_reply_answered_after_the_timeout_may_have_been_posted(fake: FakeX, clock: FakeClock) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    connector = x(fake, clock, timeout_seconds=0.3)
    fake.answer_next_reply_late(1.0)

    with pytest.raises(ConnectorError, match="may have been posted") as raised:
        connector.reply(complaint, "Sorry Ada, we are on it.")

    assert raised.value.outcome_unknown and not raised.value.permanent
    [posted] = fake.replies
    assert connector.find_reply(complaint) == posted["id"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_to_a_reply_leaves_its_outcome_unknown(fake: FakeX, clock: FakeClock, status: int) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    connector = x(fake, clock)
    fake.fail_next_reply_after_posting(status)

    with pytest.raises(ConnectorError) as raised:
        connector.reply(complaint, "Sorry Ada, we are on it.")

    assert raised.value.outcome_unknown and not raised.value.permanent
    assert connector.find_reply(complaint) == fake.replies[0]["id"]


def test_a_connection_dropped_after_the_reply_was_sent_leaves_its_outcome_unknown(
    fake: FakeX, clock: FakeClock
) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    fake.drop_next_reply_after_posting()
    with pytest.raises(ConnectorError, match="Connection aborted") as raised:
        x(fake, clock).reply(complaint, "Sorry Ada, we are on it.")
    assert raised.value.outcome_unknown and len(fake.replies) == 1


@pytest.mark.parametrize("status", [429, 403, 401])
def test_a_reply_x_refused_clearly_was_not_posted(fake: FakeX, clock: FakeClock, status: int) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    fake.fail_next(status, reset_in=60, path="/2/tweets")
    with pytest.raises(ConnectorError) as raised:
        x(fake, clock).reply(complaint, "Sorry Ada, we are on it.")
    assert not raised.value.outcome_unknown and fake.replies == []
    assert raised.value.retry_after == 60 if status == 429 else raised.value.permanent


def test_a_reply_to_a_refused_connection_was_not_posted(clock: FakeClock) -> None:
    gone = FakeX(clock=clock).start()
    gone.stop()
    with pytest.raises(ConnectorError) as raised:
        x(gone, clock).reply("1800000000000001000", "Sorry Ada, we are on it.")
    assert not raised.value.outcome_unknown and not raised.value.permanent


def test_a_reply_whose_connection_never_opened_was_not_posted(
    fake: FakeX, clock: FakeClock, address_that_never_connects: str
) -> None:
    connector = x(fake, clock, api_base_url=address_that_never_connects, timeout_seconds=0.3)
    with pytest.raises(ConnectorError, match=r"no connection within 0\.3s") as raised:
        connector.reply("1800000000000001000", "Sorry Ada, we are on it.")
    assert not raised.value.outcome_unknown and not raised.value.permanent


# -- the request gate ---------------------------------------------------------------------------


def test_the_request_gate_is_passed_once_before_every_request(fake: FakeX, clock: FakeClock) -> None:
    seen_before_each_call: list[int] = []
    connector = x(fake, clock, before_request=lambda: seen_before_each_call.append(len(fake.requests)))
    fake.add_tweet("ada", "Velora first")
    cursor = connector.fetch(None).cursor
    complaint = [fake.add_tweet(f"user{n % 4}", f"Velora number {n} @velora") for n in range(25)][-1]

    connector.fetch(cursor)  # three pages of search, three of mentions
    connector.reply(complaint, "On it")
    connector.find_reply(complaint)

    assert len(fake.requests) == 1 + 1 + 3 + 3 + 1 + 1
    assert seen_before_each_call == list(range(len(fake.requests)))


def test_a_gate_that_refuses_stops_the_request_before_it_goes_out(fake: FakeX, clock: FakeClock) -> None:
    def closed() -> None:
        raise ConnectorError("x source x-velora: over the source's rate limit", retry_after=12)

    with pytest.raises(ConnectorError, match="rate limit") as raised:
        x(fake, clock, before_request=closed).fetch(None)
    assert raised.value.retry_after == 12 and fake.requests == []


# -- the platform's quota as a pause --------------------------------------------------------------


def test_a_quota_nearly_spent_puts_the_next_poll_at_its_reset(fake: FakeX, clock: FakeClock) -> None:
    fake.report_quota("mentions", 1)  # the search quota is plenty; the latest pause wins
    batch = x(fake, clock).fetch(None)
    assert batch.poll_again_after == datetime.fromtimestamp(fake.reset_epoch(), UTC)


def test_a_quota_spent_puts_the_next_poll_at_its_reset(fake: FakeX, clock: FakeClock) -> None:
    fake.report_quota("search", 0)
    batch = x(fake, clock, watch_mentions=False).fetch(None)
    assert batch.poll_again_after == clock.now + timedelta(minutes=15)


def test_plenty_of_quota_leaves_the_next_poll_to_the_sources_interval(fake: FakeX, clock: FakeClock) -> None:
    fake.report_quota("search", 226)  # just over half of 450
    assert x(fake, clock).fetch(None).poll_again_after is None


def test_under_half_the_quota_left_polls_are_spread_until_the_reset(fake: FakeX, clock: FakeClock) -> None:
    fake.report_quota("search", 224)
    batch = x(fake, clock).fetch(None)  # one search request per poll, 224 left for 15 minutes
    assert batch.poll_again_after == clock.now + timedelta(seconds=900 / 224)


def test_the_quota_is_shared_out_by_the_requests_one_poll_makes(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock, watch_mentions=False)
    cursor = connector.fetch(None).cursor
    for n in range(25):
        fake.add_tweet("ada", f"Velora {n}")
    fake.report_quota("search", 30)  # three pages follow: 30, 29, then 28 left

    batch = connector.fetch(cursor)

    assert batch.poll_again_after == clock.now + timedelta(seconds=900 * 3 / 28)


# -- our account's id ---------------------------------------------------------------------------


def lookups(fake: FakeX) -> list[str]:
    return [request.path for request in fake.requests if request.path.startswith("/2/users/by/")]


@pytest.mark.parametrize("account", ["@velora", "velora", "@Velora"])
def test_an_empty_user_id_is_looked_up_once_from_the_account(
    fake: FakeX, clock: FakeClock, account: str
) -> None:
    complaint = fake.add_tweet("ada", "@velora my invoice is wrong")
    connector = x(fake, clock, user_id="", account=account)

    cursor = connector.fetch(None).cursor
    connector.fetch(cursor)
    answer = connector.reply(complaint, "On it")

    assert connector.find_reply(complaint) == answer
    assert lookups(fake) == ["/2/users/by/username/velora"]
    timelines = {request.path for request in fake.requests if request.path.startswith("/2/users/1")}
    assert timelines == {f"/2/users/{fake.account_id}/mentions", f"/2/users/{fake.account_id}/tweets"}


def test_a_looked_up_id_tells_a_reply_to_our_tweet_without_a_mention(fake: FakeX, clock: FakeClock) -> None:
    ours = fake.add_tweet("velora", "Velora news")
    reply = fake.add_tweet("bob", "Velora still broken", reply_to=ours)
    posts = {
        post.external_id: post for post in x(fake, clock, user_id="", watch_mentions=False).fetch(None).posts
    }
    assert posts[reply].direct and lookups(fake) == ["/2/users/by/username/velora"]


def test_an_account_x_does_not_know_is_a_permanent_error_naming_it(fake: FakeX, clock: FakeClock) -> None:
    with pytest.raises(ConnectorError, match="@velora_typo") as raised:
        x(fake, clock, user_id="", account="@velora_typo").fetch(None)
    assert raised.value.permanent and "Could not find user" in str(raised.value)


def test_an_account_that_is_no_x_username_is_refused_without_a_request(fake: FakeX, clock: FakeClock) -> None:
    with pytest.raises(ConnectorError, match="user_id") as raised:
        x(fake, clock, user_id="", account="Velora Care").fetch(None)
    assert raised.value.permanent and fake.requests == []


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_look_up_is_permanent(fake: FakeX, clock: FakeClock, status: int) -> None:
    fake.fail_next(status, path="/2/users/by/username/velora")
    with pytest.raises(ConnectorError, match=f"looking up the account @velora.*{status}") as raised:
        x(fake, clock, user_id="").find_reply("1800000000000001000")
    assert raised.value.permanent


def test_a_look_up_that_failed_for_now_is_tried_again(fake: FakeX, clock: FakeClock) -> None:
    connector = x(fake, clock, user_id="")
    fake.delay_next(1.0, path="/2/users/by/username/velora")
    with pytest.raises(ConnectorError) as raised:
        connector.fetch(None)
    assert not raised.value.permanent

    connector.fetch(None)

    assert lookups(fake) == ["/2/users/by/username/velora"] * 2


def test_an_unreachable_platform_during_the_look_up_is_transient(clock: FakeClock) -> None:
    gone = FakeX(clock=clock).start()
    gone.stop()
    with pytest.raises(ConnectorError, match="looking up the account @velora") as raised:
        x(gone, clock, user_id="").find_reply("1800000000000001000")
    assert not raised.value.permanent


@pytest.mark.parametrize("account", ["@velora", "velora", "@VELORA", " @Velora "])
def test_our_account_is_recognised_however_its_name_is_written(
    fake: FakeX, clock: FakeClock, account: str
) -> None:
    mention = fake.add_tweet("ada", "@VeLoRa my order is late")
    [post] = x(fake, clock, account=account, search_terms=[]).fetch(None).posts
    assert post.external_id == mention and post.direct
