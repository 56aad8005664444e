"""The HTTP session under tweepy: X's host rewritten to the source's base URL, a timeout, rate limits noted.

tweepy sends every request to a fixed host and drops the ``x-rate-limit-*``
headers; this session is what lets a proxy or a test server stand in for X, and
lets the poller slow down before a 429 rather than after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

TWEEPY_HOST = "https://api.twitter.com"


@dataclass(frozen=True)
class RateLimit:
    """The last ``x-rate-limit-*`` headers seen for one endpoint."""

    limit: int
    remaining: int
    resets_at: datetime


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's calls to ``base_url``, with a timeout, noting rate limits."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.rate_limits: dict[str, RateLimit] = {}
        self.hooks["response"].append(self._note_rate_limit)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if isinstance(request.url, str) and request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url.removeprefix(TWEEPY_HOST)
        return super().prepare_request(request)

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().request(*args, **kwargs)

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
        path = urlsplit(response.url).path
        base_path = urlsplit(self.base_url).path
        self.rate_limits[path.removeprefix(base_path)] = limit
