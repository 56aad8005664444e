"""``social-care compliance``, ``social-care retention`` and ``social-care person``: the platforms'
deletion rules, the retention policy and a person's requests, from the command line.

Each does what the worker's job or the inbox's admin page does, at once, and is
audited under the operating system's user who ran it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from social_care.command_line import (
    ConfigOption,
    console,
    errors,
    load_or_exit,
    open_database_or_exit,
    operator,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from social_care.compliance.person import Found

compliance_app = typer.Typer(
    help="The platforms' deletion rules: check the posts kept.", no_args_is_help=True
)
retention_app = typer.Typer(
    help="The retention policy: purge what is kept past its days.", no_args_is_help=True
)
person_app = typer.Typer(
    help="A person's data: export it, or erase it, on their request.", no_args_is_help=True
)

PlatformArgument = Annotated[
    str, typer.Argument(metavar="PLATFORM", help="x, reddit, ... as the sources name it")
]
HandleArgument = Annotated[
    str, typer.Argument(metavar="HANDLE", help="Their handle, with or without @ or u/")
]


@compliance_app.command("run")
def compliance_run(config: ConfigOption = None) -> None:
    """Ask each platform now whether the posts due a check still stand; scrub those gone."""
    from social_care.runtime import build_service

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    try:
        report = build_service(settings, engine).deletion_checks.run_once(by=operator())
    finally:
        engine.dispose()
    for source in report.sources:
        console.print(source.line(), markup=False, highlight=False)
    for source_id in report.unable:
        console.print(f"{source_id}: its platform cannot be asked (kept as [retention] says)", markup=False)
    if not report.sources and not report.unable:
        console.print("No enabled source.")


@retention_app.command("run")
def retention_run(config: ConfigOption = None) -> None:
    """Purge now what is kept past the days [retention] sets, in bounded batches."""
    from social_care.clock import system_clock
    from social_care.compliance.retention import RetentionPurge

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    try:
        report = RetentionPurge(engine, settings.retention, clock=system_clock).run_once(by=operator())
    finally:
        engine.dispose()
    console.print(report.line().capitalize() + ".", markup=False, highlight=False)


@contextmanager
def _person(config: Path | None, platform: str, handle: str, doing: str) -> Iterator[tuple[Session, Found]]:
    """A session on the configured database and the author found there; exit 1 when nobody is."""
    from sqlmodel import Session

    from social_care.compliance import person

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    try:
        with Session(engine) as session:
            try:
                found = person.find(session, platform, handle)
            except person.UnknownPerson as error:
                errors.print(f"Nothing to {doing}: {error}.", markup=False)
                raise typer.Exit(1) from None
            yield session, found
    finally:
        engine.dispose()


@person_app.command("export")
def person_export(
    platform: PlatformArgument,
    handle: HandleArgument,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write here instead of standard output")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write everything kept about this author as JSON: profile, posts, cases, our replies, labels."""
    from social_care.compliance import person

    with _person(config, platform, handle, "export") as (session, found):
        data = person.export(session, found, at=datetime.now(UTC), actor=operator())
        document = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if out is not None:
            _write_privately(out, document)
        session.commit()
    if out is None:
        typer.echo(document, nl=False)
    else:
        errors.print(f"Wrote {out} ({len(data['posts'])} posts, {len(data['cases'])} cases).", markup=False)


@person_app.command("forget")
def person_forget(
    platform: PlatformArgument,
    handle: HandleArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    config: ConfigOption = None,
) -> None:
    """Erase this author's posts, profile and what quotes them; keep the anonymised figures."""
    from social_care.compliance import person

    with _person(config, platform, handle, "erase") as (session, found):
        question = (
            f"Erase everything kept about {handle} on {found.platform} ({found.subject})? It cannot be undone"
        )
        if not yes and not typer.confirm(question):
            raise typer.Exit(1)
        erased = person.forget(session, found, at=datetime.now(UTC), actor=operator())
        session.commit()
    done = ", ".join(
        f"{value} {name}" for name, value in erased.counts().items() if value and name != "kept_ids"
    )
    console.print(
        f"Erased {erased.subject}: {done or 'nothing more was kept'}.", markup=False, highlight=False
    )
    if erased.kept_ids:
        console.print(
            "Their platform id is kept, alone, because they asked us to stop replying or are blocked.",
            markup=False,
        )


def _write_privately(path: Path, document: str) -> None:
    """Write a person's data readable by its owner alone (0600), whatever the umask says."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(document)
