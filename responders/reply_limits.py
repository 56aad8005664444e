"""Every reply template must fit its platform's length limit, checked before anything runs.

A reply that is too long would otherwise fail at send time, for one unlucky
customer with a long name, hours after the template was changed. So each
template an enabled source could use is rendered with the longest values it
can receive (a name at its cap, the longest product, a ten-character case
reference, the longest promised window) and measured against the limit the
source's connector declares.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import TemplateError

from connectors.registry import connector_class
from responders.replies import ReplyRenderer, ReplyTooLong, describe_window, longest_due
from social_care.config.models import Config, Source
from social_care.config.problems import Problem
from social_care.sla import calendar_for, response_window

NAME_MAX_LENGTH = 50  # X's display-name limit; longer names from elsewhere are cut to it
WORST_REFERENCE = "SC-9999999"
LANGUAGES = ("en", "it")
TEMPLATES = ("acknowledgement", "crisis")


def longest_name() -> str:
    return "W" * NAME_MAX_LENGTH


def check_reply_templates(config: Config, folder: Path) -> list[Problem]:
    """A problem for every template that renders over its platform's limit or does not render."""
    renderer = ReplyRenderer(folder)
    problems: list[Problem] = []
    for index, source in enumerate(config.sources):
        if source.enabled:
            problems += _check_source(config, renderer, index, source)
    return problems


def _check_source(config: Config, renderer: ReplyRenderer, index: int, source: Source) -> list[Problem]:
    connector = connector_class(source.platform)
    if connector.reply_max_length <= 0:
        return []  # the platform is never replied to
    key = f"sources[{index}] ({source.id}, {source.platform})"
    problems = []
    for template in TEMPLATES:
        for category in config.acknowledgement.categories:
            for language in LANGUAGES:
                values = _worst_values(config, source, language)
                try:
                    renderer.render(
                        platform=source.platform,
                        purpose=template,
                        category=category,
                        language=language,
                        max_length=connector.reply_max_length,
                        values=values,
                    )
                except ReplyTooLong as error:
                    found = f"{error.length} characters for a {category} in {language} ({error.template})"
                    expected = f"replies of at most {connector.reply_max_length} characters"
                    problems.append(Problem(str(error.path), key, expected, found))
                except TemplateError as error:
                    problems.append(Problem(str(renderer.folder), key, f"a {template} template", str(error)))
    return problems


def _worst_values(config: Config, source: Source, language: str) -> dict[str, str]:
    brand = config.brand(source.brand)
    windows = [describe_window(response_window(policy), language) for policy in config.sla]
    windows += [longest_due(calendar_for(config, policy).zone, language) for policy in config.sla]
    windows.append(describe_window(None, language))
    return {
        "name": longest_name(),
        "product": max((product.name for product in brand.products), key=len, default=""),
        "reference": WORST_REFERENCE,
        "window": max(windows, key=len),
    }
