"""Small, exact sets of demo posts for tests that need to know every post."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from social_care.config import Config
from tests.support.configs import Raw, demo_config


def post(
    post_id: str,
    text: str,
    *,
    handle: str = "anna_b",
    author_id: str | None = None,
    name: str = "Anna Bruni",
    followers: int = 120,
    lang: str | None = None,
    direct: bool = False,
    reply_to: str | None = None,
    retweet: bool = False,
) -> dict[str, Any]:
    return {
        "id": post_id,
        "author": {"id": author_id or f"id-{handle}", "handle": handle, "name": name, "followers": followers},
        "text": text,
        "lang": lang,
        "direct": direct,
        "reply_to": reply_to,
        "retweet": retweet,
    }


def scenario_config(tmp_path: Path, posts: list[dict[str, Any]], **options: Any) -> Config:
    """The demo configuration replaying exactly ``posts``, all released at the first poll."""
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in posts), encoding="utf-8")

    def change(raw: Raw) -> None:
        source = raw["sources"][0]
        source["options"].update(
            {"posts_file": str(path), "initial_burst": len(posts), "loop": False, **options}
        )

    return demo_config(tmp_path, change)
