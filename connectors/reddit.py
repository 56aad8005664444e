"""Reddit through praw: watch-term search, subreddit streams, username mentions and replies to us.

Credentials are those of a Reddit "script" app (https://www.reddit.com/prefs/apps)
used by the brand's own account: ``client_id``, ``client_secret``, ``username``,
``password``. New apps need Reddit's approval for API access. Reddit allows 100
queries per minute per OAuth client and requires a User-Agent of the form
``<platform>:<app id>:<version> (by /u/<username>)``; the options build it and
refuse anything else.

One address moves the whole connector: the source's ``api_base_url`` (default
https://oauth.reddit.com) is praw's ``oauth_url``, and sign-in (the token, which
carries the account's password) goes to the same address whenever it is not
Reddit's own, so a proxy or the tests' fake never leaves the password on the way
to the real www.reddit.com. ``options.auth_url`` overrides the sign-in address
alone. prawcore does not insist on https.

Every request goes through one requestor (praw's ``requestor_class``) that
- calls the source's request gate first (``before_request``: the rate limit shared by workers);
- applies our timeout, where prawcore's Session would pass its own 16 s;
- fails at once on a 5xx, a timeout or a lost connection, where prawcore would retry twice with
  sleeps of up to about 6 s: the poller's or the outbox's own backoff retries, on its clock. A
  reply (a POST) that may have reached Reddit says so (``outcome_unknown``), so the outbox looks
  for it before sending it again;
- answers a 429 with exactly the wait Reddit asked for (``retry-after``, else ``x-ratelimit-reset``);
- notes Reddit's ``x-ratelimit-*`` headers, so that once less than half the window's requests are
  left a fetch spreads the rest over the polls to come (``Batch.poll_again_after``), before Reddit
  answers 429; then hides them from prawcore, whose rate limiter would otherwise sleep inside the
  call (up to 10 s a request, or until the reset): the service paces the source instead.

Every stream (a search, a subreddit's new submissions or comments, each raw
``watch.queries`` search, run in the watched subreddits or else in all of
Reddit, the mentions and the comment replies in our inbox) is read newest first,
page after page (praw's ``after``), down to a floor ``overlap_seconds`` behind
the newest ``created_utc`` already read. An item listed late (approved by a
moderator, indexed by search after a while) is still found if it was written
within that window. The fullnames read within the window are kept in the cursor
so nothing is returned twice; they are at most ``max_items`` per stream, the
most a poll reads, and when more fall within the window its floor moves up.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import BeforeRequest, Clock, Connector, ConnectorError, quota_pause
from social_care.posts import Author, Batch, Post, Rejected, ThreadRef

REDDIT_WEB = "https://www.reddit.com"
USER_AGENT_FORM = re.compile(r"^[\w.-]+:[\w.-]+:v?[\w.-]+ \(by /u/[\w-]+\)$")
GONE = {"[deleted]", "[removed]"}
TOO_MANY_REQUESTS = 429
SERVER_ERROR = 500
QUOTA_HEADERS = ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset")
QUOTA_WATCHED_BELOW = 0.5  # of the window's requests left: from there on polls share what is left
# Reddit's error types for a reply that can never be posted to that thing.
POST_REFUSALS = {"DELETED_COMMENT", "DELETED_LINK", "THREAD_LOCKED", "TOO_OLD", "SUBREDDIT_NOTALLOWED"}
# Reddit's refusal of an account posting too fast: "you are doing that too much. try again in 9 minutes."
RATELIMIT_WAIT = re.compile(r"(\d+) (millisecond|second|minute|hour)s?\b")
RATELIMIT_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}


class RedditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    app_platform: str = Field(default="python", pattern=r"^[\w.-]+$")
    app_id: str = Field(default="social-care", pattern=r"^[\w.-]+$")
    app_version: str = Field(default="0.1.0", pattern=r"^v?[\w.-]+$")
    contact: str = Field(default="", description="Reddit username in the User-Agent; default: the account")
    auth_url: str = Field(
        default="", description="sign-in address; default: api_base_url when set, else www.reddit.com"
    )
    search_all: bool = False
    max_items: int = Field(default=1000, ge=1, le=1000)
    first_poll_items: int = Field(default=25, ge=0, le=1000)
    overlap_seconds: float = Field(default=600.0, ge=0)
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


@dataclass
class Traffic:
    """One fetch's API requests and the quota Reddit reported in their answers.

    The fetch turns them into the moment its next poll should wait for, so the
    quota lasts until Reddit resets it instead of running out into a 429.
    """

    clock: Clock
    requests: int = 0
    remaining: float = 0.0
    used: float = 0.0
    resets_at: datetime | None = None

    def answered(self, headers: Mapping[str, str]) -> None:
        try:
            remaining, used, reset = (float(headers[name]) for name in QUOTA_HEADERS)
        except (KeyError, ValueError):
            return
        self.remaining, self.used = remaining, used
        self.resets_at = self.clock() + timedelta(seconds=reset)

    def pause(self) -> datetime | None:
        """The polls still to come share what is left of the window once less than half of it is
        (as for X); before that the source's own interval rules. None without Reddit's word."""
        if self.resets_at is None or self.remaining >= (self.remaining + self.used) * QUOTA_WATCHED_BELOW:
            return None
        now = self.clock()
        return quota_pause(now, remaining=self.remaining, resets_at=self.resets_at, per_poll=self.requests)


class TrafficMeter:
    """Hands each request to the :class:`Traffic` of the fetch running in the same thread, if any.

    Per thread, so that a reply the outbox sends meanwhile on the same connector
    neither counts as one of the fetch's requests nor replaces its quota reading.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._local = threading.local()

    @contextmanager
    def counting(self) -> Iterator[Traffic]:
        """The traffic of the requests this thread makes inside the block."""
        traffic = Traffic(self.clock)
        self._local.traffic = traffic
        try:
            yield traffic
        finally:
            self._local.traffic = None

    def current(self) -> Traffic | None:
        traffic: Traffic | None = getattr(self._local, "traffic", None)
        return traffic


