"""What every ``social-care`` command shares: the consoles, the ``--config`` option, and loading
the configuration or exiting with its problems listed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from social_care.config import Config, ConfigError, load_config
from social_care.resources import example_config

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _flags_take_no_value() -> None:
    """Help names no type for a flag.

    typer 0.29's rich help shows each option's Python annotation as its type, so every
    flag, ``--help`` included, reads ``<bool>`` as if it took a value (its plain help leaves
    the type out, as click always did). Here the rich help does the same, for every
    command, whatever module defines it; typer versions without the method are left alone.
    """
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "flags_take_no_value", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich.flags_take_no_value = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


_flags_take_no_value()
console = Console(soft_wrap=True)  # whole lines: logs and pipes are read by grep, not by eye
errors = Console(stderr=True, soft_wrap=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="Configuration file \\[default: $SOCIAL_CARE_CONFIG, ./social-care.toml, the demo]",
    ),
]


def config_path(given: Path | None) -> Path:
    """The file to use: given, from the environment, in this folder, else the bundled demo."""
    if given:
        return given
    if os.environ.get("SOCIAL_CARE_CONFIG"):
        return Path(os.environ["SOCIAL_CARE_CONFIG"])
    local = Path("social-care.toml")
    return local if local.exists() else example_config()


def load_or_exit(given: Path | None) -> tuple[Config, Path]:
    """The valid configuration, whose reply templates all fit their platforms; else exit 2."""
    from responders.reply_limits import check_reply_templates
    from social_care.resources import bundled

    path = config_path(given)
    try:
        config = load_config(path)
    except ConfigError as error:
        print_problems(error)
        raise typer.Exit(2) from None
    too_long = check_reply_templates(config, bundled("templates") / "replies")
    if too_long:
        print_problems(ConfigError(too_long))
        raise typer.Exit(2)
    return config, path


def reachable_database_or_exit(config: Config) -> str:
    """The configured database's URL, once a connection to it has opened; else exit 2 saying which
    database, where its address came from, and what went wrong."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from social_care.storage.engine import database_url, make_engine

    url = database_url(config.database, os.environ)
    try:
        probe = make_engine(url)
        try:
            with probe.connect():
                pass
        finally:
            probe.dispose()
    except (DBAPIError, ArgumentError, OSError) as error:
        errors.print(_unreachable(config, url, error), markup=False, highlight=False)
        raise typer.Exit(2) from None
    return url


def open_database_or_exit(config: Config) -> Engine:
    """The configured database, migrated, once it is known to be reachable (else exit 2)."""
    from social_care.runtime import open_database

    reachable_database_or_exit(config)
    return open_database(config, os.environ)


def _unreachable(config: Config, url: str, error: Exception) -> str:
    from sqlalchemy.exc import DBAPIError

    from social_care.storage.engine import redacted

    given = os.environ.get(config.database.url_env, "").strip()
    origin = f"${config.database.url_env}" if given else "[database] path"
    try:
        address = redacted(url)
    except Exception:
        address = "the database"
    reason = " ".join(str(error.orig if isinstance(error, DBAPIError) else error).split())
    expected = "a database server accepting connections" if given else "a SQLite file that can be written"
    return f"Cannot open the database {address} (from {origin}): {reason}; expected {expected}"


def print_problems(error: ConfigError) -> None:
    count = len(error.problems)
    errors.print(f"[bold red]The configuration has {count} problem{'s' if count != 1 else ''}:[/]")
    for problem in error.problems:
        errors.print(f"  - {problem}", markup=False, highlight=False)


def operator() -> str:
    """Who flipped the switch from a terminal, for the record."""
    import getpass

    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"
