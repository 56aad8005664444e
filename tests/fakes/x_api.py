"""A small X API v2 on 127.0.0.1: the parts the X connector uses, with state the test controls.

It serves recent search (``since_id``, ``next_token``, ``max_results``), the
mentions timeline and a user's own tweets (``since_id``, ``pagination_token``),
the ``author_id`` and ``referenced_tweets.id`` expansions, the user look-up by
username (an unknown name is X's 200 with ``errors`` and no ``data``), the tweet
look-up by ids (``GET /2/tweets?ids=``: the tweets still visible in ``data``, and
for each other one X's problem in ``errors``: not found once deleted, not
authorized once its author made the account private), and
``POST /2/tweets``, which records replies. Reads need the bearer token; posting
needs a valid OAuth 1.0a signature over the address actually called. Every
response carries ``x-rate-limit-*`` headers; a test can make one endpoint report
its quota nearly spent. Failures are scripted: the next request (optionally
only for one path) gets a 429 with a reset time, a 5xx, a 401/403, or a
response slower than the client is willing to wait. A reply can also be posted
and then answered too late, with a 5xx, or not at all (the connection dropped):
the faults that leave the client not knowing it was posted. A reply to a
deleted tweet is refused with X's 403. A protected author's tweets drop out of
search and timelines.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature

from tests.fakes.loopback import Loopback

Clock = Callable[[], datetime]
REPLY_TO_DELETED = "You attempted to reply to a Tweet that is deleted or not visible to you."
RATE_LIMITS = {
    "search": 450,
    "mentions": 450,
    "tweets": 900,
    "post": 200,
    "lookup": 300,
    "lookup_tweets": 900,
}
PROBLEMS = "https://api.twitter.com/2/problems/"
LOOKUP_MAX_IDS = 100
ENDPOINTS = [  # (method, or None for any; path pattern; endpoint name)
    ("POST", r"/2/tweets", "post"),
    ("GET", r"/2/tweets", "lookup_tweets"),
    (None, r"/2/tweets/search/recent", "search"),
    (None, r"/2/users/\d+/mentions", "mentions"),
    (None, r"/2/users/\d+/tweets", "tweets"),
    (None, r"/2/users/by/username/[^/]+", "lookup"),
]
HANG_UP = 0  # the status of an answer never given: the connection is closed instead
TWEET_FIELD_NAMES = {
    "author_id",
    "created_at",
    "lang",
    "conversation_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "entities",
}


@dataclass
class Scripted:
    """One response the fake gives instead of the real one (or before it, when ``delay`` is set).

    ``carried_out``: the request is carried out first (a reply is posted), and only
    then comes the delay and the scripted status (``HANG_UP``: no answer at all).
    """

    status: int = 200
    reset_in: int | None = None
    delay: float = 0.0
    path: str | None = None
    carried_out: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: datetime | None = None  # the fake's clock when the request arrived


@dataclass
class Stored:
    """A tweet as the fake knows it; ``payload`` is what the API returns (possibly made malformed)."""

    tweet_id: str
    author_id: str
    text: str
    payload: dict[str, Any]
    retweet: bool = False

    @property
    def number_id(self) -> int:
        return int(self.tweet_id)


@dataclass
class Credentials:
    bearer_token: str = "bearer-secret"
    consumer_key: str = "consumer-key"
    consumer_secret: str = "consumer-secret"
    access_token: str = "access-token"
    access_token_secret: str = "access-secret"


@dataclass
class FakeX:
    """The fake platform's state. ``start()`` serves it; ``url`` is its base address."""

    clock: Clock
    account: str = "velora"
    account_id: str = "1000"
    credentials: Credentials = field(default_factory=Credentials)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: list[Stored] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    remaining: dict[str, int] = field(default_factory=lambda: dict(RATE_LIMITS))
    protected: set[str] = field(default_factory=set)  # user ids
    lookup_problems: dict[str, str] = field(default_factory=dict)  # tweet id -> problem type

    def __post_init__(self) -> None:
        self.users[self.account_id] = _user(self.account_id, self.account, "Velora", 52000)
        self._lock = threading.Lock()
        self._server: Loopback | None = None
        self._next_id = 1_800_000_000_000_000_000

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeX:
        self._server = Loopback(_handler_for(self))
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    @property
    def url(self) -> str:
        assert self._server
        return self._server.base_url

    # -- what the test arranges ---------------------------------------------

    def add_user(self, username: str, *, name: str = "", followers: int = 10) -> str:
        user_id = str(2000 + len(self.users))
        self.users[user_id] = _user(user_id, username, name or username.title(), followers)
        return user_id

    def add_tweet(
        self,
        author: str,
        text: str,
        *,
        reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        lang: str = "en",
        drop: tuple[str, ...] = (),
    ) -> str:
        """Post a tweet as ``author`` (a username); ``drop`` removes fields to make it malformed."""
        author_id = self._user_id(author) or self.add_user(author)
        with self._lock:
            tweet_id = self._new_id()
            payload = self._payload(
                tweet_id=tweet_id,
                author_id=author_id,
                text=text,
                lang=lang,
                reply_to=reply_to,
                quote_of=quote_of,
                retweet_of=retweet_of,
            )
            for name in drop:
                payload.pop(name, None)
            self.tweets.append(Stored(tweet_id, author_id, text, payload, retweet=retweet_of is not None))
        return tweet_id

    def delete_tweet(self, tweet_id: str) -> None:
        """The author deleted it: it is no longer listed, replying to it is refused with a 403, and a
        look-up answers that it cannot be found."""
        with self._lock:
            self.tweets = [stored for stored in self.tweets if stored.tweet_id != tweet_id]

    def protect_user(self, user_id: str) -> None:
        """The user made their account private: their tweets leave search and timelines, and a
        look-up answers that we are not authorized to see them."""
        with self._lock:
            self.protected.add(user_id)

    def fail_lookup_of(self, tweet_id: str, problem_type: str) -> None:
        """Look-ups answer for ``tweet_id`` with a problem of ``problem_type`` (a URI, or its last part)."""
        with self._lock:
            self.lookup_problems[tweet_id] = problem_type

    def fail_next(self, status: int, *, reset_in: int | None = None, path: str | None = None) -> None:
        self.script.append(Scripted(status=status, reset_in=reset_in, path=path))

    def delay_next(self, seconds: float, *, path: str | None = None) -> None:
        self.script.append(Scripted(delay=seconds, path=path))

    def answer_next_reply_late(self, delay: float) -> None:
        """Post the next reply, then answer only after ``delay`` seconds (longer than the client waits)."""
        self.script.append(Scripted(delay=delay, path="/2/tweets", carried_out=True))

    def fail_next_reply_after_posting(self, status: int) -> None:
        """Post the next reply, then answer ``status`` (a 5xx) as if it had failed."""
        self.script.append(Scripted(status=status, path="/2/tweets", carried_out=True))

    def drop_next_reply_after_posting(self) -> None:
        """Post the next reply, then close the connection without answering."""
        self.script.append(Scripted(status=HANG_UP, path="/2/tweets", carried_out=True))

    def report_quota(self, endpoint: str, remaining: int) -> None:
        """The next answer of ``endpoint`` (a key of ``RATE_LIMITS``) says
        ``remaining`` requests are left until the reset, 15 minutes away."""
        with self._lock:
            self.remaining[endpoint] = remaining + 1

    def queries(self) -> list[str]:
        return [
            request.params["query"] for request in self.requests if request.path == "/2/tweets/search/recent"
        ]

    def reset_epoch(self) -> int:
        return int((self.clock() + timedelta(minutes=15)).timestamp())

    # -- serving -------------------------------------------------------------

    def _user_id(self, username: str) -> str | None:
        return next(
            (uid for uid, user in self.users.items() if user["username"] == username.lstrip("@")), None
        )

    def _new_id(self) -> str:
        self._next_id += 1000 + len(self.tweets)
        return str(self._next_id)

    def _payload(
        self,
        *,
        tweet_id: str,
        author_id: str,
        text: str,
        lang: str,
        reply_to: str | None,
        quote_of: str | None,
        retweet_of: str | None,
    ) -> dict[str, Any]:
        created = self.clock() + timedelta(seconds=len(self.tweets))
        payload: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "lang": lang,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": tweet_id,
        }
        references = []
        if reply_to:
            parent = self._find(reply_to)
            references.append({"type": "replied_to", "id": reply_to})
            payload["conversation_id"] = parent["conversation_id"] if parent else reply_to
            payload["in_reply_to_user_id"] = parent["author_id"] if parent else None
        if quote_of:
            references.append({"type": "quoted", "id": quote_of})
        if retweet_of:
            references.append({"type": "retweeted", "id": retweet_of})
        if references:
            payload["referenced_tweets"] = references
        mentions = [
            {"start": m.start(), "end": m.end(), "username": m.group(1), "id": self._user_id(m.group(1))}
            for m in re.finditer(r"@(\w+)", text)
        ]
        if mentions:
            payload["entities"] = {"mentions": mentions}
        return payload

    def _find(self, tweet_id: str) -> dict[str, Any] | None:
        return next((stored.payload for stored in self.tweets if stored.payload.get("id") == tweet_id), None)

    def handle(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: dict[str, Any] | None,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(Recorded(method, path, params, headers, body, at=self.clock()))
            scripted = next((s for s in self.script if s.path in (None, path)), None)
            if scripted:
                self.script.remove(scripted)
        before = scripted if scripted and not scripted.carried_out else None
        after = scripted if scripted and scripted.carried_out else None
        self._wait(before)
        endpoint = _endpoint(method, path)
        limits = self._limit_headers(endpoint, scripted)
        if before and before.status != 200:
            return before.status, limits, _problem(before.status)
        if not self._authorised(method, path, params, headers):
            return 401, limits, _problem(401)
        with self._lock:
            status, answer = self._answer(endpoint, path, params, body)
        self._wait(after)
        if after and after.status != 200:
            return after.status, limits, _problem(after.status)
        return status, limits, answer

    def _wait(self, scripted: Scripted | None) -> None:
        if scripted and scripted.delay:
            assert self._server
            self._server.stopping.wait(scripted.delay)

    def _limit_headers(self, endpoint: str, scripted: Scripted | None) -> dict[str, str]:
        with self._lock:
            self.remaining[endpoint] = max(self.remaining.get(endpoint, 0) - 1, 0)
            remaining = self.remaining[endpoint]
        reset = self.reset_epoch()
        if scripted and scripted.status == 429:
            remaining = 0
            reset = int(self.clock().timestamp()) + (scripted.reset_in or 0)
        return {
            "x-rate-limit-limit": str(RATE_LIMITS.get(endpoint, 100)),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }

    def _authorised(self, method: str, path: str, params: dict[str, str], headers: dict[str, str]) -> bool:
        authorization = headers.get("authorization", "")
        if method == "GET":
            return authorization == f"Bearer {self.credentials.bearer_token}"
        if not authorization.startswith("OAuth "):
            return False
        oauth = dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))
        query = "&".join(f"{key}={value}" for key, value in params.items())
        request = OAuthRequest(f"http://{headers['host']}{path}" + (f"?{query}" if query else ""), method)
        request.params = signature.collect_parameters(
            uri_query=urlsplit(request.uri).query,
            headers={"Authorization": authorization},
            exclude_oauth_signature=True,
        )
        request.signature = oauth.get("oauth_signature", "")
        return oauth.get(
            "oauth_consumer_key"
        ) == self.credentials.consumer_key and signature.verify_hmac_sha1(
            request, self.credentials.consumer_secret, self.credentials.access_token_secret
        )

    def _answer(
        self, endpoint: str, path: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        if endpoint == "post":
            return self._reply(body or {})
        if endpoint == "search":
            return self._page(params, lambda stored: _matches(params.get("query", ""), stored), "next_token")
        if endpoint == "lookup":
            return self._look_up(path.rsplit("/", 1)[-1])
        if endpoint == "lookup_tweets":
            return self._look_up_tweets(params)
        if endpoint in ("mentions", "tweets"):
            return self._timeline(endpoint, path.split("/")[3], params)
        return 404, _problem(404)

    def _reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if parent and self._find(parent) is None:
            return 403, _problem(403, REPLY_TO_DELETED)
        return 201, self._create(body)

    def _timeline(self, endpoint: str, user_id: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """A user's mentions (tweets naming ``@username``) or own tweets, newest first."""
        if endpoint == "mentions":
            username = self.users.get(user_id, {}).get("username", "")
            return self._page(
                params, lambda stored: f"@{username}".lower() in stored.text.lower(), "pagination_token"
            )
        return self._page(params, lambda stored: stored.author_id == user_id, "pagination_token")

    def _look_up(self, username: str) -> tuple[int, dict[str, Any]]:
        """X answers an unknown username with a 200 that holds only ``errors``."""
        found = next(
            (user for user in self.users.values() if user["username"].lower() == username.lower()), None
        )
        if found:
            return 200, {"data": {key: found[key] for key in ("id", "name", "username")}}
        detail = f"Could not find user with username: [{username}]."
        problem = "https://api.twitter.com/2/problems/resource-not-found"
        error = {"value": username, "detail": detail, "title": "Not Found Error", "type": problem}
        return 200, {"errors": [{**error, "resource_type": "user", "parameter": "username"}]}

    def _look_up_tweets(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The visible tweets in ``data`` (left out when none is), a problem per other id in ``errors``."""
        ids = [tweet_id for tweet_id in params.get("ids", "").split(",") if tweet_id]
        if not 1 <= len(ids) <= LOOKUP_MAX_IDS:
            return 400, _problem(400, f"The number of values in `ids` [{len(ids)}] is not between 1 and 100")
        found = {stored.tweet_id: stored for stored in self.tweets}
        data, errors = [], []
        for tweet_id in ids:
            stored = found.get(tweet_id)
            if tweet_id in self.lookup_problems:
                errors.append(_tweet_problem(tweet_id, self.lookup_problems[tweet_id], "Error", "scripted"))
            elif stored is None:
                detail = f"Could not find tweet with ids: [{tweet_id}]."
                errors.append(_tweet_problem(tweet_id, "resource-not-found", "Not Found Error", detail))
            elif stored.author_id in self.protected:
                detail = f"Sorry, you are not authorized to see the Tweet with ids: [{tweet_id}]."
                errors.append(
                    _tweet_problem(tweet_id, "not-authorized-for-resource", "Authorization Error", detail)
                )
            else:
                data.append(self._shaped(stored.payload, params))
        return 200, {**({"data": data} if data else {}), **({"errors": errors} if errors else {})}

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        tweet_id = self._new_id()
        payload = self._payload(
            tweet_id=tweet_id,
            author_id=self.account_id,
            text=str(body.get("text", "")),
            lang="en",
            reply_to=parent,
            quote_of=None,
            retweet_of=None,
        )
        self.tweets.append(Stored(tweet_id, self.account_id, payload["text"], payload))
        self.replies.append({"id": tweet_id, "in_reply_to_tweet_id": parent, "text": payload["text"]})
        return {"data": {"id": tweet_id, "text": payload["text"], "edit_history_tweet_ids": [tweet_id]}}

    def _page(
        self, params: dict[str, str], wanted: Callable[[Stored], bool], token_name: str
    ) -> tuple[int, dict[str, Any]]:
        size = int(params.get("max_results", "10"))
        if not 5 <= size <= 100:
            return 400, _problem(400)
        since = int(params.get("since_id", "0"))
        before = int(params[token_name].removeprefix("before-")) if token_name in params else None
        found = [
            stored
            for stored in reversed(self.tweets)
            if wanted(stored)
            and stored.author_id not in self.protected
            and since < stored.number_id
            and (before is None or stored.number_id < before)
        ]
        page, more = found[:size], len(found) > size
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": str(page[0].number_id), "oldest_id": str(page[-1].number_id)}
        if more:
            meta["next_token"] = f"before-{page[-1].number_id}"
        answer: dict[str, Any] = {"meta": meta}
        if page:
            answer["data"] = [self._shaped(stored.payload, params) for stored in page]
            answer["includes"] = self._includes(page, params)
        return 200, answer

    def _shaped(self, payload: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        fields = set(params.get("tweet.fields", "").split(",")) | {"id", "text", "edit_history_tweet_ids"}
        if "author_id" in params.get("expansions", ""):
            fields.add("author_id")
        return {key: value for key, value in payload.items() if key in fields or key not in TWEET_FIELD_NAMES}

    def _includes(self, page: list[Stored], params: dict[str, str]) -> dict[str, Any]:
        expansions = params.get("expansions", "").split(",")
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            user_fields = set(params.get("user.fields", "").split(",")) | {"id", "username", "name"}
            authors = dict.fromkeys(stored.author_id for stored in page)
            includes["users"] = [
                {key: value for key, value in self.users[uid].items() if key in user_fields}
                for uid in authors
            ]
        if "referenced_tweets.id" in expansions:
            referenced = [ref["id"] for stored in page for ref in stored.payload.get("referenced_tweets", [])]
            tweets = [self._shaped(tweet, params) for ref in referenced if (tweet := self._find(ref))]
            if tweets:
                includes["tweets"] = tweets
        return includes


def _user(user_id: str, username: str, name: str, followers: int) -> dict[str, Any]:
    metrics = {"followers_count": followers, "following_count": 1, "tweet_count": 1, "listed_count": 0}
    return {"id": user_id, "username": username, "name": name, "public_metrics": metrics}


def _endpoint(method: str, path: str) -> str:
    """The name ``RATE_LIMITS`` and ``report_quota`` know the endpoint of a request by."""
    return next(
        (name for verb, pattern, name in ENDPOINTS if verb in (None, method) and re.fullmatch(pattern, path)),
        "other",
    )


def _matches(query: str, stored: Stored) -> bool:
    """Our subset of X's query language: ``(a OR "b c" OR @d) -is:retweet lang:xx``."""
    tokens = [token.strip('"') for token in re.findall(r'"[^"]*"|[^\s()]+', query) if token != "OR"]
    terms = [token for token in tokens if not re.match(r"-?\w+:", token)]
    if "-is:retweet" in tokens and stored.retweet:
        return False
    language = next((token.split(":", 1)[1] for token in tokens if token.startswith("lang:")), None)
    if language and stored.payload.get("lang") != language:
        return False
    return any(term.lower() in stored.text.lower() for term in terms)


def _tweet_problem(tweet_id: str, kind: str, title: str, detail: str) -> dict[str, Any]:
    """One tweet's partial error in a 200 look-up, as X words it; ``kind`` is a type URI or its last part."""
    return {
        "value": tweet_id,
        "detail": detail,
        "title": title,
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": tweet_id,
        "type": kind if "://" in kind else PROBLEMS + kind,
    }


def _problem(status: int, detail: str = "") -> dict[str, Any]:
    titles = {
        400: "Invalid Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    title = titles.get(status, "Error")
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


def _handler_for(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            self._serve(json.loads(self.rfile.read(length) or b"{}"))

        def _serve(self, body: dict[str, Any] | None) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query))
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, answer = fake.handle(self.command, url.path, params, headers, body)
            if status == HANG_UP:
                self.close_connection = True
                return
            content = json.dumps(answer).encode()
            try:
                self.send_response(status)
                for key, value in {**extra, "content-type": "application/json"}.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that was the point of a slow response

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
