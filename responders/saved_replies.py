"""The saved replies a person may start from on a case, rendered for it.

They are the configuration's ``[[saved_replies]]`` that fit the case's team,
language and category, rendered in a sandbox with the acknowledgements'
variables (the customer's name made safe). A person edits the text before
sending it, so a template that fails to render is offered with why, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from responders.acknowledger import reply_values
from social_care.config.models import Config, SavedReply
from social_care.storage.tables import Author, Case

_ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False
)  # text for a platform, not HTML


@dataclass(frozen=True)
class Offered:
    name: str
    text: str
    problem: str = ""


def fits(reply: SavedReply, case: Case) -> bool:
    checks = (
        (reply.teams, case.team or ""),
        (reply.languages, case.language),
        (reply.categories, case.category),
    )
    return all(not allowed or value in allowed for allowed, value in checks)


def saved_replies_for(config: Config, case: Case, author: Author, now: datetime) -> list[Offered]:
    values = reply_values(config, case, author, now)
    offered = []
    for reply in config.saved_replies:
        if not fits(reply, case):
            continue
        try:
            text = " ".join(_ENVIRONMENT.from_string(reply.text).render(**values).split())
        except TemplateError as error:
            offered.append(Offered(reply.name, "", f"cannot be filled in: {error}"))
            continue
        offered.append(Offered(reply.name, text))
    return offered
