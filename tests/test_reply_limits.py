"""A reply template that could render over its platform's limit stops check-config and the start,
not a send hours later."""

from __future__ import annotations

from pathlib import Path

from social_care.config import Config
from social_care.resources import bundled, example_config
from tests.support.configs import config_from, example_raw
from tests.test_cli import social_care

LONG_PRODUCT = "Velora Pulse Ultra Max Pro Limited Anniversary Edition With Extra Long Name"


def with_enabled_sources(config: Config) -> Config:
    """The example with every source enabled: X, Reddit and the feed too."""
    sources = [source.model_copy(update={"enabled": True}) for source in config.sources]
    return config.model_copy(update={"sources": sources})


def test_every_shipped_template_fits_every_platform_with_the_longest_values() -> None:
    from responders.reply_limits import check_reply_templates

    config = with_enabled_sources(config_from(example_raw()))
    assert check_reply_templates(config, bundled("templates") / "replies") == []


def test_a_template_too_long_for_x_is_named_with_its_source_and_the_limit(tmp_path: Path) -> None:
    from responders.reply_limits import check_reply_templates

    folder = tmp_path / "replies"
    (folder / "x").mkdir(parents=True)
    for name in ("acknowledgement.en.txt", "acknowledgement.it.txt", "crisis.en.txt", "crisis.it.txt"):
        (folder / name).write_text("Hi {{ name }}, {{ reference }} {{ window }}.", encoding="utf-8")
    (folder / "x" / "acknowledgement.complaint.en.txt").write_text(
        "Hi {{ name }}! " + "We are so very sorry. " * 11 + "{{ reference }}, {{ window }}.", encoding="utf-8"
    )
    problems = check_reply_templates(with_enabled_sources(config_from(example_raw())), folder)
    assert [(problem.file, problem.key) for problem in problems] == [
        (str(folder / "x" / "acknowledgement.complaint.en.txt"), "sources[1] (x-velora, x)")
    ]
    [problem] = problems
    assert problem.expected == "replies of at most 280 characters"
    assert problem.found.startswith("3") and "for a complaint in en" in problem.found


def test_a_template_that_does_not_render_is_a_problem_too(tmp_path: Path) -> None:
    from responders.reply_limits import check_reply_templates

    folder = tmp_path / "replies"
    folder.mkdir()
    (folder / "acknowledgement.en.txt").write_text("Hi {{ nmae }}", encoding="utf-8")
    problems = check_reply_templates(config_from(example_raw()), folder)
    assert any("'nmae' is undefined" in problem.found for problem in problems)
    assert any("crisis" in problem.found for problem in problems), "no crisis template at all"


def test_check_config_and_run_refuse_a_product_name_that_makes_the_acknowledgement_too_long(
    tmp_path: Path,
) -> None:
    example = example_config().read_text(encoding="utf-8")
    long = example.replace('name = "Velora Pulse"', f'name = "{LONG_PRODUCT * 2}"', 1)
    assert long != example
    path = tmp_path / "long.toml"
    path.write_text(long.replace('path = "social-care.db"', f'path = "{tmp_path / "db.sqlite"}"'), "utf-8")
    for command in (["check-config", str(path)], ["run", "--config", str(path)]):
        result = social_care(*command, cwd=tmp_path)
        assert result.returncode == 2, result.stdout
        assert "sources[0] (demo, demo): expected replies of at most 280 characters" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "db.sqlite").exists()
