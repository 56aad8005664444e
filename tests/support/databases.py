"""Real databases for the storage tests: a SQLite file and a PostgreSQL database of our own.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, trust auth). The
tests create a database with a random name and drop it at the end, so they
never touch a database someone configured. When the server is unreachable the
PostgreSQL variants are skipped, except under ``CI=true``, where that fails the
run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

ADMIN_URL = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_reachable() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it can."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


def require_postgres() -> None:
    reason = postgres_reachable()
    if reason is None:
        return
    message = f"PostgreSQL at {ADMIN_URL} is unreachable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database; its SQLAlchemy URL."""
    name = f"social_care_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
