"""The queue's text search and the indexes of its views.

SQLite: FTS5 indexes of the posts' text and the authors' handle and name, kept in
step by triggers (external content: the text is stored once, in its table).
PostgreSQL: GIN indexes over ``to_tsvector('simple', ...)`` of the same columns,
the very expressions :mod:`social_care.search` queries.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE = [
    "CREATE VIRTUAL TABLE mention_search USING fts5("
    "text, content='mentions', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER mention_search_insert AFTER INSERT ON mentions BEGIN"
    " INSERT INTO mention_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER mention_search_delete AFTER DELETE ON mentions BEGIN"
    " INSERT INTO mention_search(mention_search, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER mention_search_update AFTER UPDATE OF text ON mentions BEGIN"
    " INSERT INTO mention_search(mention_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO mention_search(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO mention_search(mention_search) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE author_search USING fts5("
    "handle, name, content='authors', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER author_search_insert AFTER INSERT ON authors BEGIN"
    " INSERT INTO author_search(rowid, handle, name) VALUES (new.id, new.handle, new.name); END",
    "CREATE TRIGGER author_search_delete AFTER DELETE ON authors BEGIN"
    " INSERT INTO author_search(author_search, rowid, handle, name)"
    " VALUES ('delete', old.id, old.handle, old.name); END",
    "CREATE TRIGGER author_search_update AFTER UPDATE OF handle, name ON authors BEGIN"
    " INSERT INTO author_search(author_search, rowid, handle, name)"
    " VALUES ('delete', old.id, old.handle, old.name);"
    " INSERT INTO author_search(rowid, handle, name) VALUES (new.id, new.handle, new.name); END",
    "INSERT INTO author_search(author_search) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER author_search_update",
    "DROP TRIGGER author_search_delete",
    "DROP TRIGGER author_search_insert",
    "DROP TABLE author_search",
    "DROP TRIGGER mention_search_update",
    "DROP TRIGGER mention_search_delete",
    "DROP TRIGGER mention_search_insert",
    "DROP TABLE mention_search",
]
_POSTGRESQL = [
    "CREATE INDEX ix_mentions_text_search ON mentions USING gin (to_tsvector('simple', text))",
    "CREATE INDEX ix_authors_name_search ON authors USING gin (to_tsvector('simple', handle || ' ' || name))",
]
_POSTGRESQL_DOWN = ["DROP INDEX ix_authors_name_search", "DROP INDEX ix_mentions_text_search"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWN if sqlite else _POSTGRESQL_DOWN:
        op.execute(statement)
