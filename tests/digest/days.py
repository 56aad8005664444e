"""Plausible digests made by hand: a brand's busy day, a quiet one, a daylight-saving one.

The figures side computes these from the database; the renderers only need the
shape, so the tests build it directly and put strangers' hostile text where
strangers write (post texts, author names and handles).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from social_care.digest.model import (
    Attainment,
    Attention,
    BrandDay,
    Care,
    CaseLine,
    CrisisEpisode,
    DayIndex,
    Digest,
    Figure,
    HourCount,
    Named,
    PostLine,
    Reputation,
    SourceTrouble,
)

PUBLIC_URL = "https://care.velora.example"
SCRIPT = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{ 7*7 }}"
HOSTILE = (SCRIPT, IMG, TEMPLATE)
DAY = date(2026, 12, 3)  # a Thursday
ZONE = "Europe/Rome"
SPRING_FORWARD = date(2026, 3, 29)  # 23 hours in Rome
FALL_BACK = date(2026, 10, 25)  # 25 hours in Rome


def local_day(day: date, zone: str) -> tuple[datetime, datetime]:
    """Local midnight to local midnight, in UTC."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def hours_of(day: date, zone: str, *, total: int = 214) -> list[HourCount]:
    """Every UTC hour of the local day, ``total`` mentions, busiest in the afternoon, none empty."""
    start, end = local_day(day, zone)
    starts = [start + timedelta(hours=number) for number in range(int((end - start).total_seconds()) // 3600)]
    weights = [math.exp(-(((moment.astimezone(ZoneInfo(zone)).hour - 15) / 5) ** 2)) for moment in starts]
    shares = [(total - len(starts)) * weight / sum(weights) for weight in weights]
    counts = [1 + int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda number: int(shares[number]) - shares[number])
    for number in by_remainder[: total - sum(counts)]:
        counts[number] += 1
    return [HourCount(moment, count) for moment, count in zip(starts, counts, strict=True)]


def trend_to(day: date) -> list[DayIndex]:
    """Thirty days ending on ``day``: a slide from +12 to -30 and back to -8, with two empty days."""
    shape = [12, 10, 14, 9, 5, 8, 3, None, 0, -4, -2, -9, -15, -11, -18, -22, -19, -25, -30]
    shape += [-27, None, -21, -16, -18, -12, -14, -10, -9, -11, -8]
    return [DayIndex(day - timedelta(days=29 - number), value) for number, value in enumerate(shape)]


def case_line(number: int, day: date, **changes: object) -> CaseLine:
    start, _ = local_day(day, ZONE)
    line = CaseLine(
        reference=f"SC-{number:06d}",
        url=f"{PUBLIC_URL}/cases/{number}",
        category="complaint",
        priority="high",
        status="assigned",
        team="Support",
        opened_at=start - timedelta(days=3, hours=4),
        due_at=start + timedelta(hours=30),
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def post(number: int, text: str, *, author: str, category: str, followers: int) -> PostLine:
    return PostLine(
        text=text,
        author_handle=f"fan{number}{IMG if number == 2 else ''}",
        author_name=author,
        followers=followers,
        platform="x",
        category=category,
        post_url=f"https://x.com/fan{number}/status/{1000 + number}",
        case_reference=f"SC-{number:06d}",
        case_url=f"{PUBLIC_URL}/cases/{number}",
    )


def reputation(day: date, zone: str) -> Reputation:
    start, _ = local_day(day, zone)
    return Reputation(
        mentions=Figure(214, 181, 175.4),
        by_platform=[Named("x", Figure(150, 120, 118)), Named("reddit", Figure(64, 61, 57.4))],
        by_category=[
            Named("complaint", Figure(41, 39, 30.1)),
            Named("inquiry", Figure(63, 50, 55)),
            Named("praise", Figure(25, 33, 31)),
            Named("other", Figure(85, 59, 59.3)),
        ],
        index=Figure(-8, -11, -12.6),
        index_trend=trend_to(day),
        per_hour=hours_of(day, zone),
        top_clusters=[Named("delivery", Figure(18, 9, 7)), Named("billing", Figure(9, 11, 10))],
        top_products=[Named("Velora Ring", Figure(22, 20, 18)), Named(f"Band {TEMPLATE}", Figure(7, 0, 1))],
        most_reached_negative=[
            post(
                1,
                f"My order never arrived {SCRIPT} and nobody answers",
                author=SCRIPT,
                category="complaint",
                followers=48_200,
            ),
            post(
                2,
                f"Refund still missing after 3 weeks {IMG}",
                author="Eve <b>Bold</b>",
                category="complaint",
                followers=12_034,
            ),
        ],
        most_reached_positive=[
            post(
                3,
                f"Love the new ring {TEMPLATE} & the app",
                author=f"Ann {TEMPLATE}",
                category="praise",
                followers=9_950,
            ),
        ],
        crises=[
            CrisisEpisode(
                started_at=start + timedelta(hours=13, minutes=20),
                ended_at=start + timedelta(hours=16, minutes=5),
                peak_hour=start + timedelta(hours=14),
                peak_complaints=17,
            )
        ],
    )


def care(day: date) -> Care:
    return Care(
        acknowledgement_median=Figure(312, 290, 340.5),
        acknowledgement_p90=Figure(1_140, 900, 1_020),
        first_response_median=Figure(2_460, 2_700, 2_580),
        first_response_p90=Figure(9_300, 7_800, 8_100),
        attainment=[
            Attainment("complaints", "acknowledgement", 87, 100, 90),
            Attainment("complaints", "response", 46, 50, 90),
            Attainment("inquiries", "acknowledgement", 60, 63, 90),
            Attainment("urgent complaints", "resolution", 0, 0, 95),
        ],
        backlog=Figure(37, 31, 29.7),
        backlog_oldest=timedelta(days=3, hours=4),
        oldest_open=[case_line(7, day), case_line(9, day, category="inquiry", priority="normal", team="")],
        resolved_share=Figure(62.5, 58, 60.1),
        interactions_per_case=Figure(2.4, 2.6, 2.5),
        csat_answers=Figure(12, 9, 8.6),
        csat_mean=Figure(4.1, 3.9, 4.0),
        messages_by_channel=[Named("x", Figure(260, 231, 220)), Named("reddit", Figure(88, 80, 79))],
    )


def attention(day: date) -> Attention:
    _, end = local_day(day, ZONE)
    return Attention(
        breached=[case_line(11, day, due_at=end + timedelta(hours=5))],
        due_soon=[case_line(12, day, category="inquiry", due_at=end + timedelta(hours=7, minutes=40))],
        unrouted=[case_line(13, day, team="", status="new")],
        failing_sources=[SourceTrouble("reddit-main", "Reddit refused the credentials (401)")],
        read_budgets=[SourceTrouble("x-velora", "9,120 of 10,000 reads this month")],
        paused="crisis: replies checked by hand",
    )


def a_brand_day(brand: str = "Velora", *, day: date = DAY, zone: str = ZONE) -> BrandDay:
    start, end = local_day(day, zone)
    return BrandDay(brand, day, start, end, reputation(day, zone), care(day), attention(day))


def a_quiet_brand_day(brand: str = "Velora", *, day: date = DAY, zone: str = ZONE) -> BrandDay:
    """No mentions at all: nothing to chart, nothing measured, nothing to attend to but the backlog."""
    busy = a_brand_day(brand, day=day, zone=zone)
    nothing = Figure(None, None, None)
    return replace(
        busy,
        reputation=Reputation(
            mentions=Figure(0, 3, 4.1),
            by_platform=[],
            by_category=[],
            index=nothing,
            index_trend=[DayIndex(point.day, None) for point in trend_to(day)],
            per_hour=[HourCount(hour.starts_at, 0) for hour in hours_of(day, zone)],
            top_clusters=[],
            top_products=[],
            most_reached_negative=[],
            most_reached_positive=[],
            crises=[],
        ),
        care=replace(
            care(day),
            acknowledgement_median=nothing,
            acknowledgement_p90=nothing,
            first_response_median=nothing,
            first_response_p90=nothing,
            attainment=[Attainment("complaints", "acknowledgement", 0, 0, 90)],
            backlog=Figure(2, 2, 2.3),
            oldest_open=[case_line(7, day)],
            resolved_share=nothing,
            interactions_per_case=nothing,
            csat_answers=Figure(0, 0, 0.3),
            csat_mean=nothing,
            messages_by_channel=[],
        ),
        attention=Attention([], [], [], [], [], None),
    )


def a_digest(*brands: BrandDay, language: str = "en", zone: str = ZONE, day: date = DAY) -> Digest:
    _, end = local_day(day, zone)
    return Digest(
        recipient="manager@velora.example",
        language=language,
        zone=zone,
        day=day,
        public_url=PUBLIC_URL,
        brands=list(brands) or [a_brand_day(day=day, zone=zone)],
        made_at=end + timedelta(hours=7),
    )
