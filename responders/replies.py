"""Rendering reply templates safely.

Templates are chosen from ``templates/replies/`` by platform, purpose, category
and language, falling back to less specific ones and then to English. They are
rendered in a sandbox with strict undefined variables, and every value that
came from a stranger (a display name) is neutralised first: no @-mentions that
would notify someone else, no links.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

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
