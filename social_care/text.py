"""Text normalisation and tokens, shared by matching and classification.

A post is split into word tokens once; each token is folded (case, accents,
full-width and look-alike letters) and keeps its span in the original text, so
a match can be shown where the writer put it. URLs are ignored; invisible
characters (zero-width, direction overrides) are dropped before splitting, so
``Vel\u200bora`` is still one word; @handles and #hashtags are split into their
words (``#VeloraPulse`` -> ``velora pulse``, ``@velora_help`` -> ``velora help``),
and :attr:`Tokens.tags` says which words came from one.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from functools import lru_cache
from itertools import accumulate

_INVISIBLE = (
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00ad"
)
_INVISIBLE_CHARS = re.compile(f"[{_INVISIBLE}]")
_INVISIBLE_SET = frozenset(_INVISIBLE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPLIT = re.compile(r"([^\W_]+(?:_[^\W_]+)*)")
# The same words in text without underscores, found by simpler and faster means.
_PLAIN_WORD = re.compile(r"[^\W_]+")
# ASCII and Latin-1 text (most Western European posts) as bytes: letters and digits kept, the
# rest a space; bytes.translate with a table is far cheaper than str.translate with a mapping.
_SEPARATORS = bytes(code if chr(code).isalnum() else ord(" ") for code in range(256))
# Where a word may need splitting further: after @ or #, at "_", at a camel hump.
_COMPOUND_HINT = re.compile(r"[@#_]|[a-z][A-Z]")
_CAMEL_HUMP = re.compile(r"[a-z][A-Z]")
# "sooooo", "pleaseeee": three or more of a letter become two.
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][^\W\d_A-Z])|[A-Z]?[^\W\d_A-Z]+|[A-Z]+|\d+")
# Latin look-alikes from Cyrillic, Greek and Armenian, as used to dodge filters.
# The body of an @handle or a #hashtag, from the character after its mark.
_TAG_BODY = re.compile(r"[^\W_]*(?:_[^\W_]+)*")
_LOOK_ALIKES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u0261\u0585\u1d04\u1d0f\u03b1"
    "\u03bf\u03b9\u03c1\u03c4\u03c5\u03bd\u03ba",
    "aeopcyxijsdgocoaoiptuvk",
)


class Tokens:
    """A post's words, folded, with their spans in the original text.

    Most posts never need a span (nothing matched), so a post split on the
    plain path keeps its text and its words as written, and finds the
    spans on first use.
    """

    __slots__ = ("_ends", "_flat", "_starts", "_tags", "_text", "_written", "unique", "words")

    def __init__(
        self,
        words: list[str],
        starts: list[int] | None = None,
        ends: list[int] | None = None,
        *,
        text: str = "",
        written: list[str] | None = None,
        flat: str | None = None,
    ) -> None:
        self.words = words
        self._text = text
        self._written = written
        # The text with every character but letters and digits made a space, when the plain path
        # made it: where a word stands is then counted without finding every span.
        self._flat = flat
        self._starts = starts
        self._ends = ends
        self._tags: list[tuple[str, int, int]] | None = None
        # The distinct words, made once and shared by the matcher and the classifier.
        self.unique = set(words)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._spans_from_text()
        return self._starts  # type: ignore[return-value]

    @property
    def ends(self) -> list[int]:
        if self._ends is None:
            self._spans_from_text()
        return self._ends  # type: ignore[return-value]

    @property
    def narrow(self) -> bool:
        """Whether the text was split as ASCII or Latin-1, so holds no emoji (known without looking)."""
        return self._flat is not None

    @property
    def compounded(self) -> bool:
        """Whether a word may have been split from a longer one ("iPhone", "@velora_help"): only a
        post whose spans were needed can hold one."""
        return self._starts is not None

    @property
    def tags(self) -> list[tuple[str, int, int]]:
        """The @handles and #hashtags, as (mark, first word, word after the last): the name of an
        account or a topic, not the writer's own words."""
        if self._tags is None:
            text = self._text
            if "@" not in text and "#" not in text:
                self._tags = []
            elif self._starts is None and self._flat is not None:
                self._tags = _tagged_plainly(text, self._flat)
            else:
                self._tags = _tagged(text, self.starts)
        return self._tags

    def span(self, first: int, last: int) -> tuple[int, int]:
        """The original-text span of words ``first`` to ``last`` inclusive."""
        return self.starts[first], self.ends[last]

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tokens):
            return NotImplemented
        return (self.words, self.starts, self.ends) == (other.words, other.starts, other.ends)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Tokens(words={self.words!r}, starts={self.starts!r}, ends={self.ends!r})"

    def _spans_from_text(self) -> None:
        self._starts, self._ends = _spans(self._written or [], self._text)


