"""Feeds: the real requests and feedparser against a fake feed host on 127.0.0.1, nothing patched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import ConnectorError, SourceContext
from connectors.feeds import FeedConnector, FeedOptions, strip_html
from social_care.posts import Post
from tests.fakes.feed_server import Entry, FakeFeeds
from tests.support.clock import FakeClock

GOOGLE = "https://www.google.com/url?rct=j&sa=t&url={target}&ct=ga&cd=CAEY&usg=AOvVaw"


@pytest.fixture
def host() -> Iterator[FakeFeeds]:
    server = FakeFeeds().start()
    yield server
    server.stop()


def feeds(clock: FakeClock, *urls: str, **options: object) -> FeedConnector:
    context = SourceContext(source_id="alerts", account="", api_base_url="", feeds=list(urls))
    return FeedConnector(
        context=context,
        options=FeedOptions.model_validate({"timeout_seconds": 0.5, **options}),
        secrets={},
        clock=clock,
    )


def entry(number: int, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "id": f"tag:forum.example,2026:{number}",
        "title": f"Velora post {number}",
        "link": f"https://forum.example/t/{number}",
        "summary": f"<p>About Velora, number {number}</p>",
        "published": datetime(2026, 11, 20, tzinfo=UTC) + timedelta(hours=number),
        **changes,
    }
    return Entry(**fields)  # type: ignore[arg-type]


def ids(posts: list[Post]) -> list[str]:
    return [post.external_id for post in posts]


def test_feeds_are_read_but_never_answered(clock: FakeClock) -> None:
    assert FeedConnector.platform == "feed"
    assert FeedConnector.auto_reply_allowed is False and FeedConnector.reply_max_length == 0
    assert FeedConnector.credentials == () and FeedConnector.default_api_base_url == ""
    connector = feeds(clock, "http://127.0.0.1:9/feed")
    with pytest.raises(ConnectorError, match="cannot be answered") as raised:
        connector.reply("tag:forum.example,2026:1", "Thanks!")
    assert raised.value.permanent
    assert connector.find_reply("tag:forum.example,2026:1") is None


def test_the_options_have_sensible_defaults_and_refuse_unknown_keys() -> None:
    options = FeedOptions()
    assert options.timeout_seconds == 10 and options.user_agent == "social-care feed reader"
    assert options.max_seen_per_feed == 500
    with pytest.raises(ValueError, match="extra"):
        FeedOptions.model_validate({"timeout": 3})


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_entry_becomes_a_platform_neutral_post(host: FakeFeeds, clock: FakeClock, kind: str) -> None:
    url = host.add_feed("/feed", kind=kind)
    host.add_entry("/feed", entry(1, author="Ada", summary="<p>The <b>Velora</b> app &amp; me</p>"))

    (post,) = feeds(clock, url).fetch(None).posts

    assert post.external_id == "tag:forum.example,2026:1"
    assert post.url == "https://forum.example/t/1"
    assert (post.author.id, post.author.handle) == ("forum.example", "forum.example")
    assert "Ada" in post.author.name
    assert post.text == "Velora post 1\n\nThe Velora app & me"
    assert post.created_at == datetime(2026, 11, 20, 1, tzinfo=UTC)
    assert post.direct is False
    assert post.raw["feed"] == url and post.raw["title"] == "Velora post 1"
    json.dumps(dict(post.raw))


def test_an_entry_without_a_date_is_dated_when_fetched(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    host.add_entry("/feed", entry(1, published=None))
    (post,) = feeds(clock, url).fetch(None).posts
    assert post.created_at == clock.now


def test_entries_come_once_oldest_first_across_polls_and_a_restart(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    for number in (1, 2, 3):
        host.add_entry("/feed", entry(number))
    first = feeds(clock, url).fetch(None)
    host.add_entry("/feed", entry(4))
    host.add_entry("/feed", entry(5))

    second = feeds(clock, url).fetch(first.cursor)  # a new connector: the process restarted
    third = feeds(clock, url).fetch(second.cursor)

    assert ids(first.posts) == [f"tag:forum.example,2026:{n}" for n in (1, 2, 3)]
    assert ids(second.posts) == [f"tag:forum.example,2026:{n}" for n in (4, 5)]
    assert third.posts == []


def test_old_entries_sent_again_are_not_returned_twice(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed", etags=False, last_modified=False)
    for number in (1, 2):
        host.add_entry("/feed", entry(number))
    connector = feeds(clock, url)
    cursor = connector.fetch(None).cursor
    host.add_entry("/feed", entry(3))

    batch = connector.fetch(cursor)

    assert ids(batch.posts) == ["tag:forum.example,2026:3"]
    assert "if-none-match" not in host.requests[-1].headers


def test_the_seen_ids_are_bounded_but_cover_the_whole_document(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed", etags=False, last_modified=False)
    for number in range(1, 6):
        host.add_entry("/feed", entry(number))
    connector = feeds(clock, url, max_seen_per_feed=2)
    cursor = connector.fetch(None).cursor
    assert cursor
    assert len(json.loads(cursor)[url]["seen"]) == 5
    host.feeds["/feed"].entries = host.feeds["/feed"].entries[:1]  # the feed now shows only entry 5
    host.add_entry("/feed", entry(6))
    batch = connector.fetch(cursor)
    assert ids(batch.posts) == ["tag:forum.example,2026:6"]
    assert batch.cursor
    assert json.loads(batch.cursor)[url]["seen"] == ["tag:forum.example,2026:5", "tag:forum.example,2026:6"]


def test_the_second_request_is_conditional_and_a_304_returns_nothing(
    host: FakeFeeds, clock: FakeClock
) -> None:
    url = host.add_feed("/feed")
    host.add_entry("/feed", entry(1))
    connector = feeds(clock, url)
    first = connector.fetch(None)

    second = connector.fetch(first.cursor)

    request = host.requests_to("/feed")[-1]
    assert request.headers["if-none-match"] == host.feeds["/feed"].etag
    assert request.headers["if-modified-since"] == host.feeds["/feed"].modified
    assert request.headers["user-agent"] == "social-care feed reader"
    assert request.status == 304
    assert second.posts == [] and second.rejected == []
    assert second.cursor == first.cursor


def test_if_modified_since_alone_is_honoured(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed", etags=False)
    host.add_entry("/feed", entry(1))
    connector = feeds(clock, url)
    cursor = connector.fetch(None).cursor
    assert connector.fetch(cursor).posts == []
    assert host.requests[-1].status == 304 and "if-none-match" not in host.requests[-1].headers


def test_google_alerts_redirect_links_are_unwrapped(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/alerts", kind="atom")
    target = "https://www.news.example/2026/velora-outage?ref=rss"
    wrapped = GOOGLE.format(target="https://www.news.example/2026/velora-outage%3Fref%3Drss")
    host.add_entry("/alerts", entry(1, id="tag:google.com,2013:googlealerts/feed:1", link=wrapped))
    host.add_entry("/alerts", entry(2, id=None, link="https://www.google.com/url?q=https://blog.example/v"))

    posts = feeds(clock, url).fetch(None).posts

    assert [post.url for post in posts] == [target, "https://blog.example/v"]
    assert [post.author.id for post in posts] == ["news.example", "blog.example"]
    assert posts[1].external_id == "https://blog.example/v"


def test_links_that_are_not_redirects_are_left_alone(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    host.add_entry("/feed", entry(1, link="https://shop.example/search?q=https://x.example"))
    (post,) = feeds(clock, url).fetch(None).posts
    assert post.url == "https://shop.example/search?q=https://x.example"


def test_markup_in_summaries_is_stripped_and_scripts_never_survive(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    summary = (
        "<div>Hi <a href='x'>there</a><script>alert(1)</script> &lt;script&gt;boom()&lt;/script&gt;</div>"
    )
    host.add_entry("/feed", entry(1, title="<b>Bold</b> title", summary=summary))

    (post,) = feeds(clock, url).fetch(None).posts

    assert post.text.startswith("Bold title\n\nHi there")
    assert "<script" not in post.text.lower() and "alert(1)" not in post.text
    assert "<" not in strip_html("<p>1 &lt;b&gt;2&lt;/b&gt;</p>")
    assert strip_html("a < b and c > d") == "a < b and c > d"


def test_a_malformed_entry_is_rejected_once_while_the_others_come_through(
    host: FakeFeeds, clock: FakeClock
) -> None:
    url = host.add_feed("/feed", etags=False, last_modified=False)
    host.add_entry("/feed", entry(1))
    host.add_entry("/feed", entry(2, id=None, title=None, link=None, summary="orphan text"))
    host.add_entry("/feed", entry(3))
    connector = feeds(clock, url)

    first = connector.fetch(None)
    again = connector.fetch(first.cursor)

    assert ids(first.posts) == ["tag:forum.example,2026:1", "tag:forum.example,2026:3"]
    (rejected,) = first.rejected
    assert "no id, link or title" in rejected.reason and "orphan text" in rejected.payload
    assert again.posts == [] and again.rejected == []


def test_an_entry_with_only_a_title_gets_a_stable_id(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed", etags=False, last_modified=False)
    host.add_entry("/feed", entry(1, id=None, link=None))
    connector = feeds(clock, url)
    first = connector.fetch(None)
    (post,) = first.posts
    assert post.external_id.startswith(f"{url}#sha256:")
    assert connector.fetch(first.cursor).posts == []


def test_guids_that_are_not_uris_are_scoped_to_their_feed(host: FakeFeeds, clock: FakeClock) -> None:
    one = host.add_feed("/one")
    two = host.add_feed("/two")
    host.add_entry("/one", entry(1, id="42"))
    host.add_entry("/two", entry(2, id="42"))
    posts = feeds(clock, one, two).fetch(None).posts
    assert sorted(ids(posts)) == [f"{one}#42", f"{two}#42"]


def test_a_body_that_is_not_a_feed_is_rejected_not_raised(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    host.add_entry("/feed", entry(1))
    host.serve_next(b"<html><body><h1>Maintenance <b>unclosed", path="/feed")
    connector = feeds(clock, url)

    broken = connector.fetch(None)
    healed = connector.fetch(broken.cursor)

    assert broken.posts == []
    (rejected,) = broken.rejected
    assert "not a readable feed" in rejected.reason and "Maintenance" in rejected.payload
    assert ids(healed.posts) == ["tag:forum.example,2026:1"] and healed.rejected == []
    assert "if-none-match" not in host.requests[-1].headers


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient_and_the_cursor_stays(
    host: FakeFeeds, clock: FakeClock, status: int
) -> None:
    url = host.add_feed("/feed")
    host.add_entry("/feed", entry(1))
    host.fail_next(status)

    with pytest.raises(ConnectorError, match=str(status)) as raised:
        feeds(clock, url).fetch(None)

    assert not raised.value.permanent
    assert ids(feeds(clock, url).fetch(None).posts) == ["tag:forum.example,2026:1"]


def test_a_429_with_a_date_waits_until_then(host: FakeFeeds, clock: FakeClock) -> None:
    url = host.add_feed("/feed")
    host.fail_next(429, **{"Retry-After": "Mon, 23 Nov 2026 09:05:00 GMT"})
    with pytest.raises(ConnectorError) as raised:
        feeds(clock, url).fetch(None)
    assert raised.value.retry_after == 300


def test_a_feed_nobody_listens_on_is_transient(clock: FakeClock) -> None:
    with pytest.raises(ConnectorError, match="ConnectionError") as raised:
        feeds(clock, "http://127.0.0.1:9/feed", timeout_seconds=0.2).fetch(None)
    assert not raised.value.permanent


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_gone_or_forbidden_feed_is_permanent(host: FakeFeeds, clock: FakeClock, status: int) -> None:
    url = host.add_feed("/feed")
    host.fail_next(status)
    with pytest.raises(ConnectorError, match=str(status)) as raised:
        feeds(clock, url).fetch(None)
    assert raised.value.permanent


def test_one_dead_feed_among_several_is_recorded_and_the_others_go_on(
    host: FakeFeeds, clock: FakeClock
) -> None:
    good = host.add_feed("/good")
    host.add_entry("/good", entry(1))
    dead = host.url("/gone")
    connector = feeds(clock, good, dead)

    first = connector.fetch(None)
    host.add_entry("/good", entry(2))
    second = connector.fetch(first.cursor)

    assert ids(first.posts) == ["tag:forum.example,2026:1"]
    (rejected,) = first.rejected
    assert dead in rejected.reason and "404" in rejected.reason
    assert first.cursor
    assert "404" in json.loads(first.cursor)[dead]["error"]
    assert ids(second.posts) == ["tag:forum.example,2026:2"] and second.rejected == []


def test_a_transient_failure_of_one_feed_keeps_its_state_and_the_others_go_on(
    host: FakeFeeds, clock: FakeClock
) -> None:
    host.add_feed("/a")
    host.add_feed("/b")
    urls = [host.url("/a"), host.url("/b")]
    host.add_entry("/a", entry(1))
    host.add_entry("/b", entry(2))
    connector = feeds(clock, *urls)
    cursor = connector.fetch(None).cursor
    assert cursor
    host.add_entry("/a", entry(3))
    host.add_entry("/b", entry(4))
    host.fail_next(503, path="/a")

    batch = connector.fetch(cursor)
    assert batch.cursor
    after = json.loads(batch.cursor)

    assert ids(batch.posts) == ["tag:forum.example,2026:4"] and batch.rejected == []
    before = json.loads(cursor)[urls[0]]
    assert {**after[urls[0]], "error": None} == before and "503" in after[urls[0]]["error"]
    assert ids(connector.fetch(batch.cursor).posts) == ["tag:forum.example,2026:3"]


def test_when_every_feed_fails_the_error_is_transient_unless_all_are_permanent(
    host: FakeFeeds, clock: FakeClock
) -> None:
    one, two = host.add_feed("/one"), host.add_feed("/two")
    host.fail_next(404, path="/one")
    host.fail_next(429, path="/two", **{"Retry-After": "30"})
    with pytest.raises(ConnectorError, match="every feed failed") as raised:
        feeds(clock, one, two).fetch(None)
    assert not raised.value.permanent and raised.value.retry_after == 30

    host.fail_next(404, path="/one")
    host.fail_next(410, path="/two")
    with pytest.raises(ConnectorError) as raised:
        feeds(clock, one, two).fetch(None)
    assert raised.value.permanent
