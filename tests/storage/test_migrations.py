"""The schema comes from Alembic migrations, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from social_care.config.models import DatabaseSettings
from social_care.storage import migrate
from social_care.storage.engine import database_url, make_engine, redacted
from social_care.storage.tables import Author, Mention
from tests.support.databases import require_postgres, scratch_postgres

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_migrated_schema_is_current(engine: Engine) -> None:
    assert migrate.is_current(engine)


def test_the_queue_and_deduplication_have_their_indexes(engine: Engine) -> None:
    inspector = inspect(engine)
    case_indexes = {index["name"]: index["column_names"] for index in inspector.get_indexes("cases")}
    assert case_indexes["ix_cases_queue"] == ["status", "response_due_at"]
    assert case_indexes["ix_cases_team_status"] == ["team", "status"]
    assert case_indexes["ix_cases_assignee_status"] == ["assignee_id", "status"]
    unique = [set(constraint["column_names"]) for constraint in inspector.get_unique_constraints("mentions")]
    assert {"platform", "external_id"} in unique


def test_the_same_post_cannot_be_stored_twice(engine: Engine) -> None:
    with Session(engine) as session:
        author = Author(platform="demo", external_id="u1", handle="anna")
        session.add(author)
        session.flush()
        for _ in range(2):
            session.add(
                Mention(
                    source_id="demo",
                    platform="demo",
                    external_id="p1",
                    author_id=author.id,
                    text="hi",
                    posted_at=NOW,
                    fetched_at=NOW,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_times_come_back_in_utc(engine: Engine) -> None:
    with Session(engine) as session:
        author = Author(platform="demo", external_id="u1", handle="anna")
        session.add(author)
        session.flush()
        rome_time = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
        mention = Mention(
            source_id="demo",
            platform="demo",
            external_id="p1",
            author_id=author.id,
            text="hi",
            posted_at=rome_time,
            fetched_at=NOW,
        )
        session.add(mention)
        session.commit()
        session.expire_all()
        stored = session.get_one(Mention, mention.id)
        assert stored.posted_at == NOW and stored.posted_at.tzinfo == UTC


def test_migrations_go_down_and_up_again_on_a_new_postgresql_database() -> None:
    require_postgres()
    with scratch_postgres() as url:
        engine = make_engine(url)
        try:
            assert migrate.current_revision(engine) is None
            migrate.upgrade(engine)
            assert "cases" in inspect(engine).get_table_names()
            migrate.downgrade(engine, "base")
            assert "cases" not in inspect(engine).get_table_names()
            migrate.upgrade(engine)
            assert migrate.is_current(engine)
        finally:
            engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_database_url_prefers_the_environment_and_hides_passwords(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = DatabaseSettings(path=str(tmp_path / "x.db"))
    assert database_url(settings, {}) == f"sqlite:///{tmp_path / 'x.db'}"
    url = database_url(settings, {"DATABASE_URL": "postgresql://care:s3cret@db.internal/care"})
    assert url == "postgresql+psycopg://care:s3cret@db.internal/care"
    assert "s3cret" not in redacted(url)
