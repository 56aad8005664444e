"""Migration 0004 gives the database the same SLA and survey tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import social_care.storage.tables  # noqa: F401 (registers the tables)
from social_care.search import SEARCH_OBJECTS


def _modelled(item: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    """The text search's indexes (and FTS5's own tables) live beside the models, by migration 0011."""
    return not (name and any(name.startswith(search) for search in SEARCH_OBJECTS))


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _modelled})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_an_alert_is_unique_per_case_clock_and_level_and_an_answer_per_case(engine: Engine) -> None:
    inspector = inspect(engine)
    alerts = {item["name"]: item["column_names"] for item in inspector.get_unique_constraints("sla_alerts")}
    answers = {
        item["name"]: item["column_names"] for item in inspector.get_unique_constraints("csat_responses")
    }
    assert alerts == {"uq_sla_alerts_once": ["case_id", "target", "level", "due_at"]}
    assert answers == {"uq_csat_responses_case_id": ["case_id"]}
    indexes = {item["name"] for item in inspector.get_indexes("cases")}
    assert "ix_cases_sla_next_alert_at" in indexes
