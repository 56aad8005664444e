"""Finding cases by what was written and who wrote it, with the database's own text search.

SQLite keeps two FTS5 indexes (posts' text; authors' handle and name) in step with
their tables by triggers; PostgreSQL has GIN indexes over ``to_tsvector('simple', ...)``
of the same columns (``simple``: no stemming, as fit for Italian as for English and
handles). Both are made by migration 0011. A query is split into words, each matched
as a prefix ("pul" finds "Pulse"), all of them required; a case reference
("SC-000123" or "#123") finds that case. Nothing here scans every post with
``LIKE '%x%'``.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, TextualSelect, column, false, or_, select, text
from sqlalchemy.engine import Dialect
from sqlmodel import col

from social_care.storage.tables import Case, Mention

# What migration 0011 makes beside the models' tables (the schema check leaves them out).
SEARCH_OBJECTS = frozenset(
    {"mention_search", "author_search", "ix_mentions_text_search", "ix_authors_name_search"}
)
MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_REFERENCE = re.compile(r"^\s*(?:SC-|#)0*(\d{1,12})\s*$", re.IGNORECASE)


def words_of(query: str) -> list[str]:
    """The words searched for: letters and digits only, so no query can change the search's syntax."""
    return [word.lower() for word in _WORD.findall(query)][:MAX_WORDS]


def reference_of(query: str) -> int | None:
    found = _REFERENCE.match(query)
    return int(found.group(1)) if found else None


def matching_cases(query: str, dialect: Dialect) -> ColumnElement[bool]:
    """The condition on ``Case`` for the cases whose posts, author or reference match ``query``."""
    reference = reference_of(query)
    if reference is not None:
        return col(Case.id) == reference
    words = words_of(query)
    if not words:
        return false()
    if dialect.name == "sqlite":
        posts, authors = _sqlite(words)
    else:
        posts, authors = _postgresql(words)
    by_text = select(Mention.case_id).where(col(Mention.id).in_(posts))
    return or_(col(Case.id).in_(by_text), col(Case.author_id).in_(authors))


def _sqlite(words: list[str]) -> tuple[TextualSelect, TextualSelect]:
    expression = " ".join(f'"{word}"*' for word in words)  # words are \w+: no quote can get in
    posts = text("SELECT rowid FROM mention_search WHERE mention_search MATCH :words")
    authors = text("SELECT rowid FROM author_search WHERE author_search MATCH :words")
    rowid = column("rowid", Integer)
    return posts.bindparams(words=expression).columns(rowid), authors.bindparams(words=expression).columns(
        rowid
    )


def _postgresql(words: list[str]) -> tuple[TextualSelect, TextualSelect]:
    expression = " & ".join(f"{word}:*" for word in words)
    posts = text("SELECT id FROM mentions WHERE to_tsvector('simple', text) @@ to_tsquery('simple', :words)")
    authors = text(
        "SELECT id FROM authors"
        " WHERE to_tsvector('simple', handle || ' ' || name) @@ to_tsquery('simple', :words)"
    )
    ident = column("id", Integer)
    return posts.bindparams(words=expression).columns(ident), authors.bindparams(words=expression).columns(
        ident
    )
