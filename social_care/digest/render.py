"""A digest as one mail: a subject that says the day, a plain-text part, an HTML part with its charts.

The words are the templates' (``templates/mail/digest*``, English and Italian,
sharing one layout per format); the figures come formatted by
:class:`~social_care.digest.formatting.Formatter`; the charts are drawn here,
once per brand, and travel in the mail as inline images the HTML names by
Content-ID. Nothing a stranger wrote is ever marked safe: the HTML templates
escape it like any other value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

from social_care.digest.charts import display_size, hours_chart, trend_chart
from social_care.digest.formatting import Formatter
from social_care.digest.model import Attainment, BrandDay, Chart, Digest, Figure
from social_care.digest.words import Words, words_for
from social_care.mail import InlineImage, Mail, MailTemplates

_NOTHING = Figure(None)


@dataclass(frozen=True)
class ChartImage:
    """A chart as the HTML shows it: ``<img src="cid:..." alt width height>``."""

    src: str
    alt: str
    width: int
    height: int

    @classmethod
    def of(cls, chart: Chart) -> ChartImage:
        width, height = display_size(chart)
        return cls(f"cid:{chart.content_id}", chart.alt, width, height)


@dataclass(frozen=True)
class BrandPage:
    """One brand's day with what the templates need beside it: its charts and its headline figures."""

    day: BrandDay
    trend_chart: Chart | None
    hours_chart: Chart | None
    complaints: Figure
    weakest: Attainment | None  # the SLA target furthest below (or least above) its floor

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(chart for chart in (self.trend_chart, self.hours_chart) if chart is not None)

    @property
    def trend(self) -> ChartImage | None:
        return ChartImage.of(self.trend_chart) if self.trend_chart else None

    @property
    def hours(self) -> ChartImage | None:
        return ChartImage.of(self.hours_chart) if self.hours_chart else None


def render_digest(digest: Digest, templates: MailTemplates) -> Mail:
    """The mail ``digest.recipient`` gets: text and HTML in the digest's language, charts attached."""
    if not digest.brands:
        raise ValueError(f"a digest names at least one brand; {digest.recipient}'s has none")
    words, zone = words_for(digest.language), ZoneInfo(digest.zone)
    pages = [
        brand_page(number, brand, words=words, zone=zone) for number, brand in enumerate(digest.brands, 1)
    ]
    formatter = Formatter(words, zone=zone, day=digest.day, now=digest.made_at)
    values = {
        "digest": digest,
        "f": formatter,
        "brands": pages,
        "lead": pages[0],
        "more": len(pages) - 1,
        "queue_url": formatter.link(f"{digest.public_url.rstrip('/')}/queue"),
    }
    mail = templates.render("digest", language=digest.language, values=values)
    images = tuple(
        InlineImage(chart.content_id, chart.png, chart.alt) for page in pages for chart in page.charts
    )
    return replace(mail, images=images)


def brand_page(number: int, brand: BrandDay, *, words: Words, zone: ZoneInfo) -> BrandPage:
    """``brand``'s headline figures, and its charts unless the day was quiet (nothing to draw)."""
    complaints = [named.figure for named in brand.reputation.by_category if named.name == "complaint"]
    page = BrandPage(
        brand, None, None, complaints[0] if complaints else _NOTHING, weakest(brand.care.attainment)
    )
    if brand.quiet:
        return page
    reputation = brand.reputation
    return replace(
        page,
        trend_chart=trend_chart(
            reputation.index_trend, content_id=_content_id("trend", number, brand.day), words=words
        ),
        hours_chart=hours_chart(
            reputation.per_hour,
            day=brand.day,
            zone=zone,
            content_id=_content_id("hours", number, brand.day),
            words=words,
            crisis_hours={crisis.peak_hour for crisis in reputation.crises},
        ),
    )


def weakest(attainment: list[Attainment]) -> Attainment | None:
    """The measured target with the smallest margin over its floor: the one a subject line names."""
    measured = [target for target in attainment if target.percent is not None]
    return min(measured, key=lambda target: (target.percent or 0.0) - target.floor_percent, default=None)


def _content_id(kind: str, number: int, day: date) -> str:
    return f"{kind}-{number}.{day:%Y%m%d}@digest.social-care"
