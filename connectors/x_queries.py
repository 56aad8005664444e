"""X recent-search queries: the watch terms joined by OR, split so that none passes X's limit."""

from __future__ import annotations

QUERY_MAX_LENGTH = 512


def quoted(term: str) -> str:
    term = term.replace('"', "")
    return f'"{term}"' if " " in term or "-" in term else term


def lang_filter(lang: str) -> str:
    return f"lang:{lang}" if lang else ""


def split_queries(terms: list[str], suffix: str) -> list[str]:
    """Join ``terms`` with OR into as few queries as fit in 512 characters, each ending with ``suffix``."""
    queries: list[str] = []
    group: list[str] = []
    for term in terms:
        if group and len(_query([*group, term], suffix)) > QUERY_MAX_LENGTH:
            queries.append(_query(group, suffix))
            group = []
        group.append(term)
    if group:
        queries.append(_query(group, suffix))
    return queries


def _query(terms: list[str], suffix: str) -> str:
    body = terms[0] if len(terms) == 1 else f"({' OR '.join(terms)})"
    return f"{body} {suffix}".strip()