def _spans(written: list[str], text: str) -> tuple[list[int], list[int]]:
    """Where each word, as written and in order, starts and ends in ``text``.

    Words are whole runs of letters and digits, so the next one is found from
    the end of the last: no separator holds a letter or a digit.
    """
    starts, ends = [], []
    end = 0
    for word in written:
        start = text.find(word, end)
        end = start + len(word)
        starts.append(start)
        ends.append(end)
    return starts, ends


def _tag_bodies(text: str) -> list[tuple[str, int, int]]:
    """Each @handle and #hashtag as (mark, where its body starts, where it ends) in ``text``; an
    "@" inside a word, as in an email address, marks none."""
    tags = []
    for mark in "@#":
        at = text.find(mark)
        while at >= 0:
            if not (at and text[at - 1].isalnum()):
                end = _TAG_BODY.match(text, at + 1).end()  # type: ignore[union-attr]
                if end > at + 1:
                    tags.append((mark, at + 1, end))
            at = text.find(mark, at + 1)
    return tags


def name_words(name: str) -> list[str]:
    """The folded words of an @handle's or a #hashtag's body, split as :func:`tokenize` splits it."""
    if "_" not in name and (name[1:].islower() or name.isupper()):
        return [fold_word(name)]
    return [fold_word(part.group()) for part in _CAMEL.finditer(name)]


def _tagged(text: str, starts: list[int]) -> list[tuple[str, int, int]]:
    """Each @handle and #hashtag as (mark, first word, word after the last)."""
    tags = []
    for mark, start, end in _tag_bodies(text):
        first = last = bisect_left(starts, start)
        while last < len(starts) and starts[last] < end:
            last += 1
        if last > first:
            tags.append((mark, first, last))
    return tags


def _tagged_plainly(text: str, flat: str) -> list[tuple[str, int, int]]:
    """As :func:`_tagged`, for a post of plain words only (no compound to split): each tag is one
    word, the one after as many words as the flat text holds before its mark."""
    tags = []
    for mark, start, _ in _tag_bodies(text):
        index = len(flat[:start].split())
        tags.append((mark, index, index + 1))
    return tags


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """Lower case without accents; look-alike letters from other scripts made Latin."""
    if word.isascii():
        return _ELONGATED.sub(_two_of_them, word.lower())
    text = _ELONGATED.sub(_two_of_them, unicodedata.normalize("NFKC", word).casefold())
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_LOOK_ALIKES)


# Each word as written -> folded, or "" when it might need splitting (camel case, as a handle).
# A plain dict rather than lru_cache: looked up for every word of every post.
_PLAIN: dict[str, str] = {}
_PLAIN_LIMIT = 200_000


def _fold_plain(word: str) -> str:
    if len(_PLAIN) >= _PLAIN_LIMIT:
        _PLAIN.clear()
    if word.isdigit() and word.isascii():
        _PLAIN[word] = word  # a number: nothing to fold, and real text is full of new ones
        return word
    if word[1:].islower() or word.isupper() or [part.group() for part in _CAMEL.finditer(word)] == [word]:
        _PLAIN[word] = folded = fold_word(word)
    else:
        _PLAIN[word] = folded = ""
    return folded


def _folded_plain(written: list[str]) -> list[str]:
    """Each word folded ("" where it might need splitting), from the cache where it can be."""
    cache = _PLAIN
    words = []
    for word in written:
        folded = cache.get(word)
        words.append(folded if folded is not None else _fold_plain(word))
    return words


def _two_of_them(elongated: re.Match[str]) -> str:
    """A function, not a template: re then parses no template on every call."""
    return elongated.group(1) * 2


def clear_caches() -> None:
    """Forget every folded word (the benchmark starts each measurement cold)."""
    fold_word.cache_clear()
    _PLAIN.clear()


