"""The copies of a post's words made when it was shown: mails (assignment notices, SLA and crisis
alerts, digests) and the digest archive.

A post that must go (deleted on its platform, or its author asked to be
forgotten) must go from there too. The copies are rendered documents, so the
words are found as they were written into them: as typed, with their white
space flattened, cut to the digest's excerpt, and HTML-escaped the way Jinja
escapes them (``'`` as ``&#39;``) and the way :func:`html.escape` does. Each
is replaced by a marker saying why.

Only the documents that can hold them are read: digests of the days the posts
were written and the two after (a digest tells the day before it), and mails
made since the oldest post.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from markupsafe import escape
from sqlalchemy import update
from sqlmodel import Session, col, select

from social_care.digest.formatting import Formatter
from social_care.storage.tables import DigestRun, MailEntry

# Shorter words than these are left alone: they would hit other words.
SHORTEST_TEXT, SHORTEST_NAME = 4, 3
BATCH = 200  # documents read at a time: a digest inlines its charts, so rows are large


def words_of(texts: Iterable[str], names: Iterable[str] = ()) -> list[str]:
    """Each post's text in the forms documents hold it, and names as given, longest first so that
    a name inside a text is not replaced before the text."""
    found: set[str] = set()
    for text in (text for text in texts if len(text.strip()) >= SHORTEST_TEXT):
        found |= {text, " ".join(text.split()), Formatter.excerpt(text)}
    found |= {name for name in names if len(name) >= SHORTEST_NAME}
    return sorted(found, key=len, reverse=True)


def replaced(document: str, words: Sequence[str], marker: str, *, markup: bool) -> str:
    for word in words:
        forms = {str(escape(word)), html.escape(word), html.escape(word, quote=False)} if markup else {word}
        for form in forms:
            document = document.replace(form, marker)
    return document


def scrub_copies(
    session: Session,
    words: Sequence[str],
    marker: str,
    *,
    first: datetime,
    last: datetime,
    mails: bool = True,
) -> tuple[int, int]:
    """Replace ``words`` with ``marker`` in the digests of the days from ``first`` to ``last`` (posts'
    times) and, with ``mails``, in the mails made since ``first``; how many of each changed."""
    if not words:
        return 0, 0
    digests = _rewrite(
        session,
        DigestRun,
        ("text", "html"),
        words,
        marker,
        col(DigestRun.day) >= (first - timedelta(days=1)).date(),
        col(DigestRun.day) <= (last + timedelta(days=2)).date(),
    )
    sent = 0
    if mails:
        since = first - timedelta(hours=1)
        sent = _rewrite(
            session, MailEntry, ("subject", "text", "html"), words, marker, col(MailEntry.created_at) >= since
        )
    return digests, sent


def _rewrite(
    session: Session,
    table: type[DigestRun] | type[MailEntry],
    fields: tuple[str, ...],
    words: Sequence[str],
    marker: str,
    *where: object,
) -> int:
    """Rewrite the ``fields`` of the rows of ``table`` matching ``where`` that hold any of ``words``."""
    columns = [col(table.id), *(getattr(table, name) for name in fields)]
    changes: dict[int, dict[str, str]] = {}
    rows = session.execute(select(*columns).where(*where).execution_options(yield_per=BATCH))  # type: ignore[arg-type]
    for row_id, *values in rows:
        new = {
            name: replaced(value, words, marker, markup=name == "html")
            for name, value in zip(fields, values, strict=True)
        }
        if any(new[name] != value for name, value in zip(fields, values, strict=True)):
            changes[row_id] = new
    for row_id, new in changes.items():
        session.execute(update(table).where(col(table.id) == row_id).values(**new))
    return len(changes)
