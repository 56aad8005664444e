"""Settings that are valid but will not do what the person who wrote them expects.

A problem stops the service; a warning does not, because the setting may be
meant. Each is said in the same form as a problem (file, key, what was
expected, what was found) and shown by ``check-config`` and at the start of
``run``. They are checked on the typed configuration, so they only ever
describe a file that is otherwise valid.
"""

from __future__ import annotations

import re
import socket

from social_care.config.models import Config, Source
from social_care.config.problems import Problem

# How long the mail server may take to accept a connection before we say it does not.
SMTP_PROBE_SECONDS = 2.0

# An account name on some platform, as the configuration may write it: an optional
# "@", "u/" or "/u/" (the forms bare_handle strips), then letters, digits, "_", "-"
# and "." (X, Reddit, Bluesky's domain handles), or a Mastodon user@instance.
_ACCOUNT_NAME = re.compile(r"(?:@|/?u/)?[\w.-]+(?:@[\w.-]+)?", re.IGNORECASE)
_ACCOUNT_EXAMPLE = "an account name such as @acme or u/acme_care (no spaces, '/', ':' or address)"


def config_warnings(config: Config, *, file: str) -> list[Problem]:
    """Every warning about ``config``, read from ``file``; may wait up to SMTP_PROBE_SECONDS."""
    return [
        *_automatic_replies(config, file),
        *_account_names(config, file),
        *_mail_server(config, file),
    ]


def _automatic_replies(config: Config, file: str) -> list[Problem]:
    """Sources whose auto_reply cannot be meant: left off where allowed, or on where impossible."""
    from connectors.registry import PLATFORMS, connector_class

    warnings = []
    for index, source in enumerate(config.sources):
        if not source.enabled or source.platform not in PLATFORMS:
            continue
        allowed = connector_class(source.platform).auto_reply_allowed
        key = f"sources[{index}].auto_reply"
        if source.auto_reply and not allowed:
            expected = f"auto_reply = false: {source.platform} sources are never answered automatically"
            warnings.append(Problem(file, key, expected, f"true on source {source.id!r}"))
        elif allowed and _left_off_by_default(source):
            expected = (
                f"auto_reply = true for source {source.id!r} to acknowledge complaints and inquiries"
                f" automatically ({source.platform} allows it), or auto_reply = false to say it is meant"
            )
            found = (
                "no auto_reply, so false (the default): this source never acknowledges anything automatically"
            )
            warnings.append(Problem(file, key, expected, found))
    return warnings


def _left_off_by_default(source: Source) -> bool:
    """Written ``auto_reply = false`` is a choice; left out, it is most likely an oversight."""
    return not source.auto_reply and "auto_reply" not in source.model_fields_set


def _account_names(config: Config, file: str) -> list[Problem]:
    """Our, our staff's and blocked account names that can never equal an author's handle."""
    written = [
        *((f"sources[{i}].account", s.account) for i, s in enumerate(config.sources) if s.account),
        *(
            (f"brands[{i}].handles[{j}]", handle)
            for i, brand in enumerate(config.brands)
            for j, handle in enumerate(brand.handles)
        ),
        *(
            (f"employees[{i}].handles[{j}]", handle)
            for i, person in enumerate(config.employees)
            for j, handle in enumerate(person.handles)
        ),
        *(
            (f"acknowledgement.blocked_handles[{j}]", handle)
            for j, handle in enumerate(config.acknowledgement.blocked_handles)
        ),
    ]
    return [
        Problem(file, key, _ACCOUNT_EXAMPLE, f"{name!r}, which no author's handle can match")
        for key, name in written
        if not plausible_account_name(name)
    ]


def plausible_account_name(name: str) -> bool:
    """Whether ``name`` could be somebody's handle on some platform once "@", "u/" or "/u/" is set aside.

    Authors are compared after bare_handle; a name with no letter or digit left
    ("@", "---") can match nobody.
    """
    from social_care.watchlist import bare_handle  # watchlist imports this package: not at load time

    return bool(_ACCOUNT_NAME.fullmatch(name.strip())) and any(char.isalnum() for char in bare_handle(name))


def _mail_server(config: Config, file: str) -> list[Problem]:
    smtp = config.smtp
    if not smtp.enabled:
        return []
    why = unreachable(smtp.host, smtp.port, timeout=SMTP_PROBE_SECONDS)
    if why is None:
        return []
    expected = f"a mail server accepting connections at {smtp.host}:{smtp.port}, or enabled = false"
    found = f"{why}; mails wait in the mail outbox until the server answers"
    return [Problem(file, "smtp.enabled", expected, found)]


def unreachable(host: str, port: int, *, timeout: float) -> str | None:
    """Why nothing accepts a TCP connection at ``host:port`` within ``timeout``; None when something does."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as error:
        return (error.strerror or str(error)).lower()
