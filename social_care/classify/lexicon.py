"""A language's cue lists, loaded from ``lexicons/<lang>.toml`` and compiled once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from social_care.text import fold

_FOLDER = Path(__file__).parent / "lexicons"


@dataclass(frozen=True)
class CueList:
    pattern: re.Pattern[str] | None

    def found(self, folded: str) -> list[str]:
        return [hit.group(0) for hit in self.pattern.finditer(folded)] if self.pattern else []


@dataclass(frozen=True)
class Lexicon:
    language: str
    stopwords: frozenset[str]
    cues: dict[str, CueList]
    clusters: dict[str, CueList]


def _compile(phrases: list[str]) -> CueList:
    if not phrases:
        return CueList(None)
    ordered = sorted({fold(phrase) for phrase in phrases}, key=len, reverse=True)
    body = "|".join(re.escape(phrase) for phrase in ordered)
    return CueList(re.compile(rf"(?<!\w)(?:{body})(?!\w)"))


def load_lexicon(language: str, folder: Path = _FOLDER) -> Lexicon:
    data = tomllib.loads((folder / f"{language}.toml").read_text(encoding="utf-8"))
    return Lexicon(
        language=language,
        stopwords=frozenset(fold(word) for word in data.get("stopwords", [])),
        cues={name: _compile(phrases) for name, phrases in data.get("cues", {}).items()},
        clusters={name: _compile(phrases) for name, phrases in data.get("clusters", {}).items()},
    )


def available_languages(folder: Path = _FOLDER) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.toml"))
