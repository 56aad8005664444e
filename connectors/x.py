"""X (formerly Twitter) through tweepy's API v2 client: recent search, mentions, replies.

Credentials, each mapped to an environment variable by the source:

- ``bearer_token`` (app-only auth) for every read: recent search, the mentions
  timeline, and the account's own timeline that ``find_reply`` reads;
- ``consumer_key``, ``consumer_secret``, ``access_token``,
  ``access_token_secret`` (OAuth 1.0a user context of the brand account) to
  post replies. A source that never replies still has to name them; they are
  only sent when replying.

One fetch runs the recent search (the watch terms and handles joined by OR,
split into several queries when one would pass X's 512-character limit, and
the source's raw ``watch.queries``) and
the account's mentions timeline, each since its own ``since_id`` and paged to
the end (``next_token`` / ``pagination_token``), so nothing posted between
two polls is skipped. The cursor is a small JSON object holding both
``since_id``s; a stream polled without finding anything yet is kept as ``null``
so that the next poll reads it to the end. A source's very first poll reads only
``first_poll_pages`` pages per stream, as every read is billed. The pages'
tweets become posts in :mod:`connectors.x_tweets`.

tweepy sends every request to the fixed host ``https://api.twitter.com``. The
client's session is replaced by :class:`RebasedSession`, which rewrites that
host to the source's ``api_base_url`` *before* the request is prepared (so an
OAuth 1.0a signature covers the address actually called), applies a timeout,
calls the connector's ``before_request`` gate before every request (reads,
replies, look-ups), and records the ``x-rate-limit-*`` headers of every
response (tweepy drops them) in :attr:`XConnector.rate_limits`. From those a
fetch sets ``Batch.poll_again_after`` (the rule is on
:meth:`XConnector._poll_again_after`), so polling slows down before X answers 429.

Our account's numeric id (the mentions timeline, ``find_reply``, and telling a
reply to or a quote of our own tweet) is ``options.user_id``; left empty, it is
looked up once from the source's ``account`` (``@name`` or ``name``) and kept
for the life of the connector.

``find_reply`` reads the brand account's own timeline since the post (a reply
is always newer than its parent) and looks for a tweet whose
``referenced_tweets`` has ``replied_to`` that post. A reply whose request went
out but whose answer was lost (a read timeout, a connection dropped after
sending, an unreadable answer) or was a 5xx raises
``ConnectorError(outcome_unknown=True)``: the outbox then asks ``find_reply``
before any retry. A 4xx or a 429 is a clear refusal: nothing was posted.

``check_posts`` (deletion compliance) asks about up to 100 stored tweets in one
``GET /2/tweets?ids=...``. The tweets X returns still stand, and each is billed
as a read. X answers for the others in the same 200's ``errors``, one problem
per tweet: ``resource-not-found`` (deleted, or never there at all) is
"deleted", ``not-authorized-for-resource`` (its author made the account
private) is "protected"; a problem of any other type says nothing certain, so
that tweet is left unanswered and asked about again later.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector, ConnectorError, PostsChecked, quota_pause
from connectors.x_queries import QUERY_MAX_LENGTH, lang_filter, quoted, split_queries
from connectors.x_session import RateLimit, RebasedSession, failure, reply_failure
from connectors.x_tweets import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, OurAccount, collect, to_posts
from social_care.posts import Batch, Rejected

USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# While more than this share of an endpoint's window quota is left, X's limit is far off: polling
# keeps its own pace. Below it, polls are spread so that the rest lasts until the reset.
QUOTA_WATCHED_BELOW = 0.5
# What X's problem type for one tweet of a look-up says became of it; any other type answers nothing.
GONE_BECAUSE = {
    "https://api.twitter.com/2/problems/resource-not-found": "deleted",
    "https://api.twitter.com/2/problems/not-authorized-for-resource": "protected",
}


class XOptions(BaseModel):
    """The ``[sources.options]`` an X source understands.

    ``user_id``: the numeric id of our account, needed for the mentions timeline,
    ``find_reply`` and telling replies to our tweets; left empty, it is looked up once
    from the source's ``account`` (one read per connector). ``max_results``: tweets per
    page (10-100; every tweet read is billed). ``query_extra``: operators appended to
    every search query.
    ``lang``: restrict search to one language (``lang:xx``); empty for all.
    ``first_poll_pages``: pages read per stream when a source polls for the first
    time (later polls read every page since the cursor). ``find_reply_pages``:
    pages of our own timeline searched for an earlier reply. ``timeout_seconds``:
    per-request timeout.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(default="", pattern=r"^[0-9]*$")
    max_results: int = Field(default=100, ge=10, le=100)
    query_extra: str = "-is:retweet"
    lang: str = ""
    first_poll_pages: int = Field(default=1, ge=1)
    find_reply_pages: int = Field(default=3, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0)


