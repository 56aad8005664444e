"""RSS and Atom feeds: web alerts, forums, review sites and news, read but never answered.

Each URL in the source's ``feeds`` is fetched with ``requests`` (a timeout on
every request, a descriptive User-Agent) as a conditional GET: the ETag and
Last-Modified of the previous answer go back as ``If-None-Match`` and
``If-Modified-Since``, and a 304 means nothing new. The body is parsed by
``feedparser.parse(bytes)``; feedparser never fetches anything itself.

Every entry becomes a :class:`Post`. Its id is the entry's id/guid (prefixed
with the feed URL when it is not itself a URI, so two forums numbering their
threads 1, 2, 3 cannot collide), else its link, else a hash of its title. Links
from alert services (``https://www.google.com/url?...&url=TARGET`` and the
like) are unwrapped to the target. The author is the site the entry points to
(its domain, ``www.`` dropped), named after the entry's author when the feed
gives one. The text is the title and the summary with markup removed.

The cursor is a JSON object with one entry per feed URL: its ``etag``,
``last_modified``, the ids ``seen`` recently (at most ``max_seen_per_feed``,
but never fewer than the feed's current document holds, so a feed re-sending
old entries returns nothing twice) and the ``error`` it last failed with.

Failures are per feed. A feed that times out, cannot be reached, answers 5xx
or 429 (transient), or 401/403/404/410 or another 4xx (permanent), is noted in
the cursor with its error and skipped, while the other feeds are read; a
permanent failure is also returned once as a :class:`Rejected`, so a person
sees the dead feed. Only when *every* feed fails does ``fetch`` raise: a
transient :class:`ConnectorError` if any failure was transient (no sooner than
the longest ``Retry-After``), a permanent one if all were; the cursor is then
unchanged. A body that is not a feed is a :class:`Rejected` for that feed (once
per distinct error), not an exception.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector, ConnectorError
from social_care.posts import Author, Batch, Post, Rejected

REDIRECT_PATHS = {"url", "link", "redirect", "out", "apiclick.aspx"}
REDIRECT_PARAMS = ("url", "q", "u", "target")
TRANSIENT_CLIENT_ERRORS = {408, 425, 429}
MAX_UNWRAP = 3
TAG_LIKE = re.compile(r"<(?=[/!?]?[a-zA-Z])")


class FeedOptions(BaseModel):
    """The ``[sources.options]`` a feed source understands.

    ``timeout_seconds``: per-request timeout. ``user_agent``: the User-Agent
    sent to every feed. ``max_seen_per_feed``: how many recent entry ids are
    remembered per feed to recognise entries a feed sends again.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(default=10.0, gt=0)
    user_agent: str = Field(default="social-care feed reader", min_length=1)
    max_seen_per_feed: int = Field(default=500, ge=1)


@dataclass
class FeedState:
    """What the cursor remembers of one feed."""

    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> FeedState:
        return cls(
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            seen=[str(item) for item in data.get("seen") or []],
            error=data.get("error"),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "etag": self.etag,
            "last_modified": self.last_modified,
            "seen": self.seen,
            "error": self.error,
        }


