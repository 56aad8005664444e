"""A period as the fewest rollup rows: UTC days whole, a few hours added or taken away at each edge.

Rollup rows are kept for each UTC hour and each UTC day, and a day row is the sum
of its hours. A manager's day runs from local midnight to local midnight, so it
covers no UTC day whole: read by the hour it costs 24 rows per group, for every
one of the days compared. Read as pieces it costs one day row and two hours:
Rome's Tuesday is Monday's 23:00 hour, plus Tuesday's UTC day, less Tuesday's
23:00 hour. At each edge the shorter way is taken (adding the hours inside, or
the whole day less the hours outside), so no period reads more than twelve
hours at an edge, in any time zone.

Every figure of a rollup adds up (the samples are lists, taken away value by
value), so a period's figures are its pieces' figures with their signs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, false

from social_care.metrics.contributions import hour_of
from social_care.metrics.rollups import DAY, HOUR, day_of

ONE_DAY = timedelta(days=1)
HALF_A_DAY = timedelta(hours=12)


@dataclass(frozen=True)
class Piece:
    """Rows of one grain whose start falls in ``[since, until)``, counted ``sign`` times."""

    grain: str
    since: datetime
    until: datetime
    sign: int

    def holds(self, grain: str, start: datetime) -> bool:
        return grain == self.grain and self.since <= start < self.until


def pieces(since: datetime, until: datetime) -> list[Piece]:
    """``[since, until)``, in whole hours (a bound inside an hour counts from its start), as pieces
    that do not overlap within a grain."""
    since, until = hour_of(since.astimezone(UTC)), hour_of(until.astimezone(UTC))
    if until <= since:
        return []
    first, last = day_of(since), day_of(until)
    if first == last:
        return [Piece(HOUR, since, until, +1)]
    found = []
    days_from = first
    if since != first:
        if first + ONE_DAY - since <= HALF_A_DAY:
            found.append(Piece(HOUR, since, first + ONE_DAY, +1))
            days_from = first + ONE_DAY
        else:
            found.append(Piece(HOUR, first, since, -1))
    days_until = last
    if until != last:
        if until - last <= HALF_A_DAY:
            found.append(Piece(HOUR, last, until, +1))
        else:
            found.append(Piece(HOUR, until, last + ONE_DAY, -1))
            days_until = last + ONE_DAY
    if days_from < days_until:
        found.append(Piece(DAY, days_from, days_until, +1))
    return found


def sign_of(found: Sequence[Piece], grain: str, start: datetime) -> int:
    """How many times a row counts in the period of ``found``: 1, -1, or 0 when it is not in it."""
    return next((piece.sign for piece in found if piece.holds(grain, start)), 0)


def rows_of(
    found: Sequence[Piece], grain: ColumnElement[str], start: ColumnElement[datetime]
) -> ColumnElement[bool]:
    """The condition that selects the rows of ``found``, for a table's grain and start columns."""
    condition: ColumnElement[bool] = false()
    for piece in found:
        condition = condition | ((grain == piece.grain) & (start >= piece.since) & (start < piece.until))
    return condition
