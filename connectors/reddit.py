"""Reddit through praw: watch-term search, subreddit streams and username mentions.

Credentials are those of a Reddit "script" app (https://www.reddit.com/prefs/apps)
used by the brand's own account: ``client_id``, ``client_secret``, ``username``,
``password``. New apps need Reddit's approval for API access. Reddit allows 100
queries per minute per OAuth client and requires a User-Agent of the form
``<platform>:<app id>:<version> (by /u/<username>)``; the options build it and
refuse anything else.

The API base URL (``oauth_url``, default https://oauth.reddit.com) and the token
host (``auth_url``, default https://www.reddit.com) are passed to praw as its own
``oauth_url`` / ``reddit_url`` settings, which prawcore joins with each path. It
does not insist on https, so a proxy or the tests' fake on
``http://127.0.0.1:<port>`` needs nothing else. The request timeout goes through
praw's ``requestor_class`` / ``requestor_kwargs`` arguments, because prawcore's
Session otherwise passes its own 16-second default on every call. The same
requestor turns a 5xx answer, a timeout or a lost connection into a transient
error at once, where prawcore would retry it twice with sleeps of up to about
6 s: the poller's own backoff retries the poll. A 429 is never retried.

Every stream (a search, a subreddit's new submissions or comments, each raw
``watch.queries`` search, run in the watched subreddits or else in all of
Reddit, the mentions inbox) is read newest first, page after page (praw's
``after``), until it reaches the ``created_utc`` recorded in the cursor; the
fullnames seen at that exact second are kept too, so ties are neither repeated
nor skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import Connector, ConnectorError
from social_care.posts import Author, Batch, Post, Rejected, ThreadRef

REDDIT_WEB = "https://www.reddit.com"
USER_AGENT_FORM = re.compile(r"^[\w.-]+:[\w.-]+:v?[\w.-]+ \(by /u/[\w-]+\)$")
GONE = {"[deleted]", "[removed]"}
SERVER_ERROR = 500
# Reddit's error types for a reply that can never be posted to that thing.
POST_REFUSALS = {"DELETED_COMMENT", "DELETED_LINK", "THREAD_LOCKED", "TOO_OLD", "SUBREDDIT_NOTALLOWED"}


class RedditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    app_platform: str = Field(default="python", pattern=r"^[\w.-]+$")
    app_id: str = Field(default="social-care", pattern=r"^[\w.-]+$")
    app_version: str = Field(default="0.1.0", pattern=r"^v?[\w.-]+$")
    contact: str = Field(default="", description="Reddit username in the User-Agent; default: the account")
    auth_url: str = REDDIT_WEB
    search_all: bool = False
    page_size: int = Field(default=100, ge=1, le=100)
    max_items: int = Field(default=1000, ge=1, le=1000)
    first_poll_items: int = Field(default=25, ge=0, le=1000)
    timeout: float = Field(default=16.0, gt=0)

    @model_validator(mode="after")
    def _contact_is_a_username(self) -> RedditOptions:
        if self.contact and not re.fullmatch(r"[\w-]+", self.contact.removeprefix("u/")):
            raise ValueError("contact must be a Reddit username")
        return self

    def user_agent(self, account: str) -> str:
        name = (self.contact or account).removeprefix("@").removeprefix("/u/").removeprefix("u/")
        agent = f"{self.app_platform}:{self.app_id}:{self.app_version} (by /u/{name})"
        if not USER_AGENT_FORM.fullmatch(agent):
            raise ValueError(f"User-Agent {agent!r} is not in Reddit's form")
        return agent


@dataclass(frozen=True)
class Stream:
    key: str
    items: Any  # a callable(limit) -> praw ListingGenerator
    direct: bool = False


class RedditConnector(Connector):
    """Reddit via praw. Rate limit: 100 queries per minute per OAuth client.

    Automatic replies are allowed and not limited to posts addressing the brand:
    Reddit's rules concern bots (disclosure, no spam, subreddit rules), not
    keyword hits; each source's configuration decides whether to acknowledge.
    """

    platform: ClassVar[str] = "reddit"
    reply_max_length: ClassVar[int] = 10000
    auto_reply_allowed: ClassVar[bool] = True
    auto_reply_requires_direct: ClassVar[bool] = False
    rate_limit_per_minute: ClassVar[int] = 100
    credentials: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "username", "password")
    default_api_base_url: ClassVar[str] = "https://oauth.reddit.com"
    Options: ClassVar[type[BaseModel]] = RedditOptions
    watch_lists: ClassVar[frozenset[str]] = frozenset({"queries", "subreddits"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import praw

        options = self._options
        username = self.secrets["username"].get_secret_value()
        self.username = username
        self.user_agent = options.user_agent(username)
        self.reddit = praw.Reddit(
            client_id=self.secrets["client_id"].get_secret_value(),
            client_secret=self.secrets["client_secret"].get_secret_value(),
            username=username,
            password=self.secrets["password"].get_secret_value(),
            user_agent=self.user_agent,
            oauth_url=(self.context.api_base_url or self.default_api_base_url).rstrip("/"),
            reddit_url=options.auth_url.rstrip("/"),
            check_for_updates=False,
            ratelimit_seconds=0,
            requestor_class=_requestor_class(),
            requestor_kwargs={"timeout": options.timeout},
        )

    @property
    def _options(self) -> RedditOptions:
        assert isinstance(self.options, RedditOptions)
        return self.options

    # -- fetching --------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> Batch:
        marks = json.loads(cursor) if cursor else {}
        posts: dict[str, Post] = {}
        rejected: dict[str, Rejected] = {}  # by fullname: an item two streams list is rejected once
        with _translated_errors():
            for stream in self._streams():
                found, marks[stream.key] = self._read(stream, marks.get(stream.key), rejected)
                for post in found:
                    posts.setdefault(post.external_id, post)
        ordered = sorted(posts.values(), key=lambda post: (post.created_at, post.external_id))
        cursor = json.dumps(marks, sort_keys=True)
        return Batch(posts=ordered, cursor=cursor, rejected=list(rejected.values()))

    def _streams(self) -> list[Stream]:
        context, options = self.context, self._options
        query = " OR ".join(f'"{term}"' for term in context.search_terms)
        streams = []
        if context.subreddits:
            here = self.reddit.subreddit("+".join(context.subreddits))
            if context.watch_search and query:
                streams.append(Stream(f"search:{here.display_name}", _searcher(here, query)))
            streams.append(Stream(f"new:{here.display_name}", here.new))
            streams.append(Stream(f"comments:{here.display_name}", here.comments))
        if options.search_all and context.watch_search and query:
            streams.append(Stream("search:all", _searcher(self.reddit.subreddit("all"), query)))
        where = self.reddit.subreddit("+".join(context.subreddits) if context.subreddits else "all")
        for raw in context.queries:
            streams.append(Stream(f"query:{where.display_name}:{raw}", _searcher(where, raw)))
        if context.watch_mentions:
            streams.append(Stream("mentions", self.reddit.inbox.mentions, direct=True))
        return streams

    def _read(
        self, stream: Stream, mark: dict[str, Any] | None, rejected: dict[str, Rejected]
    ) -> tuple[list[Post], dict[str, Any]]:
        options = self._options
        limit = options.max_items if mark else options.first_poll_items
        since = float(mark["created"]) if mark else 0.0
        seen_then = set(mark["seen"]) if mark else set()
        newest, newest_names = since, set(seen_then)
        posts = []
        for data in _raw_items(stream.items(limit=limit, params={"limit": options.page_size})):
            created = _created(data)
            if created is not None and (
                created < since or (created == since and data.get("name") in seen_then)
            ):
                break
            if created is not None and created >= newest:
                newest_names = newest_names if created == newest else set()
                newest = created
                newest_names.add(str(data.get("name")))
            try:
                posts.append(self._post(data, direct=stream.direct))
            except (ValueError, KeyError, TypeError) as error:
                payload = json.dumps(data, default=str)
                rejected.setdefault(
                    str(data.get("name") or payload), Rejected(f"reddit {stream.key}: {error}", payload)
                )
        return posts, {"created": newest, "seen": sorted(newest_names)}

    def _post(self, data: dict[str, Any], *, direct: bool) -> Post:
        name = str(data["name"])
        kind = name.split("_", 1)[0]
        if kind not in {"t1", "t3"}:
            raise ValueError(f"{name} is neither a submission nor a comment")
        author = data.get("author")
        text = _text(data, kind)
        if not author or author in GONE or text.strip() in GONE or data.get("removed_by_category"):
            raise ValueError(f"{name} was deleted or removed")
        created = _created(data)
        if created is None:
            raise ValueError(f"{name} has no valid created_utc")
        thread = name if kind == "t3" else data.get("link_id") or _link_from_context(data)
        own = self.username.lower()
        return Post(
            external_id=name,
            author=Author(
                id=str(data.get("author_fullname") or author), handle=str(author), name=str(author)
            ),
            text=text,
            created_at=datetime.fromtimestamp(created, tz=UTC),
            url=REDDIT_WEB + str(data.get("permalink") or data.get("context", "")).split("?")[0],
            thread=ThreadRef(thread_id=thread, parent_id=data.get("parent_id")),
            direct=direct
            or (
                kind == "t1"
                and str(data.get("parent_id", "")).startswith("t3_")
                and str(data.get("link_author", "")).lower() == own
            ),
            raw=data,
        )

    # -- replying --------------------------------------------------------------------

    def reply(self, to: str, text: str) -> str:
        """Answer ``to``. Reddit refusing that one reply (deleted, locked, archived, a subreddit that
        bans us) is the post's problem; refused credentials stay the source's."""
        with _translated_errors(replying_to=to):
            thing = self._thing(to)
            comment = thing.reply(text)
        if comment is None:
            raise ConnectorError(f"Reddit accepted the reply to {to} but returned no comment")
        return str(comment.fullname)

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        """Our account's comment whose parent is ``to``, among its latest 1000 comments."""
        with _translated_errors():
            comments = self.reddit.redditor(self.username).comments.new(
                limit=1000, params={"limit": self._options.page_size}
            )
            for data in _raw_items(comments):
                if data.get("parent_id") == to and str(data["name"]) not in exclude:
                    return str(data["name"])
        return None

    def _thing(self, fullname: str) -> Any:
        kind, _, thing_id = fullname.partition("_")
        if kind == "t3":
            return self.reddit.submission(id=thing_id)
        if kind == "t1":
            return self.reddit.comment(id=thing_id)
        raise ConnectorError(f"{fullname} is not a Reddit submission or comment", permanent=False)


