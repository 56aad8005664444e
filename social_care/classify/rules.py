"""The rule classifier: cues per language, weighed into an explainable verdict.

A post is read once, word by word. Negative cues (faults, delays, anger, the
common sarcastic turns) make a complaint, also when it is phrased as a question
("why hasn't my refund arrived?"); a negator flips the positive word after it
("not happy", "non è buono") and silences a negative one ("non ho avuto
problemi"). A question or a request without negative cues is an inquiry;
positive cues alone are praise; the rest is other. Every verdict lists the cues
that decided it, so a person can check it and correct it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from social_care.classify.lexicon import (
    STRONG,
    Cue,
    Key,
    Lexicon,
    Reading,
    available_languages,
    load_lexicon,
)
from social_care.matching import Match
from social_care.text import Tokens, fold_word, tokenize, without_urls

PRIORITIES = ("low", "normal", "high", "urgent")
NEGATION_REACH = 3
WIDE_REACH = 10_000
# Positive weight that makes a question without a request praise ("isn't it amazing?! love it").
ENTHUSIASM = 2
_BASE_PRIORITY = {"complaint": 1, "inquiry": 1, "praise": 0, "other": 0}
_BOOSTED_TIERS = {"premium", "critical"}
_WITH_CLUSTER = {"complaint", "inquiry"}
# The categories that are about someone: without a target they are nobody's case.
_AIMED = {"complaint", "praise"}
_RETWEET = re.compile(r"^\s*RT\s+@", re.IGNORECASE)
# Where a sentence may start after the text's start.
_SENTENCE_ENDS = ".!?\n"
# The first two words of each sentence, after any leading @handles.
_OPENERS = re.compile(
    rf"(?:^|[{re.escape(_SENTENCE_ENDS)}]\s*)(?:(?:RT\s+)?@\w+:?\s*)*([^\W\d_]+)[\s'\u2019]+([^\W\d_]+)"
)
# Smileys and emoji that carry a mood: hearts (also the card suit), smiles, thumbs, a tick, a V sign;
# frowns, anger, eye-rolls and the upside-down face of irony ("Great start to the week \U0001f643").
_HAPPY_EMOJI = (
    "\u2764\u2728\U0001f600\U0001f601\U0001f603\U0001f604\U0001f606-\U0001f60d\U0001f618\U0001f44d\U0001f44c\U0001f44f\U0001f64c"
    "\U0001f64f\U0001f970\U0001f929\U0001f973\U0001f4aa\U0001f60e"
    "\U0001f493-\U0001f49f\U0001f9e1\u263a\u2665\u2705\u270c"
)
_UNHAPPY_EMOJI = (
    "\U0001f620-\U0001f627\U0001f610-\U0001f616\U0001f61e\U0001f61f\U0001f629\U0001f62b\U0001f62d\U0001f630"
    "\U0001f44e\U0001f641\u2639\U0001f644\U0001f92c\U0001f494\U0001f643"
)
# Emoji that, like "!", stress a mood rather than carry one: a party popper, fire, a hundred
# points ("\U0001f525 OFFERTA LAMPO \U0001f525" is an advert, "love it \U0001f525" praise).
_STRESS = re.compile("[\U0001f389\U0001f525\U0001f4af]")
# Each pattern opens with one character class, so that re skips ahead to a candidate
# character instead of trying every branch at every position (":-)", "<3", an emoji).
_HAPPY = re.compile(f"[:;=<{_HAPPY_EMOJI}](?:(?<=[:;=])-?[)D]|(?<=<)3|(?<=[{_HAPPY_EMOJI}]))")
_UNHAPPY = re.compile(f"[:;={_UNHAPPY_EMOJI}](?:(?<=[:;=])-?\\(|(?<=[{_UNHAPPY_EMOJI}]))")
# The same faces in ASCII text, where a smaller class is quicker still.
_ASCII_HAPPY = re.compile(r"[:;=<](?:(?<=[:;=])-?[)D]|(?<=<)3)")
_ASCII_UNHAPPY = re.compile(r"[:;=]-?\(")
_EMOJI = re.compile("[\u2600-\U0010ffff]")
# The kinds of cue that count as listed unless a negator or a lack word turns them.
_PLAIN_KINDS = frozenset({"negative", "positive", "request", "question", "urgent", "offer"})
# An @handle or a #hashtag: its mark and its body (an "@" inside a word, as in an email, is none).
# The mark comes first and the look back after it, so that re skips ahead to a mark (a pattern
# opening with a look back is tried at every position, at twice the cost).
_NAMES = re.compile(r"[@#](?<!\w[@#])[^\W_]+(?:_[^\W_]+)*")
_HANDLE = re.compile(r"@(?<!\w@)[^\W_]")
# "I" as a word of its own, not the start of a brand's name ("iPhone", "iPad").
_I = {"i"}
_ALONE_I = re.compile(r"[iI](?<![^\W_][iI])(?![^\W_])")
# Punctuation that ends a negator's reach; a dash only as " - ", not inside "pop-up".
_CLAUSE_MARKS = ",.;:!?()[]\u2013\u2014|"


class Verdict(NamedTuple):
    """What a post is, how sure, and why (an immutable record, cheap to make per post)."""

    category: str
    confidence: float
    cluster: str
    sentiment: float
    language: str
    priority: str
    reasons: list[str]
    retweet: bool = False


class _Evidence:
    """The cues found in a post, by kind, with their total weights."""

    __slots__ = ("found", "totals")

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}
        self.totals: dict[str, int] = {}

    def add(self, kind: str, cue: str, weight: int = 1) -> None:
        if kind in self.found:
            self.found[kind].append(cue)
            self.totals[kind] += weight
        else:
            self.found[kind] = [cue]
            self.totals[kind] = weight

    def has(self, kind: str) -> bool:
        return kind in self.found

    def weight(self, kind: str) -> int:
        return self.totals.get(kind, 0)

    def count(self, kind: str) -> int:
        return len(self.found.get(kind, ()))

    def cues(self, kind: str) -> list[str]:
        return list(dict.fromkeys(self.found.get(kind, ())))


class Decision(NamedTuple):
    """The rules' own call on a read post; another judge's call (a trained model's) is a plain tuple."""

    category: str
    confidence: float
    reasons: list[str]


class RuleReading(NamedTuple):
    """A post as the rules read it: its words, language and cues, before any verdict."""

    text: str
    tokens: Tokens
    language: str
    lexicon: Lexicon
    reading: Reading
    evidence: _Evidence
    question: bool
    personal: bool

    @property
    def links(self) -> bool:
        """Whether the post holds a link."""
        return "://" in self.text or "www." in self.text

    def addressed(self) -> bool:
        """Whether the post speaks to someone: an @handle or a second-person word ("you", "voi")."""
        text = self.text
        return bool("@" in text and _HANDLE.search(text)) or not self.lexicon.second_person.isdisjoint(
            self.reading.unique
        )

    def signals(self) -> dict[str, float]:
        """The cues as numbers, by kind (what a trained model weighs beside the words)."""
        totals = self.evidence.totals
        return {
            "negative": totals.get("negative", 0),
            "positive": totals.get("positive", 0),
            "request": self.evidence.count("request"),
            "urgent": self.evidence.count("urgent"),
            "question": float(self.question),
            "personal": float(self.personal),
        }


class RuleClassifier:
    def __init__(self, product_tiers: Mapping[str, str] | None = None) -> None:
        self._lexicons = {language: load_lexicon(language) for language in available_languages()}
        self._ordered = list(self._lexicons.values())
        self._tiers = dict(product_tiers or {})

    def classify(
        self,
        text: str,
        *,
        language: str | None = None,
        followers: int | None = None,
        direct: bool = False,
        matches: list[Match] | None = None,
        tokens: Tokens | None = None,
    ) -> Verdict:
        return self.judge(
            self.read(text, language=language, tokens=tokens),
            followers=followers,
            direct=direct,
            matches=matches,
        )

    def read(self, text: str, *, language: str | None = None, tokens: Tokens | None = None) -> RuleReading:
        """The cues of a post, before any verdict: what :meth:`judge` decides on and a model learns from."""
        if tokens is None:
            tokens = tokenize(text)
        lexicon, detected = self._lexicon_for(tokens.unique, language)
        names = _NAMES.findall(text) if "@" in text or "#" in text else None
        quiet = names is None or lexicon.quiet_names.issuperset(names)
        reading = lexicon.read(tokens, None if quiet else _names(names, tokens, lexicon))
        unique = reading.unique
        evidence = _scan(reading, lexicon, text, tokens)
        _emoticons(text, evidence, narrow=tokens.narrow)
        question = (
            _asks(text)
            or evidence.has("question")
            or (lexicon.may_open_question(reading) and _opens_with_question(text, lexicon))
        )
        personal = _personal(text, tokens, lexicon, unique, names)
        return RuleReading(text, tokens, detected, lexicon, reading, evidence, question, personal)

    def judge(
        self,
        read: RuleReading,
        *,
        followers: int | None = None,
        direct: bool = False,
        matches: list[Match] | None = None,
        decided: tuple[str, float, list[str]] | None = None,
    ) -> Verdict:
        """The verdict on a read post; ``decided`` (category, confidence, reasons) is the call on
        the category, which the cluster and priority follow: the rules' own (a :class:`Decision`,
        from :meth:`decide`) is checked for a target as the rules check it, another judge's (a
        trained model's) is taken as it is."""
        evidence = read.evidence
        category, confidence, reasons = decided = decided or _decide(read)
        if isinstance(decided, Decision) and category != "other" and matches is not None:
            category, confidence, reasons = _aimed(read, decided, direct, matches)
        cluster = _cluster(read.reading, read.lexicon) if category in _WITH_CLUSTER else ("other", [])
        priority, priority_reasons = self._priority(category, evidence, followers, direct, matches or [])
        sentiment = _sentiment(evidence.totals.get("positive", 0), evidence.totals.get("negative", 0))
        # Only a post whose first word is "RT" can be one; most are not asked.
        tokens = read.tokens
        retweet = bool(tokens.words and tokens.words[0] == "rt" and _RETWEET.match(read.text))
        notes = ["a retweet: not a mention to answer"] if retweet else []
        return Verdict(
            category,
            confidence,
            cluster[0],
            sentiment,
            read.language,
            priority,
            reasons + cluster[1] + priority_reasons + notes,
            retweet,
        )

    @staticmethod
    def decide(read: RuleReading) -> Decision:
        """The rules' own call on a read post: category, confidence and the cues that decided it."""
        return _decide(read)

    def _lexicon_for(self, unique: set[str], hint: str | None) -> tuple[Lexicon, str]:
        """The hinted language's lexicon, else the one whose common words fit best;
        on a tie, the one with more cues in the post; with nothing to go on, ``und``."""
        if hint in self._lexicons:
            return self._lexicons[hint], hint
        best, most, tie = self._ordered[0], 0, False
        common = []
        for lexicon in self._ordered:
            count = len(unique.intersection(lexicon.stopwords))
            common.append(count)
            if count > most:
                best, most, tie = lexicon, count, False
            elif count == most:
                tie = True
        if most and not tie:
            return best, best.language
        tied = [lexicon for lexicon, count in zip(self._ordered, common, strict=True) if count == most]
        cues = [len(unique.intersection(lexicon.heads)) for lexicon in tied]
        lexicon = tied[cues.index(max(cues))]
        return lexicon, lexicon.language if most or max(cues) else "und"

    def _priority(
        self, category: str, evidence: _Evidence, followers: int | None, direct: bool, matches: list[Match]
    ) -> tuple[str, list[str]]:
        level = _BASE_PRIORITY[category]
        if not level:
            return PRIORITIES[level], []
        reasons = []
        if evidence.has("urgent"):
            level += 1
            reasons.append(f"urgency cue '{evidence.cues('urgent')[0]}'")
        if followers is not None and followers >= WIDE_REACH:
            level += 1
            reasons.append(f"wide reach ({followers:,} followers)")
        tiers = [self._tiers.get(match.product) for match in matches if match.product]
        if not _BOOSTED_TIERS.isdisjoint(tiers):
            level += 1
            reasons.append("product in a premium tier")
        if direct and category == "complaint":
            reasons.append("addresses the brand directly")
        return PRIORITIES[min(level, len(PRIORITIES) - 1)], reasons


class _Post(NamedTuple):
    """What the scan of a post looks at besides its cues."""

    words: list[str]
    lexicon: Lexicon
    text: str
    tokens: Tokens


def _lacking(post: _Post, position: int, evidence: _Evidence) -> None:
    """A lack ("no wifi", "senza preavviso") or an excess ("troppo vecchia", "too small") of a
    word the lists do not hold is a failure in care, unless asked about ("can I use it without a
    phone?"); a lack of a problem is none ("zero issues")."""
    words, lexicon, text, tokens = post
    if position + 1 == len(words) or not lexicon.is_plain(lacking := words[position + 1]):
        return
    if (
        lacking
        and lacking not in lexicon.stopwords
        and _same_clause(text, tokens, position, position + 1)
        and (words[position] not in lexicon.asked or not _in_question(text, tokens.ends[position + 1]))
    ):
        evidence.add("negative", f"{words[position]} {lacking}")


def _in_question(text: str, at: int) -> bool:
    """Whether the sentence going on at ``at`` ends with a question mark."""
    ends = [found for mark in _SENTENCE_ENDS if (found := text.find(mark, at)) >= 0]
    return bool(ends) and text[min(ends)] == "?"


def _spared(post: _Post, position: int, cue: Cue) -> bool:
    """Whether the word before a negative cue takes the problem away ("no delays", "zero issues",
    "senza disconnessioni"), rather than a remedy ("no refund") or adding to it ("too slow")."""
    return (
        cue.kind == "negative"
        and post.words[position - 1] in post.lexicon.lacks
        and cue.words[0] not in post.lexicon.remedies
        and _same_clause(post.text, post.tokens, position - 1, position)
    )


def _personal(text: str, tokens: Tokens, lexicon: Lexicon, unique: set[str], names: list[str] | None) -> bool:
    """Whether the writer speaks of their own experience: a first-person word of their own, not
    one of an account's name ("us" in "@USAirways") nor the "i" of a brand ("iPhone")."""
    selves = lexicon.first_person.intersection(unique)
    if not selves:
        return False
    if selves == _I and tokens.compounded:
        return _ALONE_I.search(text) is not None
    naming = lexicon.self_naming
    if not names or naming.keys().isdisjoint(names):
        return True
    named = [word for name in names if name in naming for word in naming[name]]
    for word in selves:  # noqa: SIM110 (any() over a generator costs twice as much)
        if word not in named or tokens.words.count(word) > named.count(word):
            return True
    return False


def _names(names: list[str], tokens: Tokens, lexicon: Lexicon) -> dict[int, str] | None:
    """How to read the words of @handles and #hashtags, by position, where they would be cues.

    An @handle names an account: its words are blanks ("@HappyHelpDesk" would praise). A hashtag
    of several words is read as one run-together word, as if written in lower case: a topic
    ("#HappyHolidays") is no cue, a comment ("#UnitedFail") keeps its telling part. A hashtag
    of one word ("#fail") is the writer's own. Most names hold no cue ("@united"): found so once
    per name, their words are then never placed.
    """
    if not any([lexicon.names_a_cue(name) for name in names]):  # each name learnt once
        return None
    words, telling, instead = tokens.words, lexicon.telling, {}
    for mark, first, last in tokens.tags:
        if mark == "@":
            instead.update((position, "") for position in range(first, last) if telling(words[position]))
        elif last - first > 1:
            instead.update((position, "") for position in range(first + 1, last))
            instead[first] = "".join(words[first:last])
    return instead


def _scan(reading: Reading, lexicon: Lexicon, text: str, tokens: Tokens) -> _Evidence:
    """Collect the cues of a post, left to right over the positions where one starts.

    A negator reaches a few words ahead, within its clause: "not the old one -
    the new one looks great" does not negate "looks great". A mild negative
    word right before a positive one is a degree word ("seriously smart") and
    does not count.
    """
    evidence = _Evidence()
    words = reading.words
    negated_until, negator_at, covered_until, lack_at = -1, -1, 0, -1
    spots = lexicon.spots(reading)
    for index, (position, (cue, negator, lack, _, _)) in enumerate(spots):
        if position < covered_until:
            continue
        negated = position <= negated_until and _same_clause(text, tokens, negator_at, position)
        if negator and (cue is None or len(cue.words) == 1):
            negated_until, negator_at = position + NEGATION_REACH, position
        if cue is None:
            if lack:
                lack_at = position
                _lacking(_Post(words, lexicon, text, tokens), position, evidence)
            continue
        spared = lack_at == position - 1 and _spared(_Post(words, lexicon, text, tokens), position, cue)
        if not (negated or spared) and cue.kind in _PLAIN_KINDS:
            if cue.weight > 1 or cue.kind != "negative" or not _intensifies(spots, index, text, tokens):
                evidence.add(cue.kind, cue.text, cue.weight)  # the common case, weighed as listed
        else:
            _weigh(
                evidence,
                cue,
                negator=negated and cue.words[0] not in lexicon.negators,
                spared_by=words[lack_at] if spared else "",
                degree=False,
            )
        covered_until = position + len(cue.words)
    return evidence


def _weigh(evidence: _Evidence, cue: Cue, *, negator: bool, spared_by: str, degree: bool) -> None:
    """Count one cue as its neighbours turn it: ``negator`` when a negator reaches it, ``spared_by``
    the lack word right before it, ``degree`` when it only says how much of the word after it."""
    if cue.kind == "working":
        if negator:
            evidence.add("negative", f"not {cue.text}", STRONG)  # "never came", "non registra più"
    elif negator and cue.kind == "positive":
        evidence.add("negative", f"not {cue.text}")
    elif spared_by:
        evidence.add("positive", f"{spared_by} {cue.text}")  # "zero issues", "senza disconnessioni"
    elif (negator and cue.kind == "negative" and len(cue.words) == 1) or degree:
        pass  # "problem" after a negator; "damn" in "damn good", "should be" in "should be great"
    elif cue.kind != "neutral":
        evidence.add(cue.kind, cue.text, cue.weight)


@lru_cache(maxsize=1024)
def _sentiment(positive: int, negative: int) -> float:
    """From -1 to 1. Cached: ``round`` is slow, and posts bring few distinct pairs of weights."""
    return round((positive - negative) / (positive + negative + 1), 3)


def _intensifies(spots: list[tuple[int, Key]], index: int, text: str, tokens: Tokens) -> bool:
    """Whether a mild negative word only says how much of the positive word right after it
    ("seriously smart", "damn good", "should be great")."""
    if index + 1 == len(spots):
        return False
    (position, key), (following, then) = spots[index], spots[index + 1]
    last = position + len(key.cue.words) - 1 if key.cue else position
    return (
        following == last + 1
        and then.cue is not None
        and then.cue.kind == "positive"
        and _same_clause(text, tokens, last, last + 1)
    )


def _same_clause(text: str, tokens: Tokens, first: int, second: int) -> bool:
    """Whether no clause punctuation stands between two words.

    Asked only in the rare spots that need it (after a negator, a lack word or
    a mild negative cue), so most posts never compute their word spans.
    """
    between = text[tokens.ends[first] : tokens.starts[second]]
    return not any(mark in between for mark in _CLAUSE_MARKS) and " -" not in between


def _emoticons(text: str, evidence: _Evidence, *, narrow: bool = False) -> None:
    """Faces and emoji that carry a mood; an exclamation only stresses a positive mood already
    there ("great service!"), since alone it is as often news or anger as joy."""
    _faces(text, evidence, narrow=narrow)
    if evidence.has("positive") and not evidence.has("negative"):
        if "!" in text:
            evidence.add("positive", "!")
        elif not narrow and (stress := _STRESS.search(text)) is not None:
            evidence.add("positive", stress.group())


def _faces(text: str, evidence: _Evidence, *, narrow: bool) -> None:
    """``narrow``: the text is known to hold ASCII and Latin-1 alone, so its faces are ASCII ones."""
    signs = ":" in text or ";" in text or "=" in text or "<" in text
    if narrow or text.isascii():
        if not signs:
            return  # the common case, decided without looking for faces
        happy, unhappy = _ASCII_HAPPY.search(text), _ASCII_UNHAPPY.search(text)
    elif signs or _EMOJI.search(text):
        happy, unhappy = _HAPPY.search(text), _UNHAPPY.search(text)
    else:
        return
    if happy:
        evidence.add("positive", happy.group())
    if unhappy:
        evidence.add("negative", unhappy.group())


def _asks(text: str) -> bool:
    """Whether a question mark stands outside the post's links ("?ref=" is none)."""
    if "?" not in text:
        return False
    return "?" in without_urls(text) if "://" in text or "www." in text else True


def _opens_with_question(text: str, lexicon: Lexicon) -> bool:
    """Whether a sentence starts like a question ("how do I...", "is there...", "come si...")."""
    pairs = lexicon.opening_pairs
    return any((fold_word(first), fold_word(second)) in pairs for first, second in _openings(text[:400]))


def _openings(text: str) -> list[tuple[str, str]]:
    """The first two words of each sentence, as ``_OPENERS.findall`` finds them.

    A sentence starts only at the start of the text or at a sentence end, so
    the pattern is tried there alone (a full search tries it at every position,
    which costs about ten times as much), and, as in a search, not inside the
    opening found before.
    """
    starts = [0]
    for mark in _SENTENCE_ENDS:  # str.find skips ahead far faster than a pattern can
        at = text.find(mark)
        while at >= 0:
            starts.append(at)
            at = text.find(mark, at + 1)
    found, end = [], 0
    for start in sorted(starts):
        if start >= end and (opening := _OPENERS.match(text, start)) is not None:
            found.append((opening.group(1), opening.group(2)))
            end = opening.end()
    return found


def _decide(read: RuleReading) -> Decision:
    """Complaint, inquiry, praise or other, with the cues that decided it.

    A strong failure (a phrase like "not working" or a word like "broken")
    makes a complaint even when phrased as a question; a single mild negative
    word does so only when the writer speaks of their own experience ("why do
    I have to pay twice?"), not in a question about the world.
    """
    evidence, question, personal = read.evidence, read.question, read.personal
    negative, positive = evidence.weight("negative"), evidence.weight("positive")
    if negative >= positive and (negative >= STRONG or (negative and personal)):
        return _complaint(evidence, negative, positive)
    if evidence.has("offer"):
        return Decision("other", 0.6, [f"an offer for sale ('{evidence.cues('offer')[0]}')"])
    requests = evidence.count("request")
    enthusiastic = not requests and not negative and positive >= ENTHUSIASM
    if (question and not enthusiastic) or (requests and requests >= evidence.count("positive")):
        cues = evidence.cues("request") + evidence.cues("question")
        reason = f"asks for something ('{cues[0]}')" if cues else "asks a question"
        return Decision("inquiry", 0.6 if positive or negative else 0.75, [reason])
    if negative and negative >= positive:
        return _complaint(evidence, negative, positive)
    if positive:
        reasons = [f"positive cue '{cue}'" for cue in evidence.cues("positive")]
        return Decision("praise", min(0.55 + 0.1 * (positive - negative), 0.95), reasons)
    return Decision("other", 0.5, ["no complaint, question or praise cues"])


def _complaint(evidence: _Evidence, negative: int, positive: int) -> Decision:
    reasons = [f"negative cue '{cue}'" for cue in evidence.cues("negative")]
    if positive:
        reasons.append(f"outweighs positive cue '{evidence.cues('positive')[0]}'")
    return Decision("complaint", min(0.5 + 0.1 * (negative - positive + 1), 0.95), reasons)


def _aimed(
    read: RuleReading, decided: tuple[str, float, list[str]], direct: bool, matches: list[Match]
) -> tuple[str, float, list[str]]:
    """Whether a post is a case for us, when the caller looked for watched terms (``matches`` is
    None when it did not: a post is then taken to be about whom it was sent to).

    A complaint or a praise is about us only when the post names someone: it matched a watched
    term, came to our account, or speaks to someone (an @handle, "you"). Chatter that names no one
    ("Monday again, everything is broken", "the view from the terrace is unreal") is nobody's case.
    A link passed on without a word of the writer's own (no "I", no "you", no @handle, not sent to
    us) is news or an advert, whatever its headline says: no complaint, question or praise of the
    writer's."""
    category, _, reasons = decided
    if direct or read.addressed():
        return decided
    if read.links and not read.personal:
        return "other", 0.5, [*reasons, "a link passed on, with no word of the writer's own"]
    if matches or category not in _AIMED:
        return decided
    return "other", 0.5, [*reasons, f"names no one: not a {category} about us"]


def _cluster(reading: Reading, lexicon: Lexicon) -> tuple[str, list[str]]:
    """The cluster named most often; on a tie, the one named first."""
    hits: dict[str, int] = {}
    first: dict[str, str] = {}
    for cue in lexicon.cluster_cues(reading):
        if cue.kind in hits:
            hits[cue.kind] += 1
        else:
            hits[cue.kind], first[cue.kind] = 1, cue.text
    if not hits:
        return "other", []
    best = max(hits, key=hits.__getitem__)
    return best, [f"about {best.replace('_', ' ')} ('{first[best]}')"]