_LINK = re.compile(r"https?://\S+")
_LINK_LENGTH = 23


class XConnector(Connector):
    platform: ClassVar[str] = "x"
    reply_max_length: ClassVar[int] = 280
    link_length: ClassVar[int] = _LINK_LENGTH
    auto_reply_allowed: ClassVar[bool] = True
    auto_reply_requires_direct: ClassVar[bool] = True
    credentials: ClassVar[tuple[str, ...]] = (
        "bearer_token",
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    )
    default_api_base_url: ClassVar[str] = "https://api.x.com"
    Options: ClassVar[type[BaseModel]] = XOptions
    watch_lists: ClassVar[frozenset[str]] = frozenset({"queries"})
    check_batch: ClassVar[int] = 100  # the most ids GET /2/tweets takes

    @classmethod
    def reply_length(cls, text: str) -> int:
        """X counts every link as 23 characters, however long (it shortens them all to t.co)."""
        return len(_LINK.sub("x" * _LINK_LENGTH, text))

    @classmethod
    def profile_url(cls, handle: str) -> str:
        return f"https://x.com/{quote(handle.lstrip('@'))}"

    @classmethod
    def reply_url(cls, *, account: str, reply_id: str, replied_url: str) -> str:
        """X redirects ``/i/web/status/ID`` to the post whoever wrote it."""
        return f"https://x.com/i/web/status/{quote(reply_id)}"

    def __init__(self, **kwargs: Any) -> None:
        import tweepy

        super().__init__(**kwargs)
        options = self._options
        secrets = {name: self.secrets[name].get_secret_value() for name in self.secrets}
        self._client = tweepy.Client(
            bearer_token=secrets.get("bearer_token"),
            consumer_key=secrets.get("consumer_key"),
            consumer_secret=secrets.get("consumer_secret"),
            access_token=secrets.get("access_token"),
            access_token_secret=secrets.get("access_token_secret"),
            return_type=dict,
        )
        self._session = RebasedSession(
            self.context.api_base_url or self.default_api_base_url,
            options.timeout_seconds,
            before_request=self._wait_for_gate,
        )
        self._client.session = self._session
        self._username = self.context.account.strip().lstrip("@").lower()
        self._looked_up_id: str | None = None
        self._lookup = threading.Lock()

    def _wait_for_gate(self) -> None:
        """The connector's gate, looked up at each request: one given after it was built holds too."""
        self.before_request()

    @property
    def _options(self) -> XOptions:
        options = self.options
        assert isinstance(options, XOptions)
        return options

    @property
    def rate_limits(self) -> Mapping[str, RateLimit]:
        """The latest limits per endpoint path (``/2/tweets/search/recent``...), to slow down before a 429."""
        return dict(self._session.rate_limits)

    def search_queries(self) -> list[str]:
        """The recent-search queries: the watch terms and handles (when ``watch.search`` is on), each
        within X's length limit, then the source's raw ``watch.queries`` as written."""
        queries = []
        if self.context.watch_search:
            terms = [quoted(term) for term in [*self.context.search_terms, *self.context.handles]]
            suffix = " ".join(
                part for part in (self._options.query_extra, lang_filter(self._options.lang)) if part
            )
            queries = split_queries(terms, suffix)
        for number, query in enumerate(self.context.queries):
            if len(query) > QUERY_MAX_LENGTH:
                raise ConnectorError(
                    f"x source {self.context.source_id}: watch.queries[{number}] is {len(query)} characters;"
                    f" X allows {QUERY_MAX_LENGTH}",
                    permanent=True,
                )
        return [*queries, *self.context.queries]

    def fetch(self, cursor: str | None) -> Batch:
        since: dict[str, str | None] = json.loads(cursor) if cursor else {}
        queries = self.search_queries()
        tweets: dict[str, dict[str, Any]] = {}
        rejected: dict[str, Rejected] = {}
        state = dict(since)
        with self._session.counting() as used, _translated_errors(self):
            our_id = self._reading_id()
            for stream, pages in self._streams(queries, since, our_id):
                # A stream polled with nothing found yet stays in the cursor as null: the next
                # poll then reads it to the end instead of treating it as a first poll.
                state[stream] = collect(pages, tweets, rejected) or since.get(stream)
        posts = to_posts(tweets, rejected, us=OurAccount(our_id, self._username), clock=self.clock)
        return Batch(
            posts=posts,
            cursor=json.dumps(state, sort_keys=True) if state else None,
            rejected=list(rejected.values()),
            poll_again_after=self._poll_again_after(used),
        )

    def _poll_again_after(self, used: Mapping[str, int]) -> datetime | None:
        """The earliest next poll that X's remaining quota allows, after a fetch that sent ``used``
        requests per endpoint path.

        For each endpoint the fetch called whose ``x-rate-limit-remaining`` has fallen
        below half its ``x-rate-limit-limit`` (``QUOTA_WATCHED_BELOW``), the requests left
        until ``x-rate-limit-reset`` are spread over the polls still to come, at this
        fetch's own count of requests to it per poll (:func:`connectors.base.quota_pause`):
        with fewer left than one fetch needs, the next poll waits for the reset. The latest
        over the endpoints wins. ``None`` while every endpoint has more than half its quota
        left (the source's own interval rules) or its window has passed.
        """
        now = self.clock()
        pauses = [
            quota_pause(now, remaining=limit.remaining, resets_at=limit.resets_at, per_poll=count)
            for path, count in used.items()
            if (limit := self._session.rate_limits.get(path)) is not None
            and limit.remaining < limit.limit * QUOTA_WATCHED_BELOW
        ]
        return max((pause for pause in pauses if pause is not None), default=None)

    def _streams(
        self, queries: list[str], since: Mapping[str, str | None], our_id: str
    ) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        if queries:
            yield "search", self._search_pages(queries, since.get("search"), first_poll="search" not in since)
        if self.context.watch_mentions:
            mentions = since.get("mentions")
            yield "mentions", self._mention_pages(our_id, mentions, first_poll="mentions" not in since)

    def reply(self, to: str, text: str) -> str:
        """Answer ``to``; X's refusal of that one reply (the post was deleted, replies are limited) is
        the post's problem, a refusal of our keys (401) the source's, and a request whose answer was
        lost or a 5xx an unknown outcome, for the outbox to settle with ``find_reply``."""
        with _translated_errors(self, replying_to=to):
            response = self._client.create_tweet(text=text, in_reply_to_tweet_id=to, user_auth=True)
        reply_id = str(((response or {}).get("data") or {}).get("id", ""))
        if not reply_id.isdigit():
            source = self.context.source_id
            raise ConnectorError(
                f"x source {source}: X took the reply to {to} but named no id: {response!r:.200}",
                outcome_unknown=True,
            )
        return reply_id

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        token = None
        with _translated_errors(self):
            user_id = self._user_id("find_reply")
            for _ in range(self._options.find_reply_pages):
                page = self._client.get_users_tweets(
                    user_id,
                    since_id=to,
                    max_results=100,
                    tweet_fields=["referenced_tweets"],
                    **({"pagination_token": token} if token else {}),
                )
                for tweet in page.get("data") or []:
                    replied = {"type": "replied_to", "id": to} in (tweet.get("referenced_tweets") or [])
                    if replied and str(tweet["id"]) not in exclude:
                        return str(tweet["id"])
                token = page.get("meta", {}).get("next_token")
                if not token:
                    break
        return None

    def check_posts(self, external_ids: Collection[str]) -> PostsChecked:
        """One look-up of the tweets: those X returns stand (each billed as a read), and X's
        problem for each of the others says why it cannot be seen (:data:`GONE_BECAUSE`)."""
        asked = list(dict.fromkeys(external_ids))
        if len(asked) > self.check_batch:
            raise ValueError(f"X looks up at most {self.check_batch} tweets at once, not {len(asked)}")
        if not asked:
            return PostsChecked()
        with _translated_errors(self, doing="checking posts"):
            answer = self._client.get_tweets(ids=asked, tweet_fields=["id"])
        if not isinstance(answer, dict):
            raise ConnectorError(f"x source {self.context.source_id}: a look-up answered {answer!r:.200}")
        returned = [str(tweet.get("id")) for tweet in answer.get("data") or [] if isinstance(tweet, dict)]
        present = frozenset(returned) & set(asked)
        gone = {
            tweet_id: why
            for tweet_id, why in _problems(answer.get("errors") or [])
            if tweet_id in asked and tweet_id not in present
        }
        return PostsChecked(present=present, gone=gone, reads=len(returned))

    # -- reading ------------------------------------------------------------

    def _search_pages(
        self, queries: list[str], since_id: str | None, *, first_poll: bool
    ) -> Iterator[dict[str, Any]]:
        for query in queries:
            yield from self._pages(
                lambda token, query=query: self._client.search_recent_tweets(
                    query, **self._read_params(since_id), **({"next_token": token} if token else {})
                ),
                first_poll=first_poll,
            )

    def _mention_pages(
        self, user_id: str, since_id: str | None, *, first_poll: bool
    ) -> Iterator[dict[str, Any]]:
        yield from self._pages(
            lambda token: self._client.get_users_mentions(
                user_id, **self._read_params(since_id), **({"pagination_token": token} if token else {})
            ),
            first_poll=first_poll,
        )

    def _pages(self, call: Any, *, first_poll: bool) -> Iterator[dict[str, Any]]:
        token = None
        pages = 0
        while True:
            page: dict[str, Any] = call(token)
            pages += 1
            yield page
            token = page.get("meta", {}).get("next_token")
            if not token or (first_poll and pages >= self._options.first_poll_pages):
                return

    def _read_params(self, since_id: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "max_results": self._options.max_results,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        return params

    # -- our account's id ---------------------------------------------------

    def _reading_id(self) -> str:
        """Our id for a fetch: needed for the mentions timeline, and used to tell replies to and quotes
        of our tweets whenever the configuration names our account at all; "" when it does not."""
        if self.context.watch_mentions:
            return self._user_id("the mentions timeline")
        if self._options.user_id or self._username:
            return self._user_id("telling replies to our tweets")
        return ""

    def _user_id(self, purpose: str) -> str:
        """Our account's numeric id: ``options.user_id``, or looked up from ``account`` the first
        time it is needed and kept (a failed look-up is tried again next time)."""
        if self._options.user_id:
            return self._options.user_id
        with self._lookup:
            if self._looked_up_id is None:
                self._looked_up_id = self._look_up_user_id(purpose)
            return self._looked_up_id

    def _look_up_user_id(self, purpose: str) -> str:
        source = self.context.source_id
        if not USERNAME.fullmatch(self._username):
            raise ConnectorError(
                f"x source {source}: {purpose} needs our account's id: set options.user_id, or account"
                f" to the account's X username (it is {self.context.account!r})",
                permanent=True,
            )
        with _translated_errors(self, doing=f"looking up the account @{self._username}"):
            answer = self._client.get_user(username=self._username)
        user_id = str((answer.get("data") or {}).get("id", ""))
        if not user_id.isdigit():
            said = "; ".join(str(error.get("detail", "")) for error in answer.get("errors") or [])
            raise ConnectorError(
                f"x source {source}: X knows no account @{self._username} (the source's account)"
                + (f": {said}" if said else ""),
                permanent=True,
            )
        return user_id


def _problems(errors: list[Any]) -> Iterator[tuple[str, str]]:
    """The tweets X's partial errors say are gone, and why; errors of any other type are skipped."""
    for error in errors:
        if not isinstance(error, dict):
            continue
        why = GONE_BECAUSE.get(str(error.get("type")))
        tweet_id = error.get("resource_id") or error.get("value")
        if why and tweet_id:
            yield str(tweet_id), why


@contextmanager
def _translated_errors(
    connector: XConnector, *, replying_to: str | None = None, doing: str = ""
) -> Iterator[None]:
    """Turn tweepy and requests failures into ConnectorError (see :func:`connectors.x_session.failure`);
    ``doing`` says what was being done, for the message."""
    try:
        yield
    except ConnectorError:
        raise
    except Exception as error:
        where = f"x source {connector.context.source_id}" + (f" ({doing})" if doing else "")
        translated = failure(
            error, where=where, timeout=connector._options.timeout_seconds, now=connector.clock()
        )
        if translated is None:
            raise
        if replying_to:
            translated = reply_failure(error, translated, replying_to)
        raise translated from error
