"""The HTTP side of the X connector: the session under tweepy, and what a failed call means.

tweepy sends every request to a fixed host and drops the ``x-rate-limit-*``
headers; this session is what lets a proxy or a test server stand in for X,
lets the service's rate-limit gate hold each request back until the source may
make it, and lets the poller slow down before a 429 rather than after.

A failed call becomes a :class:`~connectors.base.ConnectorError`: permanent
when X refused our keys or the request itself, transient otherwise; and for a
reply, of unknown outcome when X may have received it and acted on it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from connectors.base import BeforeRequest, ConnectorError, no_wait

TWEEPY_HOST = "https://api.twitter.com"
# What X says in a 403 that concerns one reply rather than our account.
REPLY_REFUSALS = ("deleted or not visible", "reply to this conversation is not allowed", "duplicate content")
# How deep to look into requests' wrapping of urllib3's errors for the failed connect.
_WRAPPING_DEPTH = 4
# Failures that can only happen once an answer arrived (the request was carried out, its answer is
# unreadable), and a timeout waiting for one (a connect timeout is told apart first).
_SENT_BUT_UNANSWERED = (
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.JSONDecodeError,
)


@dataclass(frozen=True)
class RateLimit:
    """The last ``x-rate-limit-*`` headers seen for one endpoint."""

    limit: int
    remaining: int
    resets_at: datetime


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's calls to ``base_url``, with a timeout, noting rate limits.

    ``before_request`` is called before every HTTP request goes out (in :meth:`send`,
    which redirects pass through too), so the source's request gate sees each one.
    """

    def __init__(self, base_url: str, timeout: float, before_request: BeforeRequest = no_wait) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.before_request = before_request
        self.rate_limits: dict[str, RateLimit] = {}
        self.hooks["response"].append(self._note_rate_limit)
        self._counting = threading.local()

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if isinstance(request.url, str) and request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url.removeprefix(TWEEPY_HOST)
        return super().prepare_request(request)

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().request(*args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.before_request()
        counts: Counter[str] | None = getattr(self._counting, "counts", None)
        if counts is not None:
            counts[self.endpoint(request.url or "")] += 1
        return super().send(request, **kwargs)

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """Count the requests this thread sends inside the block, per endpoint path.

        Per thread, so that a reply sent meanwhile from another thread on the same
        connector does not count as part of a fetch.
        """
        counts: Counter[str] = Counter()
        self._counting.counts = counts
        try:
            yield counts
        finally:
            self._counting.counts = None

    def endpoint(self, url: str) -> str:
        """The endpoint path of ``url`` (``/2/tweets/search/recent``), as :attr:`rate_limits` keys it."""
        return urlsplit(url).path.removeprefix(urlsplit(self.base_url).path)

    def _note_rate_limit(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        headers = response.headers
        try:
            limit = RateLimit(
                limit=int(headers["x-rate-limit-limit"]),
                remaining=int(headers["x-rate-limit-remaining"]),
                resets_at=datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC),
            )
        except (KeyError, ValueError):
            return
        self.rate_limits[self.endpoint(response.url)] = limit


# -- what a failed call means ----------------------------------------------


def failure(error: Exception, *, where: str, timeout: float, now: datetime) -> ConnectorError | None:
    """The ConnectorError for a tweepy or requests failure (``None`` for anything else).

    X refusing our keys or the request (401, 403, 400, 404) is permanent; a 429
    waits until X's reset; a 5xx and network trouble are transient.
    """
    import tweepy

    if isinstance(error, tweepy.HTTPException):
        return _refusal(error, where=where, now=now)
    if isinstance(error, requests.ConnectTimeout):
        return ConnectorError(f"{where}: no connection within {timeout}s")
    if isinstance(error, requests.Timeout):
        return ConnectorError(f"{where}: no answer within {timeout}s")
    if isinstance(error, requests.RequestException):
        return ConnectorError(f"{where}: {type(error).__name__}: {error}")
    return None


def reply_failure(error: Exception, translated: ConnectorError, to: str) -> ConnectorError:
    """What a failed reply means: refused for this post alone, perhaps posted, or as any other call."""
    if _refuses_only_this_post(error):
        return ConnectorError(f"{translated} (replying to {to})", permanent=True, only_this_post=True)
    if _may_have_posted(error):
        return ConnectorError(
            f"{translated} (replying to {to}; the reply may have been posted)",
            retry_after=translated.retry_after,
            outcome_unknown=True,
        )
    return translated


def _refusal(error: Any, *, where: str, now: datetime) -> ConnectorError:
    import tweepy

    if isinstance(error, tweepy.TooManyRequests):
        return ConnectorError(f"{where}: rate limited", retry_after=_retry_after(error, now))
    if isinstance(error, tweepy.Unauthorized | tweepy.Forbidden | tweepy.BadRequest | tweepy.NotFound):
        return ConnectorError(f"{where}: {error.response.status_code} {error}", permanent=True)
    return ConnectorError(f"{where}: {error}")


def _retry_after(error: Any, now: datetime) -> float | None:
    reset = error.response.headers.get("x-rate-limit-reset")
    if reset is None or not str(reset).isdigit():
        return None
    return max(int(reset) - now.timestamp(), 0.0)


def _refuses_only_this_post(error: Exception) -> bool:
    """X refused this reply, not our account: the post is gone or closed to us, or the reply is invalid.

    Any other 403 (the app lacks write permission, the account is suspended or not
    enrolled) is the source's problem.
    """
    import tweepy

    if isinstance(error, tweepy.BadRequest | tweepy.NotFound):
        return True
    if isinstance(error, tweepy.Forbidden):
        said = " ".join(str(message) for message in error.api_messages).lower()
        return any(phrase in said for phrase in REPLY_REFUSALS)
    return False


def _may_have_posted(error: Exception) -> bool:
    """X answered 5xx (it may have posted before failing), or the request went out and its answer
    was lost. A 4xx or a 429 is a refusal X stated: nothing was posted."""
    import tweepy

    if isinstance(error, tweepy.TwitterServerError):
        return True
    return isinstance(error, requests.RequestException) and may_have_been_carried_out(error)


def may_have_been_carried_out(error: requests.RequestException) -> bool:
    """Whether X may have received a failed request whole, and so may have acted on it.

    Only a connection never made (refused, no such host, no answer to the connect
    within the timeout) proves that nothing was sent. A timeout while waiting for the
    answer, a connection lost after sending ("Connection aborted"), or an answer that
    arrived unreadable leave it open: the request may have been carried out. Errors
    raised while building a request (a bad URL) sent nothing either.
    """
    if isinstance(error, requests.ConnectTimeout):
        return False
    if isinstance(error, requests.ConnectionError):
        return not _never_connected(error)
    return isinstance(error, _SENT_BUT_UNANSWERED)


def _never_connected(error: BaseException, depth: int = 0) -> bool:
    """A connect that failed, found inside requests' wrapping (``ConnectionError(MaxRetryError(reason))``).

    urllib3's refused connection and failed name lookup (``NewConnectionError``) are
    kinds of ``ConnectTimeoutError``.
    """
    if isinstance(error, ConnectTimeoutError):
        return True
    if depth > _WRAPPING_DEPTH:
        return False
    inner = [getattr(error, "reason", None), error.__cause__, *error.args]
    return any(isinstance(cause, BaseException) and _never_connected(cause, depth + 1) for cause in inner)
