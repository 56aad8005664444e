"""What a daily digest says, as plain data: built from the database, rendered into mail and chat.

The figures are computed once (:mod:`social_care.digest.figures`) and rendered
many ways (text, HTML with charts, a chat summary, the web archive), so the
renderers never query and the queries never format. Every figure of the day
carries the day before and the mean of the seven days before it, so a reader
sees at once whether it moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from social_care.metrics import SlaAttainment


@dataclass(frozen=True)
class Figure:
    """A number for the day, the day before, and the mean of the seven days before the day.

    ``None`` means "nothing to measure" (no case was acknowledged that day), which a
    renderer shows as a dash, never as zero.
    """

    value: float | None
    day_before: float | None = None
    week_mean: float | None = None

    @property
    def change_from_day_before(self) -> float | None:
        return _difference(self.value, self.day_before)

    @property
    def change_from_week(self) -> float | None:
        return _difference(self.value, self.week_mean)


def _difference(value: float | None, other: float | None) -> float | None:
    return None if value is None or other is None else value - other


@dataclass(frozen=True)
class Named:
    """A figure with what it counts: a platform, a category, a cluster, a product."""

    name: str
    figure: Figure


@dataclass(frozen=True)
class PostLine:
    """A post worth reading: its text and author exactly as written (escaped when rendered)."""

    text: str
    author_handle: str
    author_name: str
    followers: int | None
    platform: str
    category: str
    post_url: str
    case_reference: str
    case_url: str


@dataclass(frozen=True)
class CrisisEpisode:
    started_at: datetime
    ended_at: datetime | None
    peak_hour: datetime
    peak_complaints: int


@dataclass(frozen=True)
class HourCount:
    """Mentions in one local hour of the day (a daylight-saving day has 23 or 25 of them)."""

    starts_at: datetime
    mentions: int


@dataclass(frozen=True)
class DayIndex:
    """The reputation index of one past day, for the 30-day trend; ``None`` on a day with no mentions."""

    day: date
    index: float | None


@dataclass(frozen=True)
class Reputation:
    mentions: Figure
    by_platform: list[Named]
    by_category: list[Named]
    # (praise - complaints) / classified mentions x 100, from -100 to +100; None without mentions.
    index: Figure
    index_trend: list[DayIndex]
    per_hour: list[HourCount]
    top_clusters: list[Named]
    top_products: list[Named]
    most_reached_negative: list[PostLine]
    most_reached_positive: list[PostLine]
    crises: list[CrisisEpisode]


Attainment = SlaAttainment  # the report's own: one SLA target of one policy against its floor


@dataclass(frozen=True)
class CaseLine:
    """A case to look at, with a link into the inbox."""

    reference: str
    url: str
    category: str
    priority: str
    status: str
    team: str
    opened_at: datetime
    due_at: datetime | None = None


@dataclass(frozen=True)
class Care:
    acknowledgement_median: Figure  # seconds
    acknowledgement_p90: Figure
    first_response_median: Figure
    first_response_p90: Figure
    attainment: list[Attainment]
    backlog: Figure  # open cases at the end of the day
    backlog_oldest: timedelta | None
    oldest_open: list[CaseLine]
    resolved_share: Figure  # percent of the day's new cases resolved as the digest is made
    interactions_per_case: Figure
    csat_answers: Figure
    csat_mean: Figure
    messages_by_channel: list[Named]


@dataclass(frozen=True)
class SourceTrouble:
    source: str
    what: str


@dataclass(frozen=True)
class Attention:
    """What needs someone today, as the digest is made."""

    breached: list[CaseLine]
    due_soon: list[CaseLine]
    unrouted: list[CaseLine]
    failing_sources: list[SourceTrouble]
    read_budgets: list[SourceTrouble]  # X sources near their monthly read quota
    paused: str | None  # the kill switch's reason, when automatic replies are paused

    @property
    def anything(self) -> bool:
        return bool(
            self.breached
            or self.due_soon
            or self.unrouted
            or self.failing_sources
            or self.read_budgets
            or self.paused is not None
        )


@dataclass(frozen=True)
class BrandDay:
    """One brand's day, from local midnight to local midnight in the recipient's zone."""

    brand: str
    day: date
    starts_at: datetime
    ends_at: datetime
    reputation: Reputation
    care: Care
    attention: Attention

    @property
    def quiet(self) -> bool:
        return not self.reputation.mentions.value


@dataclass(frozen=True)
class Chart:
    """A PNG drawn for the HTML part, attached by Content-ID, with a text alternative."""

    content_id: str
    png: bytes
    alt: str


@dataclass(frozen=True)
class Digest:
    """Everything one recipient gets for one day."""

    recipient: str
    language: str
    zone: str
    day: date
    public_url: str
    brands: list[BrandDay]
    made_at: datetime
    charts: list[Chart] = field(default_factory=list)