def _requestor_class() -> type[Any]:
    """prawcore's Requestor with our timeout, raising at once where prawcore would retry.

    prawcore's Session retries a 5xx answer, a timeout or a lost connection twice,
    sleeping up to about 6 s inside the call, and passes its own 16 s timeout on
    every request. The poller already retries a failed poll after a backoff that
    it records, so the connector fails fast instead: the worker is never held,
    and the wait is the poller's, on its clock. 401s (token refresh) and 429s
    stay prawcore's to handle.
    """
    from prawcore import RequestException, Requestor

    class FailFastRequestor(Requestor):
        def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            try:
                response = super().request(*args, timeout=self.timeout, **kwargs)
            except RequestException as error:
                reason = _describe(error.original_exception, self.timeout)
                raise ConnectorError(f"Reddit call failed: {reason}") from error
            if response.status_code >= SERVER_ERROR:
                raise ConnectorError(f"Reddit answered {response.status_code} {response.reason}")
            return response

    return FailFastRequestor


def _describe(error: Exception, timeout: float | None) -> str:
    import requests

    if isinstance(error, requests.Timeout):
        return f"timed out after {timeout}s"
    return f"{type(error).__name__}: {error}"


def _searcher(subreddit: Any, query: str) -> Any:
    def search(**kwargs: Any) -> Any:
        return subreddit.search(query, sort="new", time_filter="all", **kwargs)

    return search


