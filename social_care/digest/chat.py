"""The digest's short version in chat (Slack, Teams, Matrix, ...): its subject line and a link.

apprise speaks each service's protocol from one URL per destination; the URLs
hold tokens, so they come from the environment variable ``[digest]
chat_urls_env`` names, read once at start, never from the file and never
logged. A chat message is a courtesy beside the mail: it is posted once, after
the mail is queued, and a failure is recorded on the digest run, not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from social_care.config.models import DigestSettings
from social_care.config.secrets import MissingSecret, read_secret

log = logging.getLogger(__name__)
SENT = "sent"


@dataclass(frozen=True)
class ChatMessage:
    title: str
    body: str


def chat_message(subject: str, archive_url: str) -> ChatMessage:
    """What a chat shows: the mail's one-line subject (the day in figures) and where to read the rest."""
    return ChatMessage(title=subject, body=f"{subject}\n{archive_url}")


class Chat:
    """Posts to every configured destination at once; says how it went, as a digest run records it."""

    def __init__(self, urls: list[str]) -> None:
        self._urls = urls

    def post(self, message: ChatMessage) -> str:
        """``sent``, or ``failed: ...`` saying how many destinations did not take it."""
        import apprise  # only a desk that posts to chat needs it loaded

        destinations = apprise.Apprise()
        refused = [number for number, url in enumerate(self._urls, 1) if not destinations.add(url)]
        if refused:
            # apprise names the URL in its own log; ours must not, it holds tokens.
            return (
                f"failed: URL number {', '.join(map(str, refused))} in chat_urls_env is not one apprise reads"
            )
        if destinations.notify(body=message.body, title=message.title):
            return SENT
        return f"failed: {len(self._urls)} chat destination(s) did not all take the message"


def chat_from(settings: DigestSettings, environ: Mapping[str, str]) -> Chat | None:
    """The chat destinations configured, or None when there are none (no variable named, or empty)."""
    if settings.chat_urls_env is None:
        return None
    try:
        urls = read_secret(settings.chat_urls_env, environ).get_secret_value().split()
    except MissingSecret:
        log.warning("%s is not set: the digest goes by e-mail only", settings.chat_urls_env)
        return None
    return Chat(urls) if urls else None
