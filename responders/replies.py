"""Rendering reply templates safely.

Templates are chosen from ``templates/replies/`` by platform, purpose, category
and language, falling back to less specific ones and then to English. They are
rendered in a sandbox with strict undefined variables, and every value that
came from a stranger (a display name) is neutralised first: no @-mentions that
would notify someone else, no links.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

_LINK = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_MENTION_SIGN = re.compile("[@\uff20]")  # "@" and its full-width twin


class ReplyTooLong(ValueError):
    """A rendered reply does not fit the platform's length limit."""

    def __init__(self, path: Path, length: int, limit: int) -> None:
        super().__init__(f"{path.name} renders {length} characters, over the limit of {limit}")
        self.path, self.template, self.length, self.limit = path, path.name, length, limit


def neutralise(value: str) -> str:
    """A stranger's text made safe to repeat in public: no mentions, no links."""
    return _MENTION_SIGN.sub("", _LINK.sub("", value)).strip()


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