def fold(text: str) -> str:
    """The folded form of a whole string (words separated as written)."""
    return " ".join(tokenize(text).words)


def tokenize(text: str) -> Tokens:
    """Split and fold ``text``; the splitting happens in C (``bytes.translate``, ``str.split``, ``re``).

    The plain path (no underscores, no invisible characters, no word that could
    be camel case or a compound handle) folds each word through a per-word
    cache and leaves the spans for later; anything else takes the full path.
    """
    if "://" in text or "www." in text:
        text = _URL.sub(_blank, text)
    if "_" in text:
        return _tokenize_fully(text)
    if text.isascii():
        flat = text.encode("ascii").translate(_SEPARATORS).decode("ascii")
        written = flat.split()
    elif (latin := _latin1(text)) is not None and "\u00ad" not in text:
        flat = latin.translate(_SEPARATORS).decode("latin-1")
        written = flat.split()
    elif _INVISIBLE_SET.isdisjoint(text):
        flat, written = None, _PLAIN_WORD.findall(text)
    else:
        return _tokenize_fully(text)
    words = _folded_plain(written)
    if all(words):
        return Tokens(words, text=text, written=written, flat=flat)
    return _with_compounds(text, written, words, flat)


def _latin1(text: str) -> bytes | None:
    """The text as Latin-1 bytes, which C splits far faster than a Unicode pattern can.

    ``None`` when it holds other characters (emoji, curly quotes, other scripts).
    """
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def _with_compounds(text: str, written: list[str], words: list[str], flat: str | None) -> Tokens:
    """The plain path's words, with the few that may be compounds split as the full path would.

    A word is split when it is camel-cased or follows "@" or "#"; without
    underscores in the text, no other word can be.
    """
    starts, ends = _spans(written, text)
    for index in reversed([index for index, word in enumerate(words) if not word]):
        start = starts[index]
        word = text[start : ends[index]]
        if not (_CAMEL_HUMP.search(word) or (start and text[start - 1] in "@#")):
            words[index] = fold_word(word)
            continue
        pieces = list(_CAMEL.finditer(word))
        words[index : index + 1] = [fold_word(piece.group()) for piece in pieces]
        starts[index : index + 1] = [start + piece.start() for piece in pieces]
        ends[index : index + 1] = [start + piece.end() for piece in pieces]
    return Tokens(words, starts, ends, text=text, flat=flat)


def _tokenize_fully(original: str) -> Tokens:
    text, positions = _visible(original)
    parts = _SPLIT.split(text)
    offsets = list(accumulate(map(len, parts), initial=0))
    words, starts, ends = list(map(fold_word, parts[1::2])), offsets[1:-1:2], offsets[2::2]
    if _COMPOUND_HINT.search(text):
        _split_compounds(text, words, starts, ends)
    if positions is not None:
        starts = [positions[index] for index in starts]
        ends = [positions[index - 1] + 1 for index in ends]
    return Tokens(words, starts, ends, text=original)


def _split_compounds(text: str, words: list[str], starts: list[int], ends: list[int]) -> None:
    """Handles, hashtags and camel-cased words become their parts, in place."""
    compounds = set()
    for hint in _COMPOUND_HINT.finditer(text):
        position = hint.start() + (1 if hint.group() in "@#" else 0)
        index = bisect_right(starts, position) - 1
        if index >= 0 and starts[index] <= position < ends[index]:
            compounds.add(index)
    for index in sorted(compounds, reverse=True):
        word = text[starts[index] : ends[index]]
        if "_" not in word and (word[1:].islower() or word.isupper()):
            continue  # "@united", "#SXSW": nothing to split
        parts = list(_CAMEL.finditer(text, starts[index], ends[index]))
        words[index : index + 1] = [fold_word(part.group()) for part in parts]
        starts[index : index + 1] = [part.start() for part in parts]
        ends[index : index + 1] = [part.end() for part in parts]


def without_urls(text: str) -> str:
    return _URL.sub(" ", text)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _visible(text: str) -> tuple[str, list[int] | None]:
    """The text without invisible characters, and where each kept character was."""
    if not _INVISIBLE_CHARS.search(text):
        return text, None
    kept = [(index, char) for index, char in enumerate(text) if char not in _INVISIBLE]
    return "".join(char for _, char in kept), [index for index, _ in kept]
