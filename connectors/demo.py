"""The demo platform: replays bundled posts as if they were arriving now.

It lets a newcomer see the care desk work with no credentials. Posts are
released a few per minute from the moment the source first polls (after an
initial burst, so the queue is never empty), with timestamps shifted to the
present; when the set runs out it starts again under fresh ids. Replies are
appended to a JSON Lines file: the demo platform's record of what it was sent.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector
from social_care.posts import Author, Batch, Post, Rejected, ThreadRef
from social_care.resources import bundled


class DemoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    posts_file: str = ""
    replies_file: str = "demo-replies.jsonl"
    initial_burst: int = Field(default=12, ge=0)
    per_minute: float = Field(default=4.0, gt=0)
    loop: bool = True


class DemoConnector(Connector):
    platform: ClassVar[str] = "demo"
    reply_max_length: ClassVar[int] = 280
    auto_reply_allowed: ClassVar[bool] = True
    auto_reply_requires_direct: ClassVar[bool] = True
    Options: ClassVar[type[BaseModel]] = DemoOptions

    _replies_lock = threading.Lock()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        options = self.options
        assert isinstance(options, DemoOptions)
        path = Path(options.posts_file) if options.posts_file else bundled("config") / "demo" / "posts.jsonl"
        self._lines = path.read_text(encoding="utf-8").splitlines()
        self._replies = Path(options.replies_file)
        self._roots = _conversation_roots(self._lines)

    def fetch(self, cursor: str | None) -> Batch:
        self.before_request()  # one call to the demo platform, under the source's rate limit like any other
        now = self.clock()
        start, released = _read_cursor(cursor, now)
        due = self._due(start, now)
        posts: list[Post] = []
        rejected: list[Rejected] = []
        for number in range(released, due):
            line = self._lines[number % len(self._lines)]
            try:
                posts.append(self._post(line, number, self._released_at(start, number)))
            except (ValueError, KeyError, TypeError) as error:
                rejected.append(Rejected(f"demo line {number % len(self._lines) + 1}: {error}", line))
        return Batch(posts=posts, cursor=_write_cursor(start, max(due, released)), rejected=rejected)

    def reply(self, to: str, text: str) -> str:
        self.before_request()
        reply_id = f"demo-reply-{uuid.uuid4().hex[:12]}"
        record = {"id": reply_id, "in_reply_to": to, "text": text, "at": self.clock().isoformat()}
        with self._replies_lock:
            self._replies.parent.mkdir(parents=True, exist_ok=True)
            with self._replies.open("a", encoding="utf-8") as replies:
                replies.write(json.dumps(record, ensure_ascii=False) + "\n")
        return reply_id

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        self.before_request()
        with self._replies_lock:
            if not self._replies.exists():
                return None
            lines = self._replies.read_text(encoding="utf-8").splitlines()
        for line in lines:
            record = json.loads(line)
            if record["in_reply_to"] == to and str(record["id"]) not in exclude:
                return str(record["id"])
        return None

    def _due(self, start: datetime, now: datetime) -> int:
        options = self.options
        assert isinstance(options, DemoOptions)
        minutes = max((now - start).total_seconds(), 0) / 60
        due = options.initial_burst + math.floor(minutes * options.per_minute)
        return due if options.loop else min(due, len(self._lines))

    def _released_at(self, start: datetime, number: int) -> datetime:
        options = self.options
        assert isinstance(options, DemoOptions)
        after_burst = number - options.initial_burst
        if after_burst < 0:
            return start  # the first burst is written as the desk starts: its clocks start then too
        return start + timedelta(minutes=(after_burst + 1) / options.per_minute)

    def _post(self, line: str, number: int, created_at: datetime) -> Post:
        record = json.loads(line)
        suffix = "" if number < len(self._lines) else f"-r{number // len(self._lines)}"
        author = record["author"]
        parent = f"{record['reply_to']}{suffix}" if record.get("reply_to") else None
        root = f"{self._roots.get(record['reply_to'], record['reply_to'])}{suffix}" if parent else None
        return Post(
            external_id=f"{record['id']}{suffix}",
            author=Author(
                id=str(author["id"]),
                handle=str(author["handle"]),
                name=str(author.get("name", "")),
                followers=int(author["followers"]) if author.get("followers") is not None else None,
            ),
            text=str(record["text"]),
            created_at=created_at,
            language=record.get("lang"),
            thread=ThreadRef(thread_id=root, parent_id=parent),
            direct=bool(record.get("direct", False)),
            is_retweet=bool(record.get("retweet", False)),
            raw=record,
        )


def _conversation_roots(lines: list[str]) -> dict[str, str]:
    """Each post id -> the id of the post that started its conversation (malformed lines skipped)."""
    parents: dict[str, str | None] = {}
    for line in lines:
        try:
            record = json.loads(line)
            parents[str(record["id"])] = record.get("reply_to")
        except (ValueError, KeyError, TypeError):
            continue
    roots = {}
    for post_id in parents:
        root, seen = post_id, {post_id}
        while (parent := parents.get(root)) and parent not in seen:
            root = parent
            seen.add(root)
        roots[post_id] = root
    return roots


def _read_cursor(cursor: str | None, now: datetime) -> tuple[datetime, int]:
    if not cursor:
        return now, 0
    state = json.loads(cursor)
    return datetime.fromisoformat(state["start"]).astimezone(UTC), int(state["released"])


def _write_cursor(start: datetime, released: int) -> str:
    return json.dumps({"start": start.isoformat(), "released": released})
