"""The platform-neutral shape of a post: what every connector translates into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The longest post text the desk takes in, in characters. No platform we read allows more (a Reddit
#: submission's body holds 40,000, a long X post 25,000); a longer one is a malformed payload, or an
#: attempt to make matching and classification slow. Connectors reject it, ``classify`` skips it.
MAX_POST_TEXT = 40_000


class TextTooLong(ValueError):
    """A post's text is longer than :data:`MAX_POST_TEXT`."""

    def __init__(self, length: int) -> None:
        super().__init__(f"the text is {length:,} characters long, more than the {MAX_POST_TEXT:,} allowed")


@dataclass(frozen=True)
class Author:
    id: str
    handle: str
    name: str = ""
    followers: int | None = None


@dataclass(frozen=True)
class ThreadRef:
    """Where a post sits in a conversation: the conversation's root and the post answered."""

    thread_id: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class Post:
    external_id: str
    author: Author
    text: str
    created_at: datetime
    url: str = ""
    language: str | None = None
    thread: ThreadRef = ThreadRef()
    direct: bool = False
    is_retweet: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every connector builds its posts here and rejects a payload whose post raises ValueError.
        if len(self.text) > MAX_POST_TEXT:
            raise TextTooLong(len(self.text))


@dataclass(frozen=True)
class Rejected:
    """A payload the connector could not turn into a post; it is recorded, never dropped."""

    reason: str
    payload: str


@dataclass(frozen=True)
class Batch:
    """What one fetch returned: posts in platform order, rejects, and the cursor after them."""

    posts: list[Post]
    cursor: str | None
    rejected: list[Rejected] = field(default_factory=list)
    reads: int | None = None  # billable reads, when the platform counts otherwise than one per item
    # The platform's remaining request quota asks for no poll before this (see connectors.base.quota_pause).
    poll_again_after: datetime | None = None

    @property
    def billed_reads(self) -> int:
        return self.reads if self.reads is not None else len(self.posts) + len(self.rejected)
