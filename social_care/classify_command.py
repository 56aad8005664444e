"""``social-care classify``: posts in as JSON Lines, verdicts out as JSON Lines, one line at a time.

The command is a filter meant to sit in a pipe that may never end (a live
feed, another tool's output), so each line is parsed, matched, classified,
written and flushed before the next one is read. A bad line must not stop the
stream: it is reported on the error stream with its line number and skipped.
Input is read as bytes so that a line in a broken encoding is one bad line,
not the end of the run; so is a line nested too deeply for the JSON parser, a
number too long to read, or a text longer than :data:`MAX_POST_TEXT` (skipped,
not cut: a verdict on part of a post would pass for a verdict on all of it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO, TypeVar

from social_care.learning.triage import Triage
from social_care.matching import Match, Matcher
from social_care.posts import MAX_POST_TEXT, TextTooLong
from social_care.text import tokenize

T = TypeVar("T")

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


@dataclass(frozen=True)
class PostLine:
    """One valid input line: what the classifier needs to know about a post."""

    id: str
    text: str
    lang: str | None = None
    author_followers: int | None = None
    direct: bool = False


@dataclass(frozen=True)
class StreamReport:
    """How many lines were classified and how many were skipped as bad."""

    classified: int = 0
    skipped: int = 0


class BadLine(ValueError):
    """An input line that cannot be classified; the message says what is wrong with it."""


def classify_stream(
    lines: Iterable[bytes],
    output: BinaryIO,
    errors: TextIO,
    *,
    matcher: Matcher,
    triage: Triage,
) -> StreamReport:
    """Classify each line as it arrives, writing and flushing its result before reading on."""
    classified = skipped = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            post = parse_line(raw)
        except BadLine as problem:
            errors.write(f"line {number}: {problem}\n")
            errors.flush()
            skipped += 1
            continue
        output.write(encode(result(post, matcher=matcher, triage=triage)))
        output.flush()
        classified += 1
    return StreamReport(classified, skipped)


def result(post: PostLine, *, matcher: Matcher, triage: Triage) -> dict[str, Any]:
    """The output record for one post: the verdict, who decided it, the matched terms and the
    reasons. The post is split into words once, for the matcher and the classifier both."""
    tokens = tokenize(post.text)
    matches = matcher.match_tokens(post.text, tokens)
    judgement = triage.judge(
        post.text,
        language=post.lang,
        followers=post.author_followers,
        direct=post.direct,
        matches=matches,
        tokens=tokens,
    )
    verdict = judgement.verdict
    return {
        "id": post.id,
        "category": verdict.category,
        "confidence": verdict.confidence,
        "cluster": verdict.cluster,
        "sentiment": verdict.sentiment,
        "language": verdict.language,
        "priority": verdict.priority,
        "decided_by": judgement.decided_by,
        "matched_terms": [_matched_term(match) for match in matches],
        "reasons": list(verdict.reasons),
    }


def parse_line(raw: bytes) -> PostLine:
    """The post on one input line, or :class:`BadLine` saying what is wrong with it."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise BadLine(f"not UTF-8 (byte {error.start + 1} cannot be decoded)") from None
    except json.JSONDecodeError as error:
        raise BadLine(f"not JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise BadLine("nested too deeply to read") from None
    except ValueError:  # the only other refusal: an integer longer than Python converts
        raise BadLine(f"a number has more than {sys.get_int_max_str_digits():,} digits") from None
    if not isinstance(data, dict):
        raise BadLine(f"expected a JSON object, found {_json_type(data)}")
    return PostLine(
        id=_required_string(data, "id"),
        text=_text(data),
        lang=_optional(data, "lang", str, "a string"),
        author_followers=_followers(data),
        direct=_optional(data, "direct", bool, "true or false") or False,
    )


def encode(record: dict[str, Any]) -> bytes:
    """One UTF-8 JSON line; text with lone surrogates is written escaped, as JSON allows."""
    try:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record) + "\n").encode("ascii")


def _matched_term(match: Match) -> dict[str, Any]:
    return {
        "term": match.term,
        "kind": match.kind,
        "text": match.matched_text,
        "start": match.start,
        "end": match.end,
        "score": match.score,
    }


def _required_string(data: dict[str, Any], key: str) -> str:
    if key not in data:
        raise BadLine(f'missing "{key}"')
    value = data[key]
    if not isinstance(value, str):
        raise BadLine(f'"{key}" must be a string, found {_json_type(value)}')
    return value


def _text(data: dict[str, Any]) -> str:
    text = _required_string(data, "text")
    if len(text) > MAX_POST_TEXT:
        raise BadLine(f'"text": {TextTooLong(len(text))}')
    return text


def _optional(data: dict[str, Any], key: str, kind: type[T], wanted: str) -> T | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadLine(f'"{key}" must be {wanted}, found {_json_type(value)}')
    return value


def _followers(data: dict[str, Any]) -> int | None:
    followers = _optional(data, "author_followers", int, "a whole number of at least 0")
    if followers is not None and followers < 0:
        raise BadLine(f'"author_followers" must be a whole number of at least 0, found {followers}')
    return followers


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
