"""X's tweets as platform-neutral posts: pages of API v2 results read, checked and normalised.

X returns a tweet's author and the tweets it quotes or answers apart from it, in
the page's ``includes``; reading a page joins them back to each tweet. A tweet
missing what a post needs (a numeric id, its text, its author) is rejected, and
still moves the cursor past it so it is not read again. Whether a tweet
addresses us (an @mention of our account, a reply to or a quote of one of our
tweets) is decided here too, from our account's id and username.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import Clock
from social_care.posts import Author, Post, Rejected, ThreadRef

# What every read asks for: what a post is built from.
TWEET_FIELDS = [
    "author_id",
    "created_at",
    "lang",
    "conversation_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "entities",
]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]


@dataclass(frozen=True)
class OurAccount:
    """Our account as tweets name it: its numeric ``id`` and its ``username`` in lower case, each
    "" when the configuration does not tell (then nothing is taken as addressing it that way)."""

    id: str
    username: str


def collect(
    pages: Iterator[dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    rejected: dict[str, Rejected],
) -> str | None:
    """Add each page's tweets (with author and referenced tweets) to ``tweets``, rejects to ``rejected``.

    Returns the newest id seen, malformed tweets included, so they are not read again.
    """
    newest: int | None = None
    for page in pages:
        includes = page.get("includes") or {}
        users = {str(user.get("id")): user for user in includes.get("users") or []}
        referenced = {str(tweet.get("id")): tweet for tweet in includes.get("tweets") or []}
        for tweet in page.get("data") or []:
            tweet_id = str(tweet.get("id", ""))
            if tweet_id.isdigit():
                newest = max(newest or 0, int(tweet_id))
            reason = _malformation(tweet, users)
            if reason:
                payload = json.dumps(tweet, sort_keys=True)
                rejected[payload] = Rejected(f"x tweet {tweet_id or '?'}: {reason}", payload)
                continue
            references = [
                referenced[str(ref.get("id"))]
                for ref in tweet.get("referenced_tweets") or []
                if str(ref.get("id")) in referenced
            ]
            tweets[tweet_id] = {
                **tweet,
                "author": users[str(tweet["author_id"])],
                "referenced": references,
            }
    return str(newest) if newest is not None else None


def to_posts(
    tweets: Mapping[str, dict[str, Any]], rejected: dict[str, Rejected], *, us: OurAccount, clock: Clock
) -> list[Post]:
    """The collected tweets as posts, oldest first; one that cannot be read joins ``rejected``.

    ``clock`` dates a tweet that came without ``created_at``.
    """
    posts = []
    for tweet in sorted(tweets.values(), key=lambda tweet: int(tweet["id"])):
        try:
            posts.append(_post(tweet, us, clock))
        except (KeyError, TypeError, ValueError) as error:
            payload = json.dumps(tweet)
            rejected[payload] = Rejected(f"x tweet {tweet.get('id')}: {error!r}", payload)
    return posts


def _post(tweet: dict[str, Any], us: OurAccount, clock: Clock) -> Post:
    user = tweet["author"]
    metrics = user.get("public_metrics") or {}
    references = {ref["type"]: str(ref["id"]) for ref in tweet.get("referenced_tweets") or []}
    raw = {key: value for key, value in tweet.items() if key not in {"author", "referenced"}}
    return Post(
        external_id=str(tweet["id"]),
        url=f"https://x.com/{user['username']}/status/{tweet['id']}",
        author=Author(
            id=str(user["id"]),
            handle=f"@{user['username']}",
            name=str(user.get("name", "")),
            followers=int(metrics["followers_count"]) if "followers_count" in metrics else None,
        ),
        text=str(tweet["text"]),
        created_at=_timestamp(tweet.get("created_at")) or clock(),
        language=tweet.get("lang") or None,
        thread=ThreadRef(
            thread_id=tweet.get("conversation_id"),
            # A quote answers the post it quotes, in a conversation of its own.
            parent_id=references.get("replied_to") or references.get("quoted"),
        ),
        direct=_addresses_us(tweet, us),
        is_retweet="retweeted" in references or str(tweet["text"]).startswith("RT @"),
        raw={**raw, "includes": {"users": [user], "tweets": tweet["referenced"]}},
    )


def _addresses_us(tweet: dict[str, Any], us: OurAccount) -> bool:
    """It @mentions our account (usernames compared without case, as X does), replies to one of
    our tweets, or quotes one."""
    mentions = (tweet.get("entities") or {}).get("mentions") or []
    if us.username and any(str(mention.get("username", "")).lower() == us.username for mention in mentions):
        return True
    if us.id and str(tweet.get("in_reply_to_user_id", "")) == us.id:
        return True
    quoted = {
        str(ref.get("id")) for ref in tweet.get("referenced_tweets") or [] if ref.get("type") == "quoted"
    }
    return any(str(ref.get("id")) in quoted and _is_ours(ref, us.id) for ref in tweet["referenced"])


def _is_ours(tweet: Mapping[str, Any], user_id: str) -> bool:
    return bool(user_id) and str(tweet.get("author_id", "")) == user_id


def _malformation(tweet: Mapping[str, Any], users: Mapping[str, Any]) -> str | None:
    if not str(tweet.get("id", "")).isdigit():
        return "no numeric id"
    if not isinstance(tweet.get("text"), str):
        return "no text"
    if "author_id" not in tweet:
        return "no author_id"
    user = users.get(str(tweet["author_id"]))
    if not user or not user.get("username"):
        return f"author {tweet['author_id']} missing from includes.users"
    if tweet.get("created_at") is not None and _timestamp(tweet["created_at"]) is None:
        return f"unreadable created_at {tweet['created_at']!r}"
    return None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