@dataclass
class Window:
    """One stream's place: items created before ``floor`` are behind it, and ``seen`` holds the
    items at or above it already read (by fullname, with their ``created_utc``)."""

    floor: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)
    # The time of the item read last, lent to the next one if it has no valid time of its own.
    last: float | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, mark: Mapping[str, Any] | None) -> Window:
        if not mark:
            return cls()
        if isinstance(mark["seen"], list):  # written before the overlap: the names at its newest second
            newest = float(mark["created"])
            return cls(newest, dict.fromkeys(map(str, mark["seen"]), newest))
        return cls(float(mark["floor"]), {str(name): float(at) for name, at in mark["seen"].items()})

    def newest(self) -> float:
        return max(self.seen.values(), default=self.floor)

    def add(self, key: str, created: float | None) -> bool:
        """Record an item read; false when an earlier poll read it already."""
        if created is not None:
            self.last = created
        if key in self.seen:
            return False
        self.seen[key] = self.last if self.last is not None else self.newest()
        return True

    def mark(self, *, overlap: float, keep: int) -> dict[str, Any]:
        """The cursor's entry: ``overlap`` seconds behind the newest item, at most ``keep`` names
        (more within the window raise the floor to the oldest kept, so none is read again)."""
        by_age = sorted(self.seen.items(), key=lambda item: item[1], reverse=True)
        floor = max(self.floor, self.newest() - overlap)
        if len(by_age) > keep:
            floor = max(floor, by_age[keep - 1][1])
        return {"floor": floor, "seen": {name: at for name, at in by_age if at >= floor}}


