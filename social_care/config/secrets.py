"""Secrets are named in the configuration and read from the environment.

A secret ``NAME`` comes from the environment variable ``NAME`` or, for
container secrets, from the file named by ``NAME_FILE``. The value is wrapped
in :class:`pydantic.SecretStr` so that it never shows in a ``repr`` or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr


class MissingSecret(LookupError):
    """The environment names no value for a secret the configuration needs."""

    def __init__(self, name: str, detail: str = "") -> None:
        self.name = name
        super().__init__(detail or f"environment variable {name} (or {name}_FILE) is not set")


def secret_available(name: str, environ: Mapping[str, str]) -> str | None:
    """Why the secret cannot be read, or ``None`` when it can."""
    try:
        read_secret(name, environ)
    except MissingSecret as missing:
        return str(missing)
    return None


def read_secret(name: str, environ: Mapping[str, str]) -> SecretStr:
    if environ.get(name):
        return SecretStr(environ[name])
    file_name = environ.get(f"{name}_FILE")
    if not file_name:
        raise MissingSecret(name)
    path = Path(file_name)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        reason = f"{name}_FILE names {path}, which cannot be read ({error.strerror})"
        raise MissingSecret(name, reason) from None
    if not value:
        raise MissingSecret(name, f"{name}_FILE names {path}, which is empty")
    return SecretStr(value)
