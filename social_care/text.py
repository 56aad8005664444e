"""Text normalisation shared by matching and classification."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"), None
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, accents and look-alike forms folded, invisible characters removed.

    The result has the same length as the input would have after NFKC and the
    removal of invisible characters, so spans found in it point into that text.
    """
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def without_urls(text: str) -> str:
    return _URL.sub(" ", text)