class RedditConnector(Connector):
    """Reddit via praw, within Reddit's 100 queries per minute per OAuth client.

    Automatic replies are allowed and not limited to posts addressing the brand:
    Reddit's rules concern bots (disclosure, no spam, subreddit rules), not
    keyword hits; each source's configuration decides whether to acknowledge.
    """

    platform: ClassVar[str] = "reddit"
    reply_max_length: ClassVar[int] = 10000
    auto_reply_allowed: ClassVar[bool] = True
    auto_reply_requires_direct: ClassVar[bool] = False
    default_rate_limit: ClassVar[tuple[int, int] | None] = (100, 60)
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
        self.traffic = TrafficMeter(self.clock)
        api = (self.context.api_base_url or self.default_api_base_url).rstrip("/")
        self.reddit = praw.Reddit(
            client_id=self.secrets["client_id"].get_secret_value(),
            client_secret=self.secrets["client_secret"].get_secret_value(),
            username=username,
            password=self.secrets["password"].get_secret_value(),
            user_agent=self.user_agent,
            oauth_url=api,
            reddit_url=self._sign_in_url(api),
            check_for_updates=False,
            ratelimit_seconds=-1,  # praw never sleeps on a RATELIMIT refusal, even of milliseconds
            requestor_class=_requestor_class(),
            requestor_kwargs={"timeout": options.timeout, "gate": self._gate, "traffic": self.traffic},
        )

    @property
    def _options(self) -> RedditOptions:
        assert isinstance(self.options, RedditOptions)
        return self.options

    def _sign_in_url(self, api: str) -> str:
        """``auth_url`` when given; else the API's own address when that is not Reddit's (a proxy),
        so the password goes where the rest goes; else Reddit's sign-in host."""
        if self._options.auth_url:
            return self._options.auth_url.rstrip("/")
        return REDDIT_WEB if api == self.default_api_base_url else api

    def _gate(self) -> None:
        """Looked up at each request, so a gate given to the connector later is the one used."""
        self.before_request()

    # -- fetching --------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> Batch:
        marks = json.loads(cursor) if cursor else {}
        posts: dict[str, Post] = {}
        rejected: dict[str, Rejected] = {}  # by fullname: an item two streams list is rejected once
        with self.traffic.counting() as traffic, _translated_errors():
            for stream in self._streams():
                found, marks[stream.key] = self._read(stream, marks.get(stream.key), rejected)
                for post in found:
                    _merge(posts, post)
        ordered = sorted(posts.values(), key=lambda post: (post.created_at, post.external_id))
        return Batch(
            posts=ordered,
            cursor=json.dumps(marks, sort_keys=True),
            rejected=list(rejected.values()),
            poll_again_after=traffic.pause(),
        )

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
            # Answers to our comments reach us wherever they are written, watched subreddit or not.
            streams.append(Stream("mentions", self.reddit.inbox.mentions, direct=True))
            streams.append(Stream("replies", self.reddit.inbox.comment_replies, direct=True))
        return streams

    def _read(
        self, stream: Stream, mark: dict[str, Any] | None, rejected: dict[str, Rejected]
    ) -> tuple[list[Post], dict[str, Any]]:
        options = self._options
        window = Window.of(mark)
        posts = []
        for data in _raw_items(stream.items(limit=options.max_items if mark else options.first_poll_items)):
            created = _created(data)
            if created is not None and created < window.floor:
                break
            if not window.add(_key(data), created):
                continue
            try:
                posts.append(self._post(data, direct=stream.direct))
            except (ValueError, KeyError, TypeError) as error:
                payload = json.dumps(data, default=str)
                rejected.setdefault(_key(data), Rejected(f"reddit {stream.key}: {error}", payload))
        return posts, window.mark(overlap=options.overlap_seconds, keep=options.max_items)

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
        bans us) is the post's problem; refused credentials stay the source's. Reddit refusing our
        account for posting too fast (RATELIMIT) posted nothing: retry after the wait it named. A
        reply whose answer was lost (timeout, dropped connection, 5xx) may be posted: its outcome is
        unknown."""
        with _translated_errors(replying_to=to):
            comment = self._thing(to).reply(text)
        if comment is None:  # praw: Reddit posted it but did not return it (a quarantined subreddit)
            raise ConnectorError(
                f"Reddit took the reply to {to} but returned no comment", outcome_unknown=True
            )
        return str(comment.fullname)

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        """Our account's comment whose parent is ``to``, among its latest 1000 comments."""
        with _translated_errors():
            for data in _raw_items(self.reddit.redditor(self.username).comments.new(limit=1000)):
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


def _merge(posts: dict[str, Post], post: Post) -> None:
    """One post per fullname; the stream that knows it addresses us (the inbox) wins."""
    known = posts.get(post.external_id)
    if known is None or (post.direct and not known.direct):
        posts[post.external_id] = post


