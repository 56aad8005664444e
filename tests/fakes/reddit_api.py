"""A small stateful Reddit on 127.0.0.1 that the real praw client talks to.

It speaks the parts of Reddit's API the connector uses: the script-app token
endpoint, subreddit search / new / comments listings, the inbox's username
mentions and comment replies, a user's comments, posting a comment, and
``/api/info`` (the things named in ``id=`` that still exist, in whatever state), all
in Reddit's Listing JSON shape with ``after`` pagination and the ``x-ratelimit-*``
headers. Tests add submissions and comments (some held for a moderator's
approval), delete, remove (as a moderator) or purge them, script failures
(status codes, slow answers, malformed items, a reply posted whose answer is
lost, a reply refused for posting too fast), set the quota it reports, and
inspect what was requested and replied.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import Loopback

MAX_PAGE = 100


@dataclass
class Thing:
    """One stored submission (t3) or comment (t1), or a deliberately broken child.

    Listings order things as Reddit does, by when they were written (``seq``); one
    held for a moderator is left out of every listing until it is ``listed``.
    """

    seq: int
    kind: str
    subreddit: str
    data: dict[str, Any]
    listed: bool = True

    @property
    def fullname(self) -> str:
        return f"{self.kind}_{self.data.get('id', self.seq)}"


@dataclass
class Failure:
    status: int
    path: str
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    after: int = 0


@dataclass
class ReplyFault:
    """What goes wrong with the answer to a reply that was posted all the same."""

    delay: float = 0.0
    status: int = 0


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


class FakeReddit:
    def __init__(
        self,
        *,
        client_id: str = "app-id",
        client_secret: str = "app-secret",
        username: str = "velora_care",
        password: str = "hunter2",
        start: float = 1_790_000_000.0,
    ) -> None:
        """``start``: the Unix time just before the first thing is written (one a second after it)."""
        self.credentials = (client_id, client_secret, username, password)
        self.username = username
        self.page_size = MAX_PAGE
        self.things: list[Thing] = []
        self.requests: list[Recorded] = []
        self.replies: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.deleted: set[str] = set()
        self.quota_headers = dict(RATE_LIMIT_HEADERS)
        self._failures: list[Failure] = []
        self._reply_faults: list[ReplyFault] = []
        self._reply_refusals: list[list[str]] = []
        self._ids = itertools.count(1)
        self._now = start  # each thing is written a second after the one before
        self._lock = threading.Lock()
        self._server: Loopback | None = None

    # -- test controls ---------------------------------------------------------------

    def add_submission(
        self, subreddit: str, title: str, selftext: str = "", *, author: str = "someone", **extra: Any
    ) -> str:
        thing_id = self._new_id()
        data = {
            "id": thing_id,
            "name": f"t3_{thing_id}",
            "title": title,
            "selftext": selftext,
            "author": author,
            "author_fullname": f"t2_{author}",
            "subreddit": subreddit,
            "created_utc": self._tick(),
            "num_comments": 0,
            "permalink": f"/r/{subreddit}/comments/{thing_id}/{title.lower().replace(' ', '_')[:20]}/",
        }
        return self._store("t3", subreddit, {**data, **extra})

    def add_comment(
        self, parent: str, body: str, *, author: str = "someone", held: bool = False, **extra: Any
    ) -> str:
        """A comment on ``parent``; ``held`` for a moderator's approval, it is listed only once approved."""
        parent_thing = self.thing(parent)
        link = parent if parent.startswith("t3_") else parent_thing.data["link_id"]
        submission = self.thing(link)
        thing_id = self._new_id()
        data = {
            "id": thing_id,
            "name": f"t1_{thing_id}",
            "body": body,
            "author": author,
            "author_fullname": f"t2_{author}",
            "subreddit": parent_thing.subreddit,
            "created_utc": self._tick(),
            "link_id": link,
            "parent_id": parent,
            "link_author": submission.data.get("author"),
            "link_title": submission.data.get("title"),
            "permalink": f"{submission.data['permalink']}{thing_id}/",
        }
        return self._store("t1", parent_thing.subreddit, {**data, **extra}, listed=not held)

    def add_broken(self, subreddit: str, kind: str, data: dict[str, Any]) -> None:
        """A listing child exactly as given: missing or nonsensical fields."""
        with self._lock:
            self.things.append(Thing(next(self._ids), kind, subreddit, data))

    def fail(
        self,
        status: int,
        *,
        path: str = "/",
        times: int = 1,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        after: int = 0,
    ) -> None:
        """The next ``times`` requests under ``path`` answer ``status`` after ``delay`` (0: normally),
        once ``after`` requests under ``path`` were answered normally."""
        with self._lock:
            self._failures.append(Failure(status, path, times, headers or {}, delay, after))

    def approve(self, fullname: str) -> None:
        """A moderator approves a held thing: from now on it is listed, where its time puts it."""
        self.thing(fullname).listed = True

    def pass_time(self, seconds: float) -> None:
        """The next thing is written ``seconds`` later than it would have been."""
        self._now += seconds

    def report_quota(self, *, remaining: float, reset_seconds: int, used: int = 0) -> None:
        """From now on every answer says ``remaining`` requests are left until the reset."""
        self.quota_headers = {
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset_seconds),
        }

    def answer_next_reply_late(self, delay: float) -> None:
        """The next reply is posted, and its answer sent ``delay`` seconds later: after a client
        with a shorter timeout gave up on it."""
        with self._lock:
            self._reply_faults.append(ReplyFault(delay=delay))

    def fail_next_reply_after_posting(self, status: int) -> None:
        """The next reply is posted, and answered with ``status`` (a 5xx from a gateway) all the same."""
        with self._lock:
            self._reply_faults.append(ReplyFault(status=status))

    def rate_limit_next_reply(self, wait: str) -> None:
        """The next reply is refused as Reddit refuses an account posting too fast, ``wait`` (``"9
        minutes"``) being what it asks: HTTP 200 with a RATELIMIT error in the JSON, nothing posted."""
        message = f"you are doing that too much. try again in {wait}."
        with self._lock:
            self._reply_refusals.append(["RATELIMIT", message, "ratelimit"])

    def replies_to(self, parent: str) -> list[dict[str, Any]]:
        return [reply for reply in self.replies if reply["parent"] == parent]

    def delete(self, fullname: str) -> None:
        """The author deleted it: listed as ``[deleted]``, and a reply to it is refused."""
        data = self.thing(fullname).data
        data["author"] = "[deleted]"
        data["body" if fullname.startswith("t1_") else "selftext"] = "[deleted]"
        self.deleted.add(fullname)

    def remove(self, fullname: str) -> None:
        """A moderator removed it: its text reads ``[removed]`` (a comment's author is hidden as
        ``[deleted]``, as Reddit shows it to everyone but moderators)."""
        data = self.thing(fullname).data
        data["removed_by_category"] = "moderator"
        if fullname.startswith("t1_"):
            data.update(body="[removed]", author="[deleted]")
        else:
            data["selftext"] = "[removed]"

    def purge(self, fullname: str) -> None:
        """Gone entirely: no listing and no ``/api/info`` returns it any more."""
        with self._lock:
            self.things = [thing for thing in self.things if thing.fullname != fullname]

    def thing(self, fullname: str) -> Thing:
        return next(thing for thing in self.things if thing.fullname == fullname)

    def requested(self, path_prefix: str) -> list[Recorded]:
        return [request for request in self.requests if request.path.startswith(path_prefix)]

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.base_url

    @contextmanager
    def running(self) -> Iterator[FakeReddit]:
        self._server = Loopback(_handler(self))
        try:
            yield self
        finally:
            self._server.stop()

    # -- request handling ------------------------------------------------------------

    def _new_id(self) -> str:
        return format(next(self._ids) + 1000, "x")

    def _tick(self) -> float:
        self._now += 1
        return self._now

    def _store(self, kind: str, subreddit: str, data: dict[str, Any], *, listed: bool = True) -> str:
        with self._lock:
            thing = Thing(next(self._ids), kind, subreddit, data, listed)
            self.things.append(thing)
        return thing.fullname

    def _listed(self, kind: str) -> list[Thing]:
        return [thing for thing in self.things if thing.kind == kind and thing.listed]

    def _ours(self, thing: Thing) -> bool:
        return str(thing.data.get("author", "")).lower() == self.username.lower()

    def _scripted_failure(self, path: str) -> Failure | None:
        with self._lock:
            for failure in self._failures:
                if not path.startswith(failure.path) or failure.times <= 0:
                    continue
                if failure.after > 0:
                    failure.after -= 1
                    return None
                failure.times -= 1
                return failure
        return None

    def handle(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append(Recorded(method, path, query, headers, form))
        failure = self._scripted_failure(path)
        if failure:
            if failure.delay and self._server:
                self._server.stopping.wait(failure.delay)  # released at once when the fake stops
            if failure.status:
                return failure.status, failure.headers, {"message": "scripted", "error": failure.status}
        if path == "/api/v1/access_token":
            return self._token(form, headers)
        if headers.get("authorization", "").removeprefix("bearer ") not in self.tokens:
            return 401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}, {"error": 401}
        return self._api(method, path.rstrip("/"), query, form)

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        client_id, client_secret, username, password = self.credentials
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {basic}":
            return 401, {}, {"message": "Unauthorized", "error": 401}
        if form.get("grant_type") != "password" or (form.get("username"), form.get("password")) != (
            username,
            password,
        ):
            return 200, {}, {"error": "invalid_grant"}
        token = f"token-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return 200, {}, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}

    def _api(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and path == "/api/comment":
            return self._reply(form)
        listing = self._read(path, query)
        if listing is None:
            return 404, {}, {"message": "Not Found", "error": 404}
        return 200, {}, listing

    def _read(self, path: str, query: dict[str, str]) -> dict[str, Any] | None:
        """The Listing a GET of ``path`` answers; None for a path this fake does not serve."""
        parts = path.strip("/").split("/")
        if parts[0] == "r" and len(parts) == 3:
            subreddits = set(parts[1].lower().split("+"))
            return self._listing(self._subreddit_listing(parts[2], subreddits, query), query)
        if path == "/message/mentions":
            mention = f"u/{self.username}".lower()
            mentions = [t for t in self._listed("t1") if mention in str(t.data.get("body", "")).lower()]
            return self._listing(mentions, query, inbox="username_mention")
        if path == "/message/comments":
            answers = [t for t in self._listed("t1") if self._answers_our_comment(t)]
            return self._listing(answers, query, inbox="comment_reply")
        if path == "/api/info":
            return self._info(query.get("id", "").split(","))
        if parts[0] == "user" and parts[2:] == ["comments"]:
            name = parts[1].lower()
            ours = [t for t in self._listed("t1") if str(t.data.get("author", "")).lower() == name]
            return self._listing(ours, query)
        return None

    def _info(self, names: list[str]) -> dict[str, Any]:
        """The things named that still exist, listed or held, in the order named: one page, however
        many (Reddit takes up to 100 and ignores ``limit`` here)."""
        by_name = {thing.fullname: thing for thing in self.things}
        found = [by_name[name] for name in names if name in by_name]
        children = [{"kind": thing.kind, "data": dict(thing.data)} for thing in found]
        return {
            "kind": "Listing",
            "data": {"after": None, "before": None, "dist": len(found), "children": children},
        }

    def _answers_our_comment(self, thing: Thing) -> bool:
        parent = str(thing.data.get("parent_id", ""))
        return parent.startswith("t1_") and not self._ours(thing) and self._ours(self.thing(parent))

    def _subreddit_listing(self, listing: str, subreddits: set[str], query: dict[str, str]) -> list[Thing]:
        anywhere = "all" in subreddits or query.get("restrict_sr") not in {"on", "1", "true", "True"}
        things = [
            t
            for t in self.things
            if t.listed and ((listing == "search" and anywhere) or t.subreddit in subreddits)
        ]
        if listing == "comments":
            return [t for t in things if t.kind == "t1"]
        things = [t for t in things if t.kind == "t3"]
        if listing == "search":
            terms = [term.strip().strip('"').lower() for term in query.get("q", "").split(" OR ")]
            return [t for t in things if any(term and term in _searchable(t) for term in terms)]
        return things

    def _listing(self, things: list[Thing], query: dict[str, str], *, inbox: str = "") -> dict[str, Any]:
        newest_first = sorted(things, key=lambda thing: thing.seq, reverse=True)
        names = [thing.fullname for thing in newest_first]
        start = names.index(query["after"]) + 1 if query.get("after") in names else 0
        size = min(int(query.get("limit", 25)), MAX_PAGE, self.page_size)
        page = newest_first[start : start + size]
        more = start + size < len(newest_first)
        children = [{"kind": thing.kind, "data": self._child(thing, inbox=inbox)} for thing in page]
        after = page[-1].fullname if more and page else None
        return {
            "kind": "Listing",
            "data": {"after": after, "before": None, "dist": len(page), "children": children},
        }

    def _child(self, thing: Thing, *, inbox: str) -> dict[str, Any]:
        """The thing as listed; in the inbox (a message of type ``inbox``) with its context instead
        of its permalink and its thread, as Reddit lists it there."""
        if not inbox:
            return dict(thing.data)
        data = {key: value for key, value in thing.data.items() if key not in {"permalink", "link_id"}}
        submission = self.thing(thing.data["link_id"])
        context = f"{submission.data['permalink']}{thing.data['id']}/?context=3"
        return {
            **data,
            "context": context,
            "was_comment": True,
            "type": inbox,
            "new": True,
            "subject": inbox.replace("_", " "),
            "dest": self.username,
        }

    def _reply(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        parent = form["thing_id"]
        if parent in self.deleted:
            kind = "DELETED_COMMENT" if parent.startswith("t1_") else "DELETED_LINK"
            return 200, {}, {"json": {"errors": [[kind, "that was deleted", "parent"]]}}
        with self._lock:
            refusal = self._reply_refusals.pop(0) if self._reply_refusals else None
        if refusal:
            return 200, {}, {"json": {"errors": [refusal]}}
        fullname = self.add_comment(parent, form["text"], author=self.username)
        self.replies.append({"parent": parent, "text": form["text"], "id": fullname})
        with self._lock:
            fault = self._reply_faults.pop(0) if self._reply_faults else ReplyFault()
        if fault.delay and self._server:
            self._server.stopping.wait(fault.delay)  # released at once when the fake stops
        if fault.status:
            return fault.status, {}, {"message": "posted, but the gateway gave up", "error": fault.status}
        data = dict(self.thing(fullname).data)
        return 200, {}, {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}


def _searchable(thing: Thing) -> str:
    return f"{thing.data.get('title', '')} {thing.data.get('selftext', '')}".lower()


RATE_LIMIT_HEADERS = {"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "60"}


def _handler(fake: FakeReddit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer("GET", {})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            self._answer("POST", dict(parse_qsl(body, keep_blank_values=True)))

        def _answer(self, method: str, form: dict[str, str]) -> None:
            parts = urlsplit(self.path)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, payload = fake.handle(
                method, parts.path, dict(parse_qsl(parts.query)), form, headers
            )
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                for key, value in {**fake.quota_headers, **extra}.items():
                    self.send_header(key, value)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(body)))
                if self.close_connection:
                    # prawcore asks for "Connection: close" on token requests; a real server says
                    # so in its answer, or the client would reuse a connection about to be closed.
                    self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
