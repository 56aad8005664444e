"""One adapter per platform, so the conformance scenarios are written once.

An adapter runs its fake platform and knows how to publish posts that mention
the brand, publish a malformed one, make the next fetch fail in a given way,
and read the replies the platform received. It also gives the ``[[sources]]``
table and the environment that point a real connector at its fake. The
scenarios in ``test_conformance.py`` never look past this interface.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from social_care.posts import MAX_POST_TEXT
from tests.fakes.feed_server import Entry, FakeFeeds
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.x_api import FakeX, Scripted
from tests.support.clock import FakeClock
from tests.support.configs import Raw

SUBJECT = "subject"
#: The ways a fetch can fail: a 429 with a time to wait, a 5xx, a response slower than the
#: connector waits, and a refusal no retry will cure (revoked credentials, a feed that is gone).
FAILURES = ("rate_limit", "server_error", "timeout", "permanent")
RATE_LIMIT_WAIT = 120
#: A post's text one character longer than the desk takes in.
OVERSIZED = ("Velora Casa is broken. " * MAX_POST_TEXT)[: MAX_POST_TEXT + 1]
SEARCH = "/2/tweets/search/recent"


class Platform:
    """The interface every adapter offers the scenarios."""

    name: ClassVar[str]
    failures: ClassVar[frozenset[str]] = frozenset(FAILURES)
    replies_supported: ClassVar[bool] = True
    #: Whether the platform can refuse a reply (a deleted post, revoked keys).
    refuses_replies: ClassVar[bool] = True
    #: Whether the platform's listings come in pages, and more posts than fit on one.
    paginated: ClassVar[bool] = True
    page_overflow: ClassVar[int] = 25
    #: Whether the adapter can publish a post longer than the desk takes in.
    oversized_posts: ClassVar[bool] = True
    #: The seconds a scripted 429 asks the client to wait.
    rate_limit_wait: ClassVar[int] = RATE_LIMIT_WAIT

    def __init__(self, clock: FakeClock, tmp_path: Path) -> None:
        self.clock = clock
        self.tmp_path = tmp_path
        self.environ: dict[str, str] = {}
        self._published: list[str] = []
        self._counter = 0

    def stop(self) -> None:
        """Shut the fake down."""

    def source(self) -> Raw:
        """The ``[[sources]]`` table of the source under test."""
        raise NotImplementedError

    def publish(self, count: int) -> list[str]:
        """``count`` new posts about the brand, by different people; their external ids, oldest first."""
        ids = [self._publish_one(self._next()) for _ in range(count)]
        self._published.extend(ids)
        return ids

    def published(self) -> list[str]:
        """Every well-formed post published so far."""
        return list(self._published)

    def publish_malformed(self) -> str:
        """A post the connector must reject; something that appears in its rejection."""
        raise NotImplementedError

    def publish_oversized(self) -> str:
        """A post whose text is longer than the desk takes in; something that appears in its rejection."""
        raise NotImplementedError

    def publish_addressed(self) -> str:
        """A complaint addressed to our account, which the desk acknowledges automatically."""
        raise NotImplementedError

    def fail(self, failure: str, *, midway: bool = False) -> None:
        """The next fetch fails this way: from its first request, or ``midway`` after a page (or a
        feed) was read."""
        raise NotImplementedError

    def delete(self, post_id: str) -> None:
        """Its author deletes the post."""
        raise NotImplementedError

    def revoke_replies(self, revoked: bool = True) -> None:
        """The platform refuses (or, with ``revoked=False``, accepts again) the keys we reply with."""
        raise NotImplementedError

    def continuation_requests(self) -> int:
        """How many requests asked for a page after the first."""
        return 0

    def replies(self) -> list[tuple[str, str]]:
        """(the post answered, the reply's text) for every reply the platform received."""
        return []

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _publish_one(self, number: int) -> str:
        raise NotImplementedError


class XPlatform(Platform):
    name = "x"
    SECRETS: ClassVar[dict[str, str]] = {
        "bearer_token": "X_BEARER_TOKEN",
        "consumer_key": "X_CONSUMER_KEY",
        "consumer_secret": "X_CONSUMER_SECRET",
        "access_token": "X_ACCESS_TOKEN",
        "access_token_secret": "X_ACCESS_TOKEN_SECRET",
    }

    def __init__(self, clock: FakeClock, tmp_path: Path) -> None:
        super().__init__(clock, tmp_path)
        self.fake = FakeX(clock=clock).start()
        self.environ = {env: getattr(self.fake.credentials, name) for name, env in self.SECRETS.items()}

    def stop(self) -> None:
        self.fake.stop()

    def source(self) -> Raw:
        return {
            "platform": "x",
            "account": "@velora",
            "auto_reply": True,
            "api_base_url": self.fake.url,
            "credentials": self.SECRETS,
            "options": {"user_id": self.fake.account_id, "max_results": 10, "timeout_seconds": 0.3},
        }

    def _publish_one(self, number: int) -> str:
        return self.fake.add_tweet(f"fan{number}", f"Velora Casa update number {number}")

    def publish_malformed(self) -> str:
        return self.fake.add_tweet("mangled", "Velora Casa without an author", drop=("author_id",))

    def publish_oversized(self) -> str:
        return self.fake.add_tweet("loud", OVERSIZED)

    def publish_addressed(self) -> str:
        tweet = self.fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
        self._published.append(tweet)
        return tweet

    def fail(self, failure: str, *, midway: bool = False) -> None:
        path = SEARCH if midway else None
        if midway:
            self.fake.script.append(Scripted(path=SEARCH))  # the first page answers normally
        if failure == "rate_limit":
            self.fake.fail_next(429, reset_in=RATE_LIMIT_WAIT, path=path)
        elif failure == "server_error":
            self.fake.fail_next(503, path=path)
        elif failure == "timeout":
            self.fake.delay_next(1.0, path=path)
        else:
            self.fake.credentials.bearer_token = "rotated-by-x"

    def delete(self, post_id: str) -> None:
        self.fake.delete_tweet(post_id)
        self._published.remove(post_id)

    def revoke_replies(self, revoked: bool = True) -> None:
        self.fake.credentials.consumer_secret = "revoked" if revoked else self.environ["X_CONSUMER_SECRET"]

    def continuation_requests(self) -> int:
        tokens = {"next_token", "pagination_token"}
        return sum(bool(tokens & set(request.params)) for request in self.fake.requests)

    def replies(self) -> list[tuple[str, str]]:
        return [(str(reply["in_reply_to_tweet_id"]), str(reply["text"])) for reply in self.fake.replies]


class RedditPlatform(Platform):
    name = "reddit"
    # prawcore itself sleeps until x-ratelimit-reset before its next call: kept at the minimum.
    rate_limit_wait = 1
    SECRETS: ClassVar[dict[str, str]] = {
        "client_id": "REDDIT_CLIENT_ID",
        "client_secret": "REDDIT_CLIENT_SECRET",
        "username": "REDDIT_USERNAME",
        "password": "REDDIT_PASSWORD",
    }

    def __init__(self, clock: FakeClock, tmp_path: Path) -> None:
        super().__init__(clock, tmp_path)
        self.fake = FakeReddit(start=clock.now.timestamp() - 60)  # written a minute before the first poll
        self._serving = ExitStack()
        self._serving.enter_context(self.fake.running())
        self.fake.page_size = 4
        client_id, client_secret, username, password = self.fake.credentials
        self.environ = {
            "REDDIT_CLIENT_ID": client_id,
            "REDDIT_CLIENT_SECRET": client_secret,
            "REDDIT_USERNAME": username,
            "REDDIT_PASSWORD": password,
        }
        self._thread = self.fake.add_submission("velora", "Velora Casa owners thread", author="moderator")
        self._published.append(self._thread)

    def stop(self) -> None:
        self._serving.close()

    def source(self) -> Raw:
        return {
            "platform": "reddit",
            "account": "velora_care",
            "auto_reply": True,
            "api_base_url": self.fake.url,
            "credentials": self.SECRETS,
            "watch": {"subreddits": ["velora"]},
            "options": {"timeout": 0.3},
        }

    def _publish_one(self, number: int) -> str:
        if number % 2:
            return self.fake.add_submission(
                "velora", f"Velora Casa update number {number}", author=f"fan{number}"
            )
        return self.fake.add_comment(self._thread, f"Velora Casa here too, {number}", author=f"fan{number}")

    def publish_malformed(self) -> str:
        return self.fake.add_submission("velora", "Velora Casa from nowhere", created_utc="yesterday")

    def publish_oversized(self) -> str:
        return self.fake.add_submission("velora", "Velora Casa essay", OVERSIZED, author="loud")

    def publish_addressed(self) -> str:
        # A thread of its own: a comment would join the case of the thread it is in.
        submission = self.fake.add_submission(
            "velora", "u/velora_care my Velora Pulse is not working since the update", author="anna"
        )
        self._published.append(submission)
        return submission

    def fail(self, failure: str, *, midway: bool = False) -> None:
        after = 1 if midway else 0
        if failure == "rate_limit":
            reset = str(self.rate_limit_wait)
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": reset}
            self.fake.fail(429, path="/r/", headers=headers, after=after)
        elif failure == "server_error":
            self.fake.fail(503, path="/r/", after=after)
        elif failure == "timeout":
            self.fake.fail(0, path="/r/", delay=1.0, after=after)
        else:
            # Access withdrawn (a suspended account, an app no longer approved). A revoked token
            # would do too, but prawcore answers a 401 by sleeping up to 2 s and asking again.
            self.fake.fail(403, path="/r/")

    def delete(self, post_id: str) -> None:
        self.fake.delete(post_id)

    def revoke_replies(self, revoked: bool = True) -> None:
        password = "changed" if revoked else self.environ["REDDIT_PASSWORD"]
        self.fake.credentials = (*self.fake.credentials[:3], password)
        self.fake.tokens.clear()

    def continuation_requests(self) -> int:
        return sum("after" in request.query for request in self.fake.requests)

    def replies(self) -> list[tuple[str, str]]:
        return [(str(reply["parent"]), str(reply["text"])) for reply in self.fake.replies]


class FeedPlatform(Platform):
    """Two feeds in one source: a fetch spans both, as a paged fetch spans pages."""

    name = "feed"
    paginated = False
    replies_supported = False
    refuses_replies = False
    PATHS = ("/alerts.xml", "/forum.atom")

    def __init__(self, clock: FakeClock, tmp_path: Path) -> None:
        super().__init__(clock, tmp_path)
        self.fake = FakeFeeds().start()
        self.fake.add_feed(self.PATHS[0], kind="rss")
        self.fake.add_feed(self.PATHS[1], kind="atom")

    def stop(self) -> None:
        self.fake.stop()

    def source(self) -> Raw:
        return {
            "platform": "feed",
            "account": "",
            "watch": {"mentions": False, "search": False, "feeds": [self.fake.url(p) for p in self.PATHS]},
            "options": {"timeout_seconds": 0.3},
        }

    def _publish_one(self, number: int) -> str:
        entry_id = f"tag:forum.example,2026:{number}"
        published = self.clock.now - timedelta(minutes=30) + timedelta(seconds=number)
        self.fake.add_entry(
            self.PATHS[number % 2],
            Entry(
                id=entry_id,
                title=f"Velora Casa update number {number}",
                link=f"https://forum.example/t/{number}",
                summary=f"<p>Velora Casa thread {number}</p>",
                published=published,
            ),
        )
        return entry_id

    def publish_malformed(self) -> str:
        self.fake.add_entry(self.PATHS[0], Entry(id=None, title=None, link=None, summary="Velora Casa"))
        return "no id, link or title"

    def publish_oversized(self) -> str:
        entry = Entry(id="tag:forum.example,2026:long", title="Velora Casa", link=None, summary=OVERSIZED)
        self.fake.add_entry(self.PATHS[0], entry)
        return "tag:forum.example,2026:long"

    def fail(self, failure: str, *, midway: bool = False) -> None:
        for path in self.PATHS[1:] if midway else self.PATHS:
            if failure == "rate_limit":
                self.fake.fail_next(429, path=path, **{"Retry-After": str(RATE_LIMIT_WAIT)})
            elif failure == "server_error":
                self.fake.fail_next(503, path=path)
            elif failure == "timeout":
                self.fake.delay_next(1.0, path=path)
            else:
                self.fake.fail_next(410, path=path)


class DemoPlatform(Platform):
    """The demo replays a file of posts, one released every ``MINUTES_PER_POST`` after its first poll.

    Publishing moves the clock on; the gap is wide so that a scenario's other moves (a lease
    running out) release nothing. It has no network, so no HTTP failures apply.
    """

    name = "demo"
    paginated = False
    failures = frozenset()
    refuses_replies = False
    oversized_posts = False  # a file replayed in order: tested in test_demo.py instead
    page_overflow = 5
    MINUTES_PER_POST = 64
    MALFORMED_AT = 20

    def __init__(self, clock: FakeClock, tmp_path: Path) -> None:
        super().__init__(clock, tmp_path)
        self._started = clock.now
        self._lines = [self._line(number) for number in range(60)]
        self._lines[self.MALFORMED_AT] = '{"id": "demo-broken", "text": '
        self._lines[self.MALFORMED_AT + 1] = json.dumps(
            {
                "id": "demo-addressed",
                "author": {"id": "id-anna", "handle": "anna_b", "name": "Anna"},
                "text": "@velora my Velora Pulse is not working since the update",
                "direct": True,
            }
        )
        self._posts = tmp_path / "subject-posts.jsonl"
        self._posts.write_text("\n".join(self._lines) + "\n", encoding="utf-8")
        self._replies = tmp_path / "subject-replies.jsonl"

    def source(self) -> Raw:
        return {
            "platform": "demo",
            "account": "@velora",
            "auto_reply": True,
            "options": {
                "posts_file": str(self._posts),
                "replies_file": str(self._replies),
                "initial_burst": 0,
                "per_minute": 1 / self.MINUTES_PER_POST,
                "loop": False,
            },
        }

    def publish(self, count: int) -> list[str]:
        before = self._released()
        self._release(before + count)
        return [self._id(number) for number in range(before, before + count) if self._id(number)]

    def published(self) -> list[str]:
        return [self._id(number) for number in range(self._released()) if self._id(number)]

    def publish_malformed(self) -> str:
        self._release(self.MALFORMED_AT + 1)
        return "demo line 21"

    def publish_addressed(self) -> str:
        self._release(self.MALFORMED_AT + 2)
        return "demo-addressed"

    def replies(self) -> list[tuple[str, str]]:
        if not self._replies.exists():
            return []
        records = [json.loads(line) for line in self._replies.read_text(encoding="utf-8").splitlines()]
        return [(str(record["in_reply_to"]), str(record["text"])) for record in records]

    def _released(self) -> int:
        elapsed = (self.clock.now - self._started) / timedelta(minutes=self.MINUTES_PER_POST)
        return min(int(elapsed), len(self._lines))

    def _release(self, total: int) -> None:
        self.clock.now = self._started + timedelta(minutes=self.MINUTES_PER_POST * total)

    def _id(self, number: int) -> str:
        try:
            return str(json.loads(self._lines[number])["id"])
        except ValueError:
            return ""

    @staticmethod
    def _line(number: int) -> str:
        author = {"id": f"id-fan{number}", "handle": f"fan{number}", "name": f"Fan {number}"}
        return json.dumps({"id": f"demo-{number}", "author": author, "text": f"Velora Casa update {number}"})


PLATFORMS: dict[str, type[Platform]] = {
    "x": XPlatform,
    "reddit": RedditPlatform,
    "feed": FeedPlatform,
    "demo": DemoPlatform,
}


def names_with(
    *, failure: str | None = None, replies: bool = False, refusals: bool = False, oversized: bool = False
) -> list[str]:
    """The platforms a scenario applies to."""
    return [
        name
        for name, kind in PLATFORMS.items()
        if (failure is None or failure in kind.failures)
        and (not replies or kind.replies_supported)
        and (not refusals or kind.refuses_replies)
        and (not oversized or kind.oversized_posts)
    ]
