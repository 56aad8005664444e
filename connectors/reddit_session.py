"""The HTTP side of the Reddit connector: the requestor under praw, the quota it reads, and what a
failed call means.

Every request goes through one requestor (praw's ``requestor_class``) that
- calls the source's request gate first (``before_request``: the rate limit shared by workers);
- applies our timeout, where prawcore's Session would pass its own 16 s;
- fails at once on a 5xx, a timeout or a lost connection, where prawcore would retry twice with
  sleeps of up to about 6 s: the poller's or the outbox's own backoff retries, on its clock. A
  reply (a POST) that may have reached Reddit says so (``outcome_unknown``), so the outbox looks
  for it before sending it again;
- answers a 429 with exactly the wait Reddit asked for (``retry-after``, else ``x-ratelimit-reset``);
- notes Reddit's ``x-ratelimit-*`` headers for the fetch running in the same thread
  (:class:`TrafficMeter`), so that once less than half the window's requests are left a fetch
  spreads the rest over the polls to come (``Batch.poll_again_after``), before Reddit answers 429;
  then hides them from prawcore, whose rate limiter would otherwise sleep inside the call (up to
  10 s a request, or until the reset): the service paces the source instead.

Whatever praw or prawcore raises besides becomes a :class:`~connectors.base.ConnectorError`
(:func:`translated_errors`): permanent when Reddit refused our credentials, for this post alone
when Reddit will never take a reply to it, waiting what Reddit asked when it refused our account
for posting too fast (RATELIMIT), transient otherwise.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.base import BeforeRequest, Clock, ConnectorError, quota_pause

TOO_MANY_REQUESTS = 429
SERVER_ERROR = 500
QUOTA_HEADERS = ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset")
QUOTA_WATCHED_BELOW = 0.5  # of the window's requests left: from there on polls share what is left
# Reddit's error types for a reply that can never be posted to that thing.
POST_REFUSALS = {"DELETED_COMMENT", "DELETED_LINK", "THREAD_LOCKED", "TOO_OLD", "SUBREDDIT_NOTALLOWED"}
# Reddit's refusal of an account posting too fast: "you are doing that too much. try again in 9 minutes."
RATELIMIT_WAIT = re.compile(r"(\d+) (millisecond|second|minute|hour)s?\b")
RATELIMIT_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}


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


def requestor_class() -> type[Any]:
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


# -- what praw's and prawcore's exceptions mean ----------------------------


@contextmanager
def translated_errors(*, replying_to: str | None = None) -> Iterator[None]:
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
