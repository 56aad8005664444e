"""A brand's reputation over a day: how much it was talked about, in what tone, and the loudest posts.

Counts come from the hourly mention rollups, so a day costs its 23 to 25 hours
of rows whatever the history; only the most-reached posts are read from the
posts themselves, through the index on when they were written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sql_select  # more columns than sqlmodel's select types
from sqlmodel import Session, col, select

from social_care.config.models import Config
from social_care.crisis import episodes
from social_care.digest.days import LocalDay
from social_care.digest.model import CrisisEpisode, DayIndex, Figure, HourCount, Named, PostLine, Reputation
from social_care.metrics.rollups import HOUR
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
    by_hour: Counter[datetime] = field(default_factory=Counter)

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


def day_counts(session: Session, scope: Scope, day: LocalDay) -> DayCounts:
    """Only rows with mentions: a case that moved to another team (or category) leaves its old
    rows at zero, and a zero must not list a platform or a category the day never had."""
    rows = session.execute(
        sql_select(
            col(MentionRollup.hour),
            col(MentionRollup.platform),
            col(MentionRollup.category),
            col(MentionRollup.cluster),
            col(MentionRollup.product),
            col(MentionRollup.mentions),
        ).where(
            *_in_scope(scope),
            col(MentionRollup.hour) >= day.starts_at,
            col(MentionRollup.hour) < day.ends_at,
            col(MentionRollup.mentions) > 0,
        )
    ).all()
    counts = DayCounts()
    for hour, platform, category, cluster, product, mentions in rows:
        counts.total += mentions
        counts.by_platform[platform] += mentions
        counts.by_category[category] += mentions
        counts.by_cluster[cluster] += mentions
        if product:
            counts.by_product[product] += mentions
        counts.by_hour[hour] += mentions
    return counts


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The scope's hour rows (a recipient's days do not fall on UTC days)."""
    conditions = [col(MentionRollup.grain) == HOUR, col(MentionRollup.brand) == scope.brand]
    if scope.teams:
        conditions.append(col(MentionRollup.team).in_(list(scope.teams)))
    return conditions


def reputation(session: Session, config: Config, scope: Scope, day: LocalDay, public_url: str) -> Reputation:
    today = day_counts(session, scope, day)
    before = day_counts(session, scope, day.before())
    week = [before, *(day_counts(session, scope, other) for other in day.week_before()[1:])]
    return Reputation(
        mentions=_figure(today.total, before.total, [counts.total for counts in week]),
        by_platform=_named(today.by_platform, before.by_platform, [c.by_platform for c in week]),
        by_category=_named(today.by_category, before.by_category, [c.by_category for c in week], TOP),
        index=Figure(today.index, before.index, _mean_of_known([counts.index for counts in week])),
        index_trend=index_trend(session, scope, day),
        per_hour=_per_hour(today, day),
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


def _per_hour(counts: DayCounts, day: LocalDay) -> list[HourCount]:
    # By the UTC instant: an hour the clocks repeat equals no UTC time (PEP 495).
    return [HourCount(hour, counts.by_hour[hour.astimezone(UTC)]) for hour in day.hour_starts()]


def index_trend(session: Session, scope: Scope, day: LocalDay) -> list[DayIndex]:
    """The index of each of the 30 days up to ``day``, in one grouped query over their hours."""
    first = day.before(TREND_DAYS - 1)
    rows = session.execute(
        select(col(MentionRollup.hour), col(MentionRollup.category), func.sum(MentionRollup.mentions))
        .where(
            *_in_scope(scope),
            col(MentionRollup.hour) >= first.starts_at,
            col(MentionRollup.hour) < day.ends_at,
        )
        .group_by(col(MentionRollup.hour), col(MentionRollup.category))
    ).all()
    days: dict[object, DayCounts] = {}
    for hour, category, mentions in rows:
        counts = days.setdefault(hour.astimezone(day.zone).date(), DayCounts())
        counts.total += int(mentions)
        counts.by_category[category] += int(mentions)
    trend = [day.before(back) for back in range(TREND_DAYS - 1, -1, -1)]
    return [DayIndex(other.day, days[other.day].index if other.day in days else None) for other in trend]


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
