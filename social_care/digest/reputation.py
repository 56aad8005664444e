"""A brand's reputation over a day: how much it was talked about, in what tone, and the loudest posts.

Counts come from the mention rollups, a UTC day row and an edge hour or two per
day, whatever the history; only the most-reached posts are read from the
posts themselves, through the index on when they were written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sql_select  # more columns than sqlmodel's select types
from sqlmodel import Session, col, select

from social_care.config.models import Config
from social_care.crisis import episodes
from social_care.digest.days import LocalDay
from social_care.digest.model import CrisisEpisode, DayIndex, Figure, HourCount, Named, PostLine, Reputation
from social_care.metrics.rollups import HOUR
from social_care.metrics.spans import pieces, rows_of, sign_of
from social_care.storage.tables import Author, Case, Classification, Mention, MentionRollup

TOP = 5
MOST_REACHED = 3
TREND_DAYS = 30


@dataclass
class DayCounts:
    """One day's mentions, counted along each dimension the digest shows."""

    total: int = 0
    by_platform: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_cluster: Counter[str] = field(default_factory=Counter)
    by_product: Counter[str] = field(default_factory=Counter)

    @property
    def index(self) -> float | None:
        """(praise - complaints) per hundred mentions: -100 all complaints, +100 all praise."""
        if not self.total:
            return None
        return 100 * (self.by_category["praise"] - self.by_category["complaint"]) / self.total


@dataclass(frozen=True)
class Scope:
    """Whose mentions: one brand, optionally only the cases of some teams."""

    brand: str
    teams: Collection[str] = ()


def day_counts(session: Session, scope: Scope, days: Sequence[LocalDay]) -> list[DayCounts]:
    """Each of ``days`` counted by platform, category, cluster and product."""
    columns = (MentionRollup.platform, MentionRollup.category, MentionRollup.cluster, MentionRollup.product)
    counts = [DayCounts() for _ in days]
    for day, tally in zip(counts, _by_day(session, scope, days, columns), strict=True):
        for (platform, category, cluster, product), mentions in tally.items():
            if mentions > 0:  # a case that moved to another team or category leaves its old rows at zero
                day.total += mentions
                day.by_platform[platform] += mentions
                day.by_category[category] += mentions
                day.by_cluster[cluster] += mentions
                if product:
                    day.by_product[product] += mentions
    return counts


def _by_day(
    session: Session, scope: Scope, days: Sequence[LocalDay], columns: Sequence[Any]
) -> list[Counter[tuple[Any, ...]]]:
    """The mentions of each of ``days`` by ``columns``, summed by the database over the day's
    pieces (a UTC day row, and an hour or two added or taken away: see :mod:`..metrics.spans`).

    An edge hour can count in two days (taken from one, added to the next), so rows come back
    per piece and are shared out here.
    """
    found = [pieces(day.starts_at, day.ends_at) for day in days]
    grain, hour = col(MentionRollup.grain), col(MentionRollup.hour)
    rows = session.execute(
        sql_select(grain, hour, *columns, func.sum(MentionRollup.mentions))
        .where(rows_of([piece for day in found for piece in day], grain, hour), *_in_scope(scope))
        .group_by(grain, hour, *columns)
    ).all()
    tallies: list[Counter[tuple[Any, ...]]] = [Counter() for _ in days]
    places: dict[tuple[str, datetime], list[tuple[int, int]]] = {}
    for row_grain, start, *values, mentions in rows:
        if (row_grain, start) not in places:
            signs = ((number, sign_of(day, row_grain, start)) for number, day in enumerate(found))
            places[(row_grain, start)] = [(number, sign) for number, sign in signs if sign]
        for number, sign in places[(row_grain, start)]:
            tallies[number][tuple(values)] += sign * int(mentions)
    return tallies


def hour_counts(session: Session, scope: Scope, day: LocalDay) -> Counter[datetime]:
    """The day's mentions by the UTC hour they were written in."""
    hour, starts = col(MentionRollup.hour), day.hour_starts()
    rows = session.execute(
        sql_select(hour, func.sum(MentionRollup.mentions))
        .where(col(MentionRollup.grain) == HOUR, *_in_scope(scope), hour >= starts[0], hour <= starts[-1])
        .group_by(hour)
    ).all()
    return Counter({moment: int(mentions) for moment, mentions in rows})


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [col(MentionRollup.brand) == scope.brand]
    if scope.teams:
        conditions.append(col(MentionRollup.team).in_(list(scope.teams)))
    return conditions


