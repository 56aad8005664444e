"""Promises the documentation makes, checked: the two commands, CI, connector completeness."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from connectors.registry import PLATFORMS
from social_care.resources import example_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_opens_with_the_two_commands() -> None:
    top = README.split("## What happens to a post")[0]
    assert "./scripts/demo" in top and "./scripts/test" in top


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./scripts/test$", ci, re.MULTILINE)


def test_the_scripts_install_what_they_use() -> None:
    test_script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    assert "pip install --quiet -e '.[test]'" in test_script and "chromium" in test_script
    assert "pip install --quiet ." in (ROOT / "scripts" / "demo").read_text(encoding="utf-8")


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_connector_has_tests_and_an_example_source(platform: str) -> None:
    module = PLATFORMS[platform].split(":")[0].rsplit(".", 1)[-1]
    assert (ROOT / "tests" / "connectors" / f"test_{module}.py").exists(), (
        "tests mirror connectors/<module>.py"
    )
    example = tomllib.loads(example_config().read_text(encoding="utf-8"))
    assert platform in {source["platform"] for source in example["sources"]}


def test_every_cli_command_is_in_the_readme() -> None:
    for command in (
        "run",
        "check-config",
        "poll SOURCE --once",
        "classify",
        "db upgrade",
        "user set-password",
        "token create",
        "token list",
        "token revoke",
        "labels import",
        "labels export",
        "learn",
        "model list",
        "model activate",
        "model rollback",
    ):
        assert f"social-care {command}" in README


def test_every_picture_in_the_readme_is_in_the_repository() -> None:
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README)
    assert pictures, "the README's tour shows the inbox"
    assert [picture for picture in pictures if not (ROOT / picture).is_file()] == []


def test_the_readme_names_every_demo_user() -> None:
    example = tomllib.loads(example_config().read_text(encoding="utf-8"))
    assert [person["email"] for person in example["employees"] if f"`{person['email']}`" not in README] == []
