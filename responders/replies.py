"""Rendering reply templates safely.

Templates are chosen from ``templates/replies/`` by platform, purpose, category
and language, falling back to less specific ones and then to English. They are
rendered in a sandbox with strict undefined variables.

A stranger's display name is made safe first. Control, bidirectional and
invisible characters are removed, so none can reorder or hide what the reply
says. A name that then reads as a web address or a handle ("velora-refunds.com",
"@velora_help", "u/velora") is not used at all: the platform would make it a
link or a mention in our public reply, under our name. The template greets
without a name instead (``Hi{% if name %} {{ name }}{% endif %},``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

# Read after NFKC folding, so that full-width and look-alike dots, slashes and signs count too.
_ADDRESS_OR_HANDLE = re.compile(
    r"""
      [a-z0-9]://                          # a URL of any scheme
    | \bwww\.
    | [a-z0-9-]\.[a-z][a-z0-9-]+\b          # a domain: velora-refunds.com, bit.ly, x.co
    | [@#$]\w                              # a mention, a hashtag, a cashtag
    | (?:^|[^\w/])/?[ur]/\w                # Reddit's u/name and r/name
    """,
    re.IGNORECASE | re.VERBOSE,
)
_ZERO_WIDTH_JOINER = "\u200d"  # holds emoji sequences (families, flags) together: kept


class ReplyTooLong(ValueError):
    """A rendered reply does not fit the platform's length limit."""

    def __init__(self, path: Path, length: int, limit: int) -> None:
        super().__init__(f"{path.name} renders {length} characters, over the limit of {limit}")
        self.path, self.template, self.length, self.limit = path, path.name, length, limit


def greeting_name(name: str, handle: str, *, max_length: int) -> str:
    """What to call someone in a public reply: their display name, else their handle without its
    sign; "" (greet without a name) when that would read as an address or a handle."""
    candidate = visible(name) or visible(handle.lstrip("@\uff20"))
    if not candidate or looks_like_address_or_handle(candidate):
        return ""
    return candidate[:max_length].strip()


def visible(value: str) -> str:
    """``value`` without control, bidirectional or invisible formatting characters, its spaces
    made single spaces."""
    kept = (
        " " if char.isspace() else char
        for char in value
        if char.isspace()
        or char == _ZERO_WIDTH_JOINER
        or unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    return " ".join("".join(kept).split())


def looks_like_address_or_handle(value: str) -> bool:
    """Whether a platform could turn ``value`` into a link or a mention."""
    return bool(_ADDRESS_OR_HANDLE.search(unicodedata.normalize("NFKC", value)))


def describe_window(window: timedelta | None, language: str) -> str:
    if window is None:
        return "il prima possibile" if language == "it" else "as soon as we can"
    minutes = int(window.total_seconds() // 60)
    if language == "it":
        if minutes % 60 == 0:
            hours = minutes // 60
            return "entro 1 ora" if hours == 1 else f"entro {hours} ore"
        return f"entro {minutes} minuti"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "within 1 hour" if hours == 1 else f"within {hours} hours"
    return f"within {minutes} minutes"


_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Today, tomorrow, later this week, further on.
_DUE = {
    "en": ("by {hour}", "by tomorrow at {hour}", "by {weekday} at {hour}", "by {month} {day} at {hour}"),
    "it": (
        "entro le {hour}",
        "entro domani alle {hour}",
        "entro {weekday} alle {hour}",
        "entro il {day}/{month_number} alle {hour}",
    ),
}
_WEEK = 7


def describe_due(due: datetime, now: datetime, zone: ZoneInfo, language: str) -> str:
    """The promise as a time, for a wait that business hours stretch beyond the window.

    "Within 1 hour" said on Friday evening would be broken by Monday morning;
    the time itself, in the calendar's zone with its abbreviation, is honest.
    """
    local = due.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    phrases = _DUE["it" if language == "it" else "en"]
    return phrases[min(days, 2) if days < _WEEK else 3].format(
        hour=f"{local:%H:%M} {local.tzname()}",
        weekday=_DAYS["it" if language == "it" else "en"][local.weekday()],
        month=_MONTHS[local.month - 1],
        month_number=local.month,
        day=local.day,
    )


def longest_due(zone: ZoneInfo, language: str) -> str:
    """The longest ``describe_due`` can say in ``zone``, for the reply-length check."""
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a year of dues from here: every weekday, month, zone name
    dues = [now + timedelta(days=days, hours=hours) for days in range(366) for hours in (0, 11)]
    return max((describe_due(due, now, zone, language) for due in dues), key=len)


class ReplyRenderer:
    def __init__(self, folder: Path) -> None:
        self._environment = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self.folder = folder

    def candidates(self, *, platform: str, purpose: str, category: str, language: str) -> list[str]:
        names = []
        for lang in dict.fromkeys((language, "en")):
            names += [
                f"{platform}/{purpose}.{category}.{lang}.txt",
                f"{purpose}.{category}.{lang}.txt",
                f"{platform}/{purpose}.{lang}.txt",
                f"{purpose}.{lang}.txt",
            ]
        return names

    def render(
        self,
        *,
        platform: str,
        purpose: str,
        category: str,
        language: str,
        max_length: int,
        values: dict[str, str],
    ) -> str:
        names = self.candidates(platform=platform, purpose=purpose, category=category, language=language)
        path = next((self.folder / name for name in names if (self.folder / name).is_file()), None)
        if path is None:
            raise TemplateNotFound(f"none of {', '.join(names)} in {self.folder}")
        template = self._environment.from_string(path.read_text(encoding="utf-8"))
        text = " ".join(template.render(**values).split())
        if len(text) > max_length:
            raise ReplyTooLong(path, len(text), max_length)
        return text
