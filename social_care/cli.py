"""The ``social-care`` command."""

from __future__ import annotations

import logging
import os
import sys
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
    reachable_database_or_exit,
)
from social_care.compliance_commands import compliance_app, person_app, retention_app
from social_care.config import config_warnings
from social_care.learning_commands import chosen_model, labels_app, learn, model_app, rules_for

if TYPE_CHECKING:
    from social_care.mail import Mail

app = typer.Typer(
    help="A social-media care desk: watch, triage, acknowledge, hand off, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Manage people's sign-in.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
rollups_app = typer.Typer(help="The figures' hourly rollups.", no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")
token_app = typer.Typer(help="Manage people's tokens for the JSON API.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(labels_app, name="labels")
app.add_typer(model_app, name="model")
app.add_typer(compliance_app, name="compliance")
app.add_typer(retention_app, name="retention")
app.add_typer(person_app, name="person")
app.command()(learn)


@app.command("check-config")
def check_config(
    path: Annotated[Path | None, typer.Argument(help="The file to check (or give it with --config)")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate a configuration file and list every problem in it, then every warning."""
    if path and config and path != config:
        errors.print(f"Two files to check: {path} and --config {config}; give one.", markup=False)
        raise typer.Exit(2)
    settings, used = load_or_exit(path or config)
    sources = ", ".join(source.id for source in settings.sources if source.enabled)
    console.print(f"{used}: valid ({len(settings.brands)} brands, enabled sources: {sources or 'none'})")
    found = config_warnings(settings, file=str(used))
    if found:
        count = f"{len(found)} warning{'s' if len(found) != 1 else ''}"
        console.print(f"[bold yellow]{count}[/] (valid, but probably not doing what was meant):")
        for warning in found:
            console.print(f"  - {warning}", markup=False, highlight=False)


@app.command()
def run(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to serve the inbox on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="Port to serve the inbox on")] = 8000,
    web: Annotated[bool, typer.Option(help="Serve the web inbox in this process")] = True,
    workers: Annotated[
        bool, typer.Option(help="Run the pollers and the outbox sender in this process")
    ] = True,
) -> None:
    """Run everything in one process: pollers, outbox sender and the web inbox."""
    from social_care.serve import serve

    if not (web or workers):
        errors.print("Nothing to run: --no-web and --no-workers together leave nothing.")
        raise typer.Exit(2)
    settings, path = load_or_exit(config)
    _configure_logging()
    for warning in config_warnings(settings, file=str(path)):
        logging.getLogger("social_care.config").warning("%s", warning)
    serve(settings, path, host=host, port=port, console=console, web=web, workers=workers)


@app.command()
def classify(
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="JSON Lines posts to read; - or nothing: standard input")
    ] = "-",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="MODEL|active",
            help="Decide with a trained model: a file from `learn --out`, or the database's active one",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Classify JSON Lines posts as they arrive, writing one JSON line per post.

    Each input line is {"id": ..., "text": ...} with optional "lang", "author_followers"
    and "direct". Each output line, in input order and flushed at once, is {"id",
    "category", "confidence", "cluster", "sentiment", "language", "priority",
    "decided_by", "matched_terms", "reasons"}; matched_terms lists the configured watch
    terms found, as {"term", "kind", "text", "start", "end", "score"} with character
    offsets. With --model, the model decides the category ("decided_by" names it) and
    the reasons name its strongest learned features.

    Empty lines are ignored. A bad line is reported on standard error as "line N: what is
    wrong" and skipped. Exit status: 0 when every line was classified, 1 when some lines
    were skipped, 2 when the configuration, FILE or the model cannot be read.
    """
    from contextlib import nullcontext

    from social_care.classify_command import classify_stream
    from social_care.learning.triage import Triage
    from social_care.matching import WatchMatcher
    from social_care.watchlist import watch_terms

    settings, _ = load_or_exit(config)
    matcher = WatchMatcher(watch_terms(settings))
    triage = Triage(rules_for(settings), chosen_model(settings, model) if model else None)
    try:
        source = nullcontext(sys.stdin.buffer) if file == "-" else open(file, "rb")  # noqa: SIM115
    except OSError as error:
        errors.print(f"Cannot read {file}: {error.strerror}", markup=False)
        raise typer.Exit(2) from None
    with source as lines:
        try:
            report = classify_stream(lines, sys.stdout.buffer, sys.stderr, matcher=matcher, triage=triage)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as a Unix filter does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
    raise typer.Exit(1 if report.skipped else 0)


@app.command()
def poll(
    source: Annotated[str, typer.Argument(help="The id of the source to poll")],
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit")] = False,
    config: ConfigOption = None,
) -> None:
    """Poll one source (one cycle with --once) and print what was fetched and queued."""
    from social_care.runtime import build_service

    settings, _ = load_or_exit(config)
    if source not in {item.id for item in settings.sources if item.enabled}:
        known = ", ".join(item.id for item in settings.sources if item.enabled)
        errors.print(f"No enabled source {source!r}; enabled sources: {known}", markup=False)
        raise typer.Exit(2)
    if not once:
        errors.print("Continuous polling runs inside `social-care run`; use --once here.")
        raise typer.Exit(2)
    service = build_service(settings, open_database_or_exit(settings))
    report = service.poller.poll(source)
    sent = service.sender.run_once()
    if report.skipped:
        errors.print(
            f"{source} was not polled: another worker is polling it, it is backing off, or it is failing"
            " (restart the service once it is fixed)",
            markup=False,
        )
        raise typer.Exit(1)
    if report.rate_limited_until is not None:
        console.print(
            f"{source}: its rate limit allows no request before {report.rate_limited_until:%H:%M:%S} UTC",
            markup=False,
        )
    console.print(
        f"{source}: fetched {report.fetched}, new {report.new}, rejected {report.rejected}, "
        f"matched {report.matched}, cases opened {report.opened}, replies queued {report.queued_replies}, "
        f"replies sent {sent.sent}"
    )
    if report.quota is not None:
        console.print(
            f"read budget: {report.reads_used:,} of {report.quota:,} reads used this month, "
            f"{report.projected_reads:,} projected by its end at the paced interval",
            markup=False,
        )
    if report.error:
        errors.print(f"error: {report.error}", markup=False)
        raise typer.Exit(1)


@app.command()
def pause(
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why, shown in the inbox to everyone")] = "",
    config: ConfigOption = None,
) -> None:
    """Stop every automatic reply now; they wait, and go out after `resume`."""
    from sqlmodel import Session

    from social_care.clock import system_clock
    from social_care.switches import pause_automatic_replies

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    with Session(engine) as session:
        pause_automatic_replies(session, reason=reason.strip(), by=operator(), now=system_clock())
    engine.dispose()
    console.print(
        "Automatic replies are paused"
        + (f" ({reason.strip()})" if reason.strip() else "")
        + ": nothing automatic is sent until `social-care resume`. Replies wait; none is lost.",
        markup=False,
    )


@app.command()
def resume(config: ConfigOption = None) -> None:
    """Let automatic replies go out again, the held ones first."""
    from sqlmodel import Session

    from social_care.clock import system_clock
    from social_care.switches import resume_automatic_replies

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    with Session(engine) as session:
        resume_automatic_replies(session, by=operator(), now=system_clock())
    engine.dispose()
    console.print("Automatic replies resumed.")


@app.command()
def report(
    *,
    since: Annotated[
        str,
        typer.Option(
            metavar="DATE", help="Start of the period: a date (2026-11-23) or a time (2026-11-23T09:00)"
        ),
    ],
    until: Annotated[
        str, typer.Option(metavar="DATE", help="End of the period, excluded \\[default: now]")
    ] = "",
    team: Annotated[str | None, typer.Option(metavar="TEAM", help="Only cases of this team")] = None,
    source: Annotated[str | None, typer.Option(metavar="SOURCE", help="Only cases from this source")] = None,
    category: Annotated[
        str | None, typer.Option(metavar="complaint|inquiry|praise|other", help="Only cases of this category")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(metavar="team|source|category", help="Also one row per team, source or category"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the service figures of a period: response times, SLA attainment, backlog, CSAT.

    Dates and times without an offset are in the service's time zone.
    """
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from sqlmodel import Session

    from social_care.metrics import measure, measure_by
    from social_care.report_command import BadReportRequest, breakdown, report_filters, report_period, tables

    settings, _ = load_or_exit(config)
    try:
        period = report_period(settings, since, until or datetime.now(UTC).isoformat())
        filters = report_filters(settings, team, source, category)
        if by not in (None, "team", "source", "category"):
            raise BadReportRequest(f"--by: expected one of team, source, category, found {by!r}")
    except BadReportRequest as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from None
    with Session(open_database_or_exit(settings)) as session:
        figures = measure(session, settings, period, filters)
        groups = measure_by(session, settings, period, by, filters) if by else None
    for table in tables(figures, ZoneInfo(settings.service.timezone)):
        console.print(table)
    if groups is not None and by:
        console.print(breakdown(groups, by))


@app.command()
def digest(
    *,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="DATE", help="The recipient's local day: 2026-12-03, today or yesterday"
        ),
    ] = None,
    brand: Annotated[str | None, typer.Option(metavar="BRAND", help="Only this brand")] = None,
    to: Annotated[
        str | None, typer.Option(metavar="EMAIL", help="The recipient \\[default: the first configured]")
    ] = None,
    html: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the HTML, charts inlined, to this file")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Queue it in the mail outbox now")] = False,
    config: ConfigOption = None,
) -> None:
    """Preview a recipient's daily digest (their yesterday) as text, write its HTML, or send it now."""
    from social_care.clock import system_clock
    from social_care.digest_command import BadDigestRequest, digest_request, preview, send_now, sent_message

    settings, _ = load_or_exit(config)
    now = system_clock()
    try:
        request = digest_request(settings, to=to, day=date, brand=brand, send=send, now=now)
    except BadDigestRequest as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from None
    engine = open_database_or_exit(settings)
    made = preview(engine, settings, request, now)
    if not (html or send):
        typer.echo(made.mail.text)
    if made.quiet and not (request.day_given or send):
        hint = f"No mentions on {request.day.day} ({request.day.zone.key}); --date today shows today so far."
        errors.print(hint, markup=False)
    if html:
        _write_html(made.mail, html)
    if send:
        sent = send_now(engine, settings, request, made, at=now, by=operator(), environ=os.environ)
        console.print(sent_message(sent, settings), markup=False, highlight=False)
        if not sent.now:
            raise typer.Exit(1)


def _write_html(mail: Mail, path: Path) -> None:
    from social_care.digest.preview import write_preview

    try:
        written = write_preview(mail, path).resolve()
    except OSError as error:
        errors.print(f"Cannot write {path}: {error.strerror}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"The digest's HTML is in {written}: open it in a browser.", markup=False)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the database to the newest schema."""
    from social_care.storage import migrate
    from social_care.storage.engine import make_engine, redacted

    settings, _ = load_or_exit(config)
    url = reachable_database_or_exit(settings)
    engine = make_engine(url)
    migrate.upgrade(engine)
    console.print(f"{redacted(url)} is at revision {migrate.current_revision(engine)}", markup=False)


@rollups_app.command("rebuild")
def rollups_rebuild(
    config: ConfigOption = None,
    drop_purged_figures: Annotated[
        bool,
        typer.Option(
            "--drop-purged-figures",
            help="Rebuild even though closed cases were purged: their figures are lost",
        ),
    ] = False,
) -> None:
    """Recompute the hourly figures (reports, digests) from the case events."""
    import time

    from sqlmodel import Session

    from social_care.compliance.retention import cases_were_purged
    from social_care.metrics import rollups

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    with Session(engine) as session:
        purged = cases_were_purged(session)
    if purged and not drop_purged_figures:
        errors.print(
            "Closed cases were purged under [retention]: their figures live in the rollups alone, and a"
            " rebuild from the events kept would drop them. Pass --drop-purged-figures to rebuild anyway.",
            markup=False,
        )
        raise typer.Exit(2)
    started = time.monotonic()
    cases = rollups.rebuild(engine)
    console.print(f"Rollups rebuilt from the events of {cases:,} cases in {time.monotonic() - started:.1f} s")


@user_app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The employee's email, as in the configuration")],
    config: ConfigOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Set the password someone signs in to the inbox with."""
    from social_care.users import UnknownEmployee, set_employee_password

    settings, _ = load_or_exit(config)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        set_employee_password(settings, open_database_or_exit(settings), email, password)
    except (UnknownEmployee, ValueError) as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from None
    console.print(f"Password set for {email}.")


@user_app.command("away")
def user_away(
    email: Annotated[str, typer.Argument(help="The employee's email, as in the configuration")],
    config: ConfigOption = None,
) -> None:
    """Mark someone unavailable: no new cases, and their open ones go back to the pool."""
    _set_availability(email, config, available=False)
    console.print(f"{email} is away: their open cases go to someone else at the next sweep.", markup=False)


@user_app.command("back")
def user_back(
    email: Annotated[str, typer.Argument(help="The employee's email, as in the configuration")],
    config: ConfigOption = None,
) -> None:
    """Mark someone available again for new cases."""
    _set_availability(email, config, available=True)
    console.print(f"{email} is available again.", markup=False)


def _set_availability(email: str, config: Path | None, *, available: bool) -> None:
    from social_care.users import UnknownEmployee, set_availability

    settings, _ = load_or_exit(config)
    try:
        set_availability(settings, open_database_or_exit(settings), email, available=available)
    except UnknownEmployee as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from None


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The employee's email, as in the configuration")],
    name: Annotated[str, typer.Option(metavar="TEXT", help="What the token is for (a script, a tool)")],
    config: ConfigOption = None,
) -> None:
    """Make an API token that acts as someone, with their scope; it is printed this once."""
    from social_care.api_tokens import create_token
    from social_care.clock import system_clock
    from social_care.users import UnknownEmployee

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    try:
        token, secret = create_token(settings, engine, email, name, system_clock(), by=operator())
    except (UnknownEmployee, ValueError) as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(secret)  # alone on standard output, for `TOKEN=$(social-care token create ...)`
    errors.print(
        f"Token {token.id} ({token.name}) for {email}: copy it now, it is not shown again"
        " (only its SHA-256 is kept). Send it as: Authorization: Bearer <token>",
        markup=False,
        highlight=False,
    )


@token_app.command("list")
def token_list(
    email: Annotated[str, typer.Argument(help="Only this person's tokens")] = "",
    config: ConfigOption = None,
) -> None:
    """List the API tokens: whose, what for, when made and last used, and whether they work."""
    from social_care.api_tokens import list_tokens

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    listed = list_tokens(engine, email)
    engine.dispose()
    for item in listed:
        token = item.token
        used = f"{token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never"
        console.print(
            f"{token.id}  {item.email}  {token.name}  made {token.created_at:%Y-%m-%d %H:%M} UTC"
            f"  last used {used}  {item.state}",
            markup=False,
            highlight=False,
        )
    if not listed:
        console.print("No API tokens" + (f" for {email}." if email else "."), markup=False)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's number, from `token list`")],
    config: ConfigOption = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    from social_care.api_tokens import revoke_token
    from social_care.clock import system_clock

    settings, _ = load_or_exit(config)
    engine = open_database_or_exit(settings)
    token = revoke_token(engine, token_id, system_clock(), by=operator())
    engine.dispose()
    if token is None:
        errors.print(f"No API token {token_id}: `social-care token list` shows them.", markup=False)
        raise typer.Exit(2)
    console.print(f"Token {token_id} ({token.name}) is revoked: it opens nothing any more.", markup=False)


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