def reputation(session: Session, config: Config, scope: Scope, day: LocalDay, public_url: str) -> Reputation:
    *older, today = day_counts(session, scope, [*reversed(day.week_before()), day])
    week = older[::-1]
    before = week[0]
    return Reputation(
        mentions=_figure(today.total, before.total, [counts.total for counts in week]),
        by_platform=_named(today.by_platform, before.by_platform, [c.by_platform for c in week]),
        by_category=_named(today.by_category, before.by_category, [c.by_category for c in week], TOP),
        index=Figure(today.index, before.index, _mean_of_known([counts.index for counts in week])),
        index_trend=index_trend(session, scope, day),
        per_hour=_per_hour(hour_counts(session, scope, day), day),
        top_clusters=_named(today.by_cluster, before.by_cluster, [c.by_cluster for c in week], TOP),
        top_products=_named(today.by_product, before.by_product, [c.by_product for c in week], TOP),
        most_reached_negative=most_reached(session, scope, day, "complaint", public_url),
        most_reached_positive=most_reached(session, scope, day, "praise", public_url),
        crises=[
            CrisisEpisode(episode.started_at, episode.ended_at, episode.peak_hour, episode.peak_complaints)
            for episode in episodes(session, config.acknowledgement.crisis, day.starts_at, day.ends_at)
            if episode.peak_hour is not None
        ],
    )


def _figure(value: float, day_before: float, week: Sequence[float]) -> Figure:
    return Figure(value, day_before, sum(week) / len(week) if week else None)


def _mean_of_known(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def _named(
    today: Counter[str], before: Counter[str], week: Sequence[Counter[str]], limit: int | None = None
) -> list[Named]:
    """The day's counts by name, most first (then by name), each against the day before and the week."""
    names = sorted(today, key=lambda name: (-today[name], name))[:limit]
    return [
        Named(name, _figure(today[name], before[name], [counts[name] for counts in week])) for name in names
    ]


def _per_hour(counts: Counter[datetime], day: LocalDay) -> list[HourCount]:
    # By the UTC instant: an hour the clocks repeat equals no UTC time (PEP 495).
    return [HourCount(hour, counts[hour.astimezone(UTC)]) for hour in day.hour_starts()]


def index_trend(session: Session, scope: Scope, day: LocalDay) -> list[DayIndex]:
    """The index of each of the 30 days up to ``day``, in one grouped query."""
    trend = [day.before(back) for back in range(TREND_DAYS - 1, -1, -1)]
    counts = [DayCounts() for _ in trend]
    for one_day, tally in zip(counts, _by_day(session, scope, trend, [MentionRollup.category]), strict=True):
        for (category,), mentions in tally.items():
            one_day.total += mentions
            one_day.by_category[category] += mentions
    return [DayIndex(other.day, one_day.index) for other, one_day in zip(trend, counts, strict=True)]


def most_reached(
    session: Session, scope: Scope, day: LocalDay, category: str, public_url: str
) -> list[PostLine]:
    """The day's posts of ``category`` whose authors have the most followers."""
    statement = (
        select(Mention, Author, Case)
        .join(Author, col(Author.id) == col(Mention.author_id))
        .join(Case, col(Case.id) == col(Mention.case_id))
        .join(
            Classification, (col(Classification.mention_id) == col(Mention.id)) & col(Classification.current)
        )
        .where(
            col(Case.brand) == scope.brand,
            col(Classification.category) == category,
            col(Mention.posted_at) >= day.starts_at,
            col(Mention.posted_at) < day.ends_at,
        )
        .order_by(func.coalesce(Author.followers, -1).desc(), col(Mention.id))
        .limit(MOST_REACHED)
    )
    if scope.teams:
        statement = statement.where(col(Case.team).in_(list(scope.teams)))
    return [
        PostLine(
            text=mention.text,
            author_handle=author.handle,
            author_name=author.name,
            followers=author.followers,
            platform=mention.platform,
            category=category,
            post_url=mention.url,
            case_reference=case.reference,
            case_url=f"{public_url.rstrip('/')}/cases/{case.id}",
        )
        for mention, author, case in session.execute(statement).all()
    ]
