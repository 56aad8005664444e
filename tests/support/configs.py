"""Configurations for tests, derived from the shipped example so both stay in step."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from social_care.config import Config
from social_care.resources import example_config

Raw = dict[str, Any]


def example_raw() -> Raw:
    return tomllib.loads(example_config().read_text(encoding="utf-8"))


def config_from(raw: Raw) -> Config:
    return Config.model_validate(raw)


def demo_config(tmp_path: Path, change: Callable[[Raw], None] | None = None) -> Config:
    """The example configuration with the demo's files under ``tmp_path``."""
    raw = copy.deepcopy(example_raw())
    raw["database"]["path"] = str(tmp_path / "social-care.db")
    raw["sources"][0]["options"]["replies_file"] = str(tmp_path / "demo-replies.jsonl")
    if change:
        change(raw)
    return config_from(raw)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
