"""Load the TOML file and report every problem in it at once.

Loading runs in two passes over the same parsed file: the typed models check
shapes and values, then cross-references (a routing rule's team, a source's
brand, a secret's environment variable, a connector's own options) are checked
on the raw data, so that one broken section never hides the problems of another.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from social_care.config.crossrefs import check_references
from social_care.config.models import Config
from social_care.config.problems import Problem, problems_from_validation


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """The validated configuration in ``path``, or :class:`ConfigError` listing every problem."""
    environ = os.environ if environ is None else environ
    raw = _parse(path)
    problems: list[Problem] = []
    config: Config | None = None
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        problems.extend(problems_from_validation(error, file=str(path), model=Config))
    problems.extend(check_references(raw, file=str(path), environ=environ))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _parse(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", "a configuration file", "no such file")]) from None
    except OSError as error:
        raise ConfigError([Problem(str(path), "", "a readable file", str(error.strerror))]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [Problem(str(path), "", "UTF-8 text (TOML files are UTF-8)", _not_utf8(data, error))]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([Problem(str(path), "", "valid TOML", str(error))]) from None
    except RecursionError:
        raise ConfigError(
            [Problem(str(path), "", "valid TOML", "arrays or tables nested too deeply to read")]
        ) from None


def _not_utf8(data: bytes, error: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, error.start) + 1
    column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    return f"byte 0x{data[error.start]:02x} at line {line}, column {column}, which is not UTF-8"