def _requestor_class() -> type[Any]:
    """prawcore's Requestor behind our gate and timeout, failing at once where prawcore would retry
    or sleep (see the module's docstring)."""
    from prawcore import RequestException, Requestor
    from prawcore.const import ACCESS_TOKEN_PATH

    class FailFastRequestor(Requestor):
        def __init__(self, *, gate: BeforeRequest, traffic: TrafficMeter, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.gate, self.traffic = gate, traffic

        # prawcore always passes the method and the URL first; mypy sees only prawcore's *args.
        def request(  # type: ignore[override]
            self, method: str, url: str, *args: Any, timeout: float | None = None, **kwargs: Any
        ) -> Any:
            signing_in = url.endswith(ACCESS_TOKEN_PATH)
            writes = method.upper() == "POST" and not signing_in
            self.gate()
            traffic = None if signing_in else self.traffic.current()
            if traffic is not None:
                traffic.requests += 1
            try:
                response = super().request(method, url, *args, timeout=self.timeout, **kwargs)
            except RequestException as error:
                raise _lost(error.original_exception, self.timeout, writes=writes) from error
            if traffic is not None:
                traffic.answered(response.headers)
            refusal = _refusal(response, writes=writes)
            if refusal:
                raise refusal
            for header in QUOTA_HEADERS:
                response.headers.pop(header, None)
            return response

    return FailFastRequestor


def _lost(error: Exception, timeout: float | None, *, writes: bool) -> ConnectorError:
    """A request that got no answer; a write that may have reached Reddit has an unknown outcome."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

    if isinstance(error, requests.Timeout):
        reason = f"timed out after {timeout}s"
    else:
        reason = f"{type(error).__name__}: {error}"
    cause = error.args[0] if error.args else None
    never_connected = isinstance(error, requests.ConnectTimeout) or (
        isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)
    )  # urllib3's NewConnectionError (refused, unresolved) is a ConnectTimeoutError too
    return ConnectorError(f"Reddit call failed: {reason}", outcome_unknown=writes and not never_connected)


def _refusal(response: Any, *, writes: bool) -> ConnectorError | None:
    """A 429, with the wait Reddit asked for, or a 5xx, after which a reply may have been posted."""
    status = response.status_code
    if status == TOO_MANY_REQUESTS:
        retry_after = _retry_after(response.headers)
        return ConnectorError(f"Reddit rate limit: wait {retry_after}s", retry_after=retry_after)
    if status >= SERVER_ERROR:
        return ConnectorError(f"Reddit answered {status} {response.reason}", outcome_unknown=writes)
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds Reddit asked us to wait: ``retry-after`` when given, else until the quota resets."""
    for header in ("retry-after", "x-ratelimit-reset"):
        try:
            return max(float(headers[header]), 0.0)
        except (KeyError, ValueError):
            continue
    return None


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


def _key(data: dict[str, Any]) -> str:
    """An item's fullname; for one without, a short digest of it, so it is rejected once too."""
    name = data.get("name")
    if name:
        return str(name)
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


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

    status = error.response.status_code if isinstance(error, prawcore.ResponseException) else None
    refused = isinstance(error, prawcore.OAuthException | prawcore.InvalidToken | prawcore.Forbidden)
    if refused or status in {401, 403}:
        return ConnectorError(f"Reddit refused the credentials or access: {error}", permanent=True)
    if isinstance(error, praw.exceptions.RedditAPIException):
        limited = [item for item in error.items if item.error_type == "RATELIMIT"]
        if limited:
            wait = _ratelimit_wait(limited[0].message or "")
            return ConnectorError(f"Reddit rate limit for our account: {error}", retry_after=wait)
    if isinstance(error, prawcore.PrawcoreException | praw.exceptions.RedditAPIException):
        # Other refusals and API errors; 5xx, 429s, timeouts and lost connections fail in the requestor.
        return ConnectorError(f"Reddit call failed: {error}")
    return None


def _ratelimit_wait(message: str) -> float | None:
    """Seconds to wait after Reddit's RATELIMIT refusal of a post: "try again in 9 minutes" is 600,
    as Reddit rounds its minutes down; "in 40 seconds" is 40. None when the message names no wait."""
    match = RATELIMIT_WAIT.search(message)
    if not match:
        return None
    amount, unit = int(match.group(1)), RATELIMIT_UNITS[match.group(2)]
    rounded_down = unit >= RATELIMIT_UNITS["minute"]  # "9 minutes" is anything up to 10: wait 10
    return max((amount + rounded_down) * unit, 1.0)
