"""Shared fixtures: databases on both engines, a controlled clock, the demo configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from social_care.config import Config
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.databases import require_postgres, scratch_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tests empty it before use."""
    require_postgres()
    with scratch_postgres() as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        migrate.upgrade(engine)
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        _empty(engine)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    names = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return demo_config(tmp_path)