@dataclass
class FeedRead:
    """One feed's contribution to a fetch."""

    state: FeedState
    posts: list[Post] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class FeedConnector(Connector):
    platform: ClassVar[str] = "feed"
    reply_max_length: ClassVar[int] = 0
    auto_reply_allowed: ClassVar[bool] = False
    credentials: ClassVar[tuple[str, ...]] = ()
    default_api_base_url: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = FeedOptions
    watch_lists: ClassVar[frozenset[str]] = frozenset({"feeds"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session = requests.Session()
        self._session.headers["User-Agent"] = self._options.user_agent

    @property
    def _options(self) -> FeedOptions:
        options = self.options
        assert isinstance(options, FeedOptions)
        return options

    def fetch(self, cursor: str | None) -> Batch:
        stored: dict[str, Any] = json.loads(cursor) if cursor else {}
        reads: dict[str, FeedRead] = {}
        failures: list[ConnectorError] = []
        for url in dict.fromkeys(self.context.feeds):
            state = FeedState.load(stored.get(url) or {})
            try:
                reads[url] = self._read(url, state)
            except ConnectorError as error:
                failures.append(error)
                reads[url] = _failed(url, state, error)
        if failures and len(failures) == len(reads):
            raise _combined(self.context.source_id, failures)
        posts = sorted((post for read in reads.values() for post in read.posts), key=lambda p: p.created_at)
        rejected = [item for read in reads.values() for item in read.rejected]
        next_cursor = json.dumps({url: read.state.dump() for url, read in reads.items()}, sort_keys=True)
        return Batch(posts=posts, cursor=next_cursor if reads else cursor, rejected=rejected)

    def reply(self, to: str, text: str) -> str:
        raise ConnectorError(
            f"feed source {self.context.source_id}: feeds cannot be answered; reply on the site itself",
            permanent=True,
            only_this_post=True,
        )

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        return None

    # -- one feed ---------------------------------------------------------------

    def _read(self, url: str, state: FeedState) -> FeedRead:
        response = self._get(url, state)
        if response.status_code == 304:  # noqa: PLR2004
            return FeedRead(state=FeedState(state.etag, state.last_modified, state.seen))
        document = _parse(response)
        if isinstance(document, str):
            return _malformed(url, state, document, response.content)
        now = self.clock()
        site = _site(url)
        posts: list[Post] = []
        rejected: list[Rejected] = []
        current: list[str] = []
        # Feeds list newest first. Plain dicts: feedparser's own warns when asked for absent keys.
        for entry in (dict(item.items()) for item in reversed(document.entries)):
            key = _entry_key(url, entry)
            current.append(key)
            if key in state.seen or key in current[:-1]:
                continue
            try:
                posts.append(_post(url, site, entry, now))
            except ValueError as error:
                rejected.append(Rejected(f"feed {url}: {error}", json.dumps(_plain(entry), sort_keys=True)))
        seen = _remember(state.seen, current, self._options.max_seen_per_feed)
        headers = response.headers
        fresh = FeedState(headers.get("ETag"), headers.get("Last-Modified"), seen)
        return FeedRead(state=fresh, posts=posts, rejected=rejected)

    def _get(self, url: str, state: FeedState) -> requests.Response:
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        source = self.context.source_id
        try:
            self.before_request()
            response = self._session.get(url, headers=headers, timeout=self._options.timeout_seconds)
        except requests.Timeout as error:
            message = f"feed {url}: timed out after {self._options.timeout_seconds}s"
            raise ConnectorError(f"feed source {source}: {message}") from error
        except requests.RequestException as error:
            raise ConnectorError(f"feed source {source}: feed {url}: {type(error).__name__}") from error
        _check_status(source, url, response, self.clock())
        return response


def _check_status(source: str, url: str, response: requests.Response, now: datetime) -> None:
    status = response.status_code
    if status in {200, 304}:
        return
    message = f"feed source {source}: feed {url}: HTTP {status}"
    if status == 429:  # noqa: PLR2004
        raise ConnectorError(message, retry_after=_retry_after(response.headers.get("Retry-After"), now))
    permanent = 400 <= status < 500 and status not in TRANSIENT_CLIENT_ERRORS  # noqa: PLR2004
    raise ConnectorError(message, permanent=permanent)


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _combined(source: str, failures: list[ConnectorError]) -> ConnectorError:
    """Every feed failed: permanent only if every failure was; wait for the longest Retry-After."""
    permanent = all(error.permanent for error in failures)
    waits = [error.retry_after for error in failures if error.retry_after is not None]
    details = "; ".join(str(error).removeprefix(f"feed source {source}: ") for error in failures)
    return ConnectorError(
        f"feed source {source}: every feed failed: {details}",
        permanent=permanent,
        retry_after=max(waits) if waits and not permanent else None,
    )


def _failed(url: str, state: FeedState, error: ConnectorError) -> FeedRead:
    """A feed that failed while others worked: keep its state, note the error, surface a new dead feed."""
    message = str(error)
    rejected = []
    if error.permanent and state.error != message:
        rejected.append(Rejected(f"feed {url} is failing: {message}", json.dumps({"feed": url})))
    return FeedRead(state=FeedState(state.etag, state.last_modified, state.seen, message), rejected=rejected)


def _malformed(url: str, state: FeedState, reason: str, body: bytes) -> FeedRead:
    """Not a feed: reported once per distinct reason; no ETag kept, so the next poll reads it in full."""
    message = f"feed {url}: not a readable feed: {reason}"
    rejected = [] if state.error == message else [Rejected(message, body[:10_000].decode("utf-8", "replace"))]
    return FeedRead(state=FeedState(None, None, state.seen, message), rejected=rejected)


def _parse(response: requests.Response) -> Any:
    """The parsed document, or why the body is not a feed."""
    import feedparser

    content_type = response.headers.get("Content-Type", "")
    document = feedparser.parse(response.content, response_headers={"content-type": content_type})
    if document.entries:
        return document
    if document.get("bozo"):
        return str(document.get("bozo_exception") or "unparseable")
    if not document.get("version"):
        return "no RSS or Atom document found"
    return document


def _entry_key(feed_url: str, entry: Mapping[str, Any]) -> str:
    """The stable id of an entry (malformed ones included, so they are rejected only once)."""
    entry_id = str(entry.get("id") or "").strip()
    if entry_id:
        return entry_id if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", entry_id) else f"{feed_url}#{entry_id}"
    link = _unwrapped(str(entry.get("link") or "").strip())
    if link:
        return link
    title = str(entry.get("title") or "").strip()
    material = title or json.dumps(_plain(entry), sort_keys=True)
    prefix = "" if title else "malformed:"
    return f"{prefix}{feed_url}#sha256:{hashlib.sha256(material.encode()).hexdigest()[:32]}"


def _post(feed_url: str, site: str, entry: Mapping[str, Any], now: datetime) -> Post:
    entry_id, link, title = (str(entry.get(key) or "").strip() for key in ("id", "link", "title"))
    if not (entry_id or link or title):
        raise ValueError("entry has no id, link or title")
    title_text = strip_html(title)
    summary = strip_html(str(entry.get("summary") or ""))
    if not (title_text or summary):
        raise ValueError(f"entry {entry_id or link} has no title or summary")
    url = _unwrapped(link)
    domain = _site(url) or site
    return Post(
        external_id=_entry_key(feed_url, entry),
        url=url,
        author=Author(id=domain, handle=domain, name=strip_html(str(entry.get("author") or ""))),
        text="\n\n".join(dict.fromkeys(part for part in (title_text, summary) if part)),
        created_at=_entry_time(entry) or now,
        direct=False,
        raw={**_plain(entry), "feed": feed_url, "link": url},
    )


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _plain(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's readable fields as JSON-ready strings (feedparser's own objects hold time structs)."""
    fields = ("id", "link", "title", "summary", "author", "published", "updated")
    plain: dict[str, Any] = {key: str(entry[key]) for key in fields if entry.get(key)}
    tags = [str(tag.get("term")) for tag in entry.get("tags") or [] if tag.get("term")]
    if tags:
        plain["tags"] = tags
    return plain


def _remember(seen: list[str], current: list[str], limit: int) -> list[str]:
    """The ids to remember: everything in the current document, then the most recent earlier ones."""
    current_set = set(current)
    older = [key for key in seen if key not in current_set]
    keep = max(limit - len(current), 0)
    return [*(older[-keep:] if keep else []), *current]


def _unwrapped(link: str) -> str:
    """The target of an alert service's redirect link (Google Alerts' ``/url?url=...``), else ``link``."""
    for _ in range(MAX_UNWRAP):
        parts = urlsplit(link)
        if parts.path.rstrip("/").rsplit("/", 1)[-1].lower() not in REDIRECT_PATHS:
            return link
        params = parse_qs(parts.query)
        targets = [params[name][0] for name in REDIRECT_PARAMS if params.get(name)]
        target = next((value for value in targets if re.match(r"^https?://", value, re.IGNORECASE)), None)
        if target is None:
            return link
        link = target
    return link


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment, leaving out tags and the content of script and style."""

    SKIPPED: ClassVar[set[str]] = {"script", "style", "template", "noscript"}
    BREAKS: ClassVar[set[str]] = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Iterable[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(fragment)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    # Escaped markup (``&lt;script&gt;``) decodes to text that looks like a tag: defuse it.
    return TAG_LIKE.sub("\u2039", text)
