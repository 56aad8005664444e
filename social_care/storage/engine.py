"""Engines for the embedded SQLite default and for PostgreSQL.

SQLite runs in WAL mode with every transaction started ``BEGIN IMMEDIATE``, so a
writer takes the lock up front and two writers queue instead of failing half-way.
PostgreSQL is reached through psycopg 3 from a ``DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from social_care.config.models import DatabaseSettings


def database_url(settings: DatabaseSettings, environ: Mapping[str, str]) -> str:
    """``DATABASE_URL`` (by the configured variable name) when set, else the SQLite file."""
    url = environ.get(settings.url_env, "").strip()
    if not url:
        return f"sqlite:///{Path(settings.path).expanduser().resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def redacted(url: str) -> str:
    """The URL with any password hidden, for logs and start-up messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        connection.isolation_level = None
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
