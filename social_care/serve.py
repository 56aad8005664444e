"""``social-care run``: workers in the background, the inbox in the foreground."""

from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from rich.console import Console

from social_care.command_line import open_database_or_exit
from social_care.config.models import Config
from social_care.config.secrets import MissingSecret, read_secret
from social_care.runtime import STOP_SECONDS, build_service, clear_failures, start_workers
from social_care.storage.engine import database_url, redacted
from social_care.users import FirstSignIn, first_admin_password
from social_care.web.app import create_app


def session_secret(config: Config) -> str:
    """The configured secret key; in development, a fresh one per start (sessions end at restart)."""
    try:
        return read_secret(config.service.secret_key_env, os.environ).get_secret_value()
    except MissingSecret:
        if config.service.environment == "production":
            raise
        return secrets.token_urlsafe(32)


def serve(
    config: Config,
    path: Path,
    *,
    host: str,
    port: int,
    console: Console,
    web: bool = True,
    workers: bool = True,
) -> None:
    """Run the inbox, the workers, or both, until Ctrl-C or SIGTERM."""
    url = database_url(config.database, os.environ)
    engine = open_database_or_exit(config)
    scheduler = None
    try:
        with _sigterm_like_ctrl_c():
            service = build_service(config, engine)
            if workers:
                clear_failures(service)
                scheduler = start_workers(service, stop_within=STOP_SECONDS)
            # Without the inbox, Ctrl-C and SIGTERM only set an event from here on, before the greeting
            # says Ctrl-C stops: a KeyboardInterrupt raised while a garbage collector's callback
            # runs is swallowed ("Exception ignored in ..."), and the process would never stop.
            stop = None if web else _stop_on_signals()
            # Before the greeting says Ctrl-C stops: an interrupt inside its transaction would leave
            # the workers waiting on its lock. A password is made only where a person reads it.
            login = first_admin_password(config, engine, generate=web and on_a_terminal(console))
            _greet(console, config, path, url, f"http://{host}:{port}" if web else None)
            explain_login(console, login)
            if web:
                app = create_app(config, engine, secret_key=session_secret(config))
                # Forwarded headers are believed only from the configured proxies, by the app itself:
                # uvicorn's own default believes any client on 127.0.0.1.
                uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
            elif stop is not None:
                stop.wait()
    except KeyboardInterrupt:
        pass  # Ctrl-C (or SIGTERM) before uvicorn took over the signals: stop just as cleanly
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)  # jobs stop at their next step, or are left to end with the process
        engine.dispose()
        console.print("social-care stopped.")


@contextmanager
def _sigterm_like_ctrl_c() -> Iterator[None]:
    """SIGTERM stops the service as Ctrl-C does, workers and all.

    uvicorn shuts down on SIGTERM and then raises the signal again for the
    handler it found; with the default one the process would die right there,
    before the workers stop and the database is closed.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_on_signals() -> threading.Event:
    """An event Ctrl-C or SIGTERM sets, to wait on (uvicorn does this when it serves the inbox)."""
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    return stop


def _greet(console: Console, config: Config, path: Path, url: str, address: str | None) -> None:
    console.print(f"social-care is running with {path} on {redacted(url)}", highlight=False, markup=False)
    sources = ", ".join(f"{source.id} ({source.platform})" for source in config.sources if source.enabled)
    console.print(f"Watching: {sources}", markup=False)
    if address is None:
        console.print("Workers only: no inbox in this process (Ctrl-C stops)")
        return
    console.print(f"Inbox: [bold]{address}/queue[/]  (Ctrl-C stops)", highlight=False)


def on_a_terminal(console: Console) -> bool:
    """Whether the console writes to a terminal a person reads, rather than to a log or a pipe.

    Asked of the file itself: rich takes ``FORCE_COLOR`` for a terminal, and a
    service's coloured output still ends in its log.
    """
    isatty = getattr(console.file, "isatty", None)
    return bool(isatty and isatty())


def explain_login(console: Console, login: FirstSignIn | None) -> None:
    """How to sign in; a generated password is printed here, once, and only on a terminal."""
    if login is None:
        console.print('Nobody can sign in: add an employee with role = "admin" to the configuration.')
        return
    email = login.admin
    if login.password is not None:
        console.print(
            f"Log in as [bold]{email}[/] with password [bold]{login.password}[/] "
            f"(generated now and shown once; change it with: social-care user set-password {email})",
            highlight=False,
        )
    elif login.ready:
        console.print(
            f"Log in as {email} (or another employee) with the password set earlier; "
            f"reset it with: social-care user set-password {email}",
            markup=False,
        )
    else:
        console.print(
            f"Nobody can sign in yet. Set the first admin's password with: "
            f"social-care user set-password {email} (a password is generated and shown only when "
            "the inbox starts on a terminal, never in a log)",
            markup=False,
        )
