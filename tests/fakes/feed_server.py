"""A small feed host on 127.0.0.1: RSS 2.0 and Atom documents the test sets up.

Each path serves one feed whose entries the test adds (newest first, as feeds
list them), rendered as RSS 2.0 or Atom with an ETag and a Last-Modified that
change whenever the feed does. ``If-None-Match`` / ``If-Modified-Since`` get a
304 when nothing changed. Every request is recorded with its headers. Failures
are scripted per path: a status (500, 404, 429 with ``Retry-After``...), a
response slower than the client waits, or a body that is not a feed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from xml.sax.saxutils import escape

from tests.fakes.loopback import Loopback

EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Entry:
    """One feed item; ``None`` fields are left out of the document (to make malformed entries)."""

    id: str | None
    title: str | None
    link: str | None
    summary: str = ""
    author: str = ""
    published: datetime | None = None


@dataclass
class Feed:
    kind: str = "rss"
    title: str = "A feed"
    entries: list[Entry] = field(default_factory=list)
    version: int = 1
    etags: bool = True
    last_modified: bool = True

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'

    @property
    def modified(self) -> str:
        return format_datetime(EPOCH + timedelta(minutes=self.version), usegmt=True)


@dataclass
class Scripted:
    """The next answer for ``path`` (any path when ``None``): a status, a delay, or a raw body."""

    status: int = 200
    delay: float = 0.0
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class FakeFeeds:
    """The host's state. ``start()`` serves it; ``url(path)`` is a feed's address."""

    feeds: dict[str, Feed] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Loopback | None = None

    def start(self) -> FakeFeeds:
        self._server = Loopback(_handler_for(self))
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    def url(self, path: str) -> str:
        assert self._server
        return self._server.base_url + path

    # -- what the test arranges ---------------------------------------------

    def add_feed(self, path: str, *, kind: str = "rss", title: str = "A feed", **options: Any) -> str:
        self.feeds[path] = Feed(kind=kind, title=title, **options)
        return self.url(path)

    def add_entry(self, path: str, entry: Entry) -> Entry:
        with self._lock:
            feed = self.feeds[path]
            feed.entries.insert(0, entry)
            feed.version += 1
        return entry

    def fail_next(self, status: int, *, path: str | None = None, **headers: str) -> None:
        self.script.append(Scripted(status=status, path=path, headers=headers))

    def delay_next(self, seconds: float, *, path: str | None = None) -> None:
        self.script.append(Scripted(delay=seconds, path=path))

    def serve_next(self, body: bytes, *, path: str | None = None) -> None:
        self.script.append(Scripted(body=body, path=path))

    def requests_to(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path == path]

    # -- serving ------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            scripted = next((item for item in self.script if item.path in {None, path}), None)
            if scripted:
                self.script.remove(scripted)
            status, extra, body = self._answer(path, headers, scripted)
            self.requests.append(Recorded(path, headers, status))
        if scripted and scripted.delay:
            assert self._server
            self._server.stopping.wait(scripted.delay)
        return status, extra, body

    def _answer(
        self, path: str, headers: dict[str, str], scripted: Scripted | None
    ) -> tuple[int, dict[str, str], bytes]:
        if scripted and scripted.status != 200:
            return scripted.status, scripted.headers, b"failure"
        if scripted and scripted.body is not None:
            return 200, {"content-type": "application/xml"}, scripted.body
        feed = self.feeds.get(path)
        if feed is None:
            return 404, {}, b"no such feed"
        validators = {}
        if feed.etags:
            validators["etag"] = feed.etag
        if feed.last_modified:
            validators["last-modified"] = feed.modified
        if _unchanged(feed, headers):
            return 304, validators, b""
        content_type = "application/atom+xml" if feed.kind == "atom" else "application/rss+xml"
        return 200, {**validators, "content-type": f"{content_type}; charset=utf-8"}, render(feed)


def _unchanged(feed: Feed, headers: dict[str, str]) -> bool:
    if feed.etags and "if-none-match" in headers:
        return headers["if-none-match"] == feed.etag
    if feed.last_modified and "if-modified-since" in headers:
        return headers["if-modified-since"] == feed.modified
    return False


def render(feed: Feed) -> bytes:
    return (_atom(feed) if feed.kind == "atom" else _rss(feed)).encode()


def _rss(feed: Feed) -> str:
    items = []
    for entry in feed.entries:
        parts = [
            f"<guid isPermaLink='false'>{escape(entry.id)}</guid>" if entry.id is not None else "",
            f"<title>{escape(entry.title)}</title>" if entry.title is not None else "",
            f"<link>{escape(entry.link)}</link>" if entry.link is not None else "",
            f"<description>{escape(entry.summary)}</description>" if entry.summary else "",
            f"<author>{escape(entry.author)}</author>" if entry.author else "",
            f"<pubDate>{format_datetime(entry.published)}</pubDate>" if entry.published else "",
        ]
        items.append(f"<item>{''.join(parts)}</item>")
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{escape(feed.title)}</title><link>http://127.0.0.1/</link><description>fake</description>"
        f"{''.join(items)}</channel></rss>"
    )


def _atom(feed: Feed) -> str:
    entries = []
    for entry in feed.entries:
        parts = [
            f"<id>{escape(entry.id)}</id>" if entry.id is not None else "",
            f"<title type='html'>{escape(entry.title)}</title>" if entry.title is not None else "",
            f"<link href='{escape(entry.link, {chr(39): '&apos;'})}'/>" if entry.link is not None else "",
            f"<content type='html'>{escape(entry.summary)}</content>" if entry.summary else "",
            f"<author><name>{escape(entry.author)}</name></author>" if entry.author else "",
            f"<published>{entry.published.isoformat()}</published>" if entry.published else "",
        ]
        entries.append(f"<entry>{''.join(parts)}</entry>")
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<id>tag:fake,2026:feed</id><title>{escape(feed.title)}</title>"
        f"<updated>{EPOCH.isoformat()}</updated>{''.join(entries)}</feed>"
    )


def _handler_for(fake: FakeFeeds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, body = fake.handle(self.path, headers)
            try:
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that was the point of a slow response

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