def _raw_items(listing: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Each item's own attributes as a plain dict, never touching praw's lazy fetching."""
    for item in listing:
        yield {
            key: value if isinstance(value, str | int | float | bool | None) else str(value)
            for key, value in vars(item).items()
            if not key.startswith("_") and not isinstance(value, list | dict)
        }


def _created(data: dict[str, Any]) -> float | None:
    value = data.get("created_utc")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(data: dict[str, Any], kind: str) -> str:
    if kind == "t1":
        return str(data["body"])
    title, selftext = str(data["title"]), str(data.get("selftext") or "")
    if selftext in GONE:
        return selftext
    return f"{title}\n\n{selftext}".strip()


def _link_from_context(data: dict[str, Any]) -> str | None:
    match = re.search(r"/comments/(\w+)/", str(data.get("context", "")))
    return f"t3_{match.group(1)}" if match else None


@contextmanager
def _translated_errors(*, replying_to: str | None = None) -> Iterator[None]:
    """Turns praw's and prawcore's exceptions into ConnectorError, permanent or transient."""
    try:
        yield
    except ConnectorError:
        raise
    except Exception as error:
        translated = _refused_reply(error, replying_to) if replying_to else None
        translated = translated or _translate(error)
        if translated is None:
            raise
        raise translated from error


def _refused_reply(error: Exception, to: str | None) -> ConnectorError | None:
    """Reddit will never take this reply: the post is gone, locked or archived, or its subreddit bans us."""
    import praw.exceptions
    import prawcore

    if isinstance(error, praw.exceptions.RedditAPIException):
        kinds = {item.error_type for item in error.items}
        if kinds & POST_REFUSALS:
            message = f"Reddit refused the reply to {to}: {error}"
            return ConnectorError(message, permanent=True, only_this_post=True)
    if isinstance(error, prawcore.NotFound | prawcore.Forbidden):
        return ConnectorError(
            f"Reddit refused the reply to {to}: {error}", permanent=True, only_this_post=True
        )
    return None


def _translate(error: Exception) -> ConnectorError | None:
    import praw.exceptions
    import prawcore

    if isinstance(error, prawcore.TooManyRequests):
        return ConnectorError(f"Reddit rate limit: {error}", retry_after=_retry_after(error.response))
    status = error.response.status_code if isinstance(error, prawcore.ResponseException) else None
    refused = isinstance(error, prawcore.OAuthException | prawcore.InvalidToken | prawcore.Forbidden)
    if refused or status in {401, 403}:
        return ConnectorError(f"Reddit refused the credentials or access: {error}", permanent=True)
    if isinstance(error, prawcore.PrawcoreException | praw.exceptions.RedditAPIException):
        # 5xx (ServerError), timeouts and connection failures (RequestException), API errors.
        return ConnectorError(f"Reddit call failed: {error}")
    return None


def _retry_after(response: Any) -> float | None:
    for header in ("retry-after", "x-ratelimit-reset"):
        try:
            return float(response.headers[header])
        except (KeyError, ValueError):
            continue
    return None
