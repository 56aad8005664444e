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

Every request goes through one requestor (:mod:`connectors.reddit_session`): the source's
request gate first, our timeout, no retries or sleeps inside praw, Reddit's quota noted for the
fetch that made the request, and every failure told as a ``ConnectorError``.

Every stream (a search, a subreddit's new submissions or comments, each raw
``watch.queries`` search, run in the watched subreddits or else in all of
Reddit, the mentions and the comment replies in our inbox) is read newest first,
page after page (praw's ``after``), down to a floor ``overlap_seconds`` behind
the newest ``created_utc`` already read. An item listed late (approved by a
moderator, indexed by search after a while) is still found if it was written
within that window. The fullnames read within the window are kept in the cursor
so nothing is returned twice; they are at most ``max_items`` per stream, the
most a poll reads, and when more fall within the window its floor moves up
(:class:`~connectors.reddit_window.Window`).

``check_posts`` (deletion compliance) asks ``/api/info`` about up to 100 stored
fullnames in one request. Reddit returns every thing that still exists, however
little of it is left, and nothing at all for one that does not: that one is
"deleted". A thing returned with its author and its text (``body``, or a
submission's ``selftext``) both ``[deleted]``, or with ``removed_by_category``
"deleted", was deleted by its author; with the text ``[removed]`` or any other
``removed_by_category`` it was "removed" by a moderator or by Reddit. (praw
turns the author ``[deleted]`` into ``None``.) Every other thing stands.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import Connector, ConnectorError, PostsChecked
from connectors.reddit_session import TrafficMeter, requestor_class, translated_errors
from connectors.reddit_window import Window
from social_care.config.models import ApiAddress
from social_care.posts import Author, Batch, Post, Rejected, ThreadRef

REDDIT_WEB = "https://www.reddit.com"
_PERMALINK = re.compile(r"^(https://www\.reddit\.com/r/[^/]+/comments/[^/]+/[^/]+)(?:/[^/]+)?/?$")
USER_AGENT_FORM = re.compile(r"^[\w.-]+:[\w.-]+:v?[\w.-]+ \(by /u/[\w-]+\)$")
DELETED, REMOVED = "[deleted]", "[removed]"
GONE = {DELETED, REMOVED}


class RedditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    app_platform: str = Field(default="python", pattern=r"^[\w.-]+$")
    app_id: str = Field(default="social-care", pattern=r"^[\w.-]+$")
    app_version: str = Field(default="0.1.0", pattern=r"^v?[\w.-]+$")
    contact: str = Field(default="", description="Reddit username in the User-Agent; default: the account")
    auth_url: ApiAddress = Field(
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
    check_batch: ClassVar[int] = 100  # the most fullnames /api/info takes (praw's chunk too)

    @classmethod
    def profile_url(cls, handle: str) -> str:
        return f"{REDDIT_WEB}/user/{quote(handle.removeprefix('u/'))}"

    @classmethod
    def reply_url(cls, *, account: str, reply_id: str, replied_url: str) -> str:
        """Our comment sits under the post or comment it answers: ``/comments/POST/SLUG/COMMENT/``."""
        found = _PERMALINK.match(replied_url)
        if found is None:
            return ""
        return f"{found.group(1)}/{quote(reply_id.removeprefix('t1_'))}/"

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
            requestor_class=requestor_class(),
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
        with self.traffic.counting() as traffic, translated_errors():
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
        with translated_errors(replying_to=to):
            comment = self._thing(to).reply(text)
        if comment is None:  # praw: Reddit posted it but did not return it (a quarantined subreddit)
            raise ConnectorError(
                f"Reddit took the reply to {to} but returned no comment", outcome_unknown=True
            )
        return str(comment.fullname)

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        """Our account's comment whose parent is ``to``, among its latest 1000 comments."""
        with translated_errors():
            for data in _raw_items(self.reddit.redditor(self.username).comments.new(limit=1000)):
                if data.get("parent_id") == to and str(data["name"]) not in exclude:
                    return str(data["name"])
        return None

    # -- deletion compliance ---------------------------------------------------------

    def check_posts(self, external_ids: Collection[str]) -> PostsChecked:
        """One ``/api/info`` request: what it leaves out is deleted, what it returns says of itself
        whether it stands (:func:`_fate`). Each thing returned counts as a read."""
        asked = list(dict.fromkeys(external_ids))
        if len(asked) > self.check_batch:
            raise ValueError(f"/api/info takes at most {self.check_batch} fullnames, not {len(asked)}")
        if not asked:
            return PostsChecked()  # praw would not ask Reddit at all
        with translated_errors():
            returned = list(_raw_items(self.reddit.info(fullnames=asked)))
        found = {str(data.get("name")): data for data in returned}
        fates = {name: _fate(found[name]) if name in found else "deleted" for name in asked}
        return PostsChecked(
            present=frozenset(name for name, fate in fates.items() if fate is None),
            gone={name: fate for name, fate in fates.items() if fate is not None},
            reads=len(returned),
        )

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


def _fate(data: dict[str, Any]) -> str | None:
    """Why a thing /api/info returned can no longer be seen ("deleted", "removed"), or None if it stands.

    A comment's text is its ``body``, a submission's its ``selftext``; an author gone alone (a
    deleted account) leaves the text standing.
    """
    category = data.get("removed_by_category")
    text = data.get("body" if str(data.get("name", "")).startswith("t1_") else "selftext")
    author_gone = data.get("author") in {None, DELETED}
    if category == "deleted" or (author_gone and text == DELETED):
        return "deleted"
    if text == REMOVED or category:
        return "removed"
    return None


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
