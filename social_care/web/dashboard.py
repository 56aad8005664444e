"""The team dashboard: today so far for a supervisor's teams (every case, for an admin).

The figures are counted as the report and the digest count them, from the same
rollups (:mod:`social_care.metrics.today`), so the page and the morning mail agree
on what a day was. Its charts are drawn here as
shapes for the template to write as inline SVG: no script and nothing fetched, so
the page works under the inbox's strict content policy and on any screen. Only
positions and sizes are computed here; every name reaches the page through the
template's autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from social_care.digest.words import ENGLISH
from social_care.metrics import SlaAttainment
from social_care.metrics.today import Today, today
from social_care.scope import team_names
from social_care.sla import ACKNOWLEDGEMENT, RESOLUTION, RESPONSE
from social_care.web.people import Member, supervised
from social_care.web.rendering import render
from social_care.web.security import CurrentSupervisor, DatabaseSession

router = APIRouter()
TARGET_NAMES = {ACKNOWLEDGEMENT: "acknowledgement", RESPONSE: "first response", RESOLUTION: "resolution"}
SERIES = 6  # colours of the volume chart's teams, repeated past the sixth
REFRESH_SECONDS = 60
WIDTH, HEIGHT = 480, 180  # the volume chart's drawing units; it scales to its column
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 10, 22  # room for the scale on the left and the hours below
LABEL_EVERY = 3  # hours between the labels under the bars
DASH = "\u2013"


@dataclass(frozen=True)
class AttainmentBar:
    """One target of one policy: its share met today, drawn against its floor on a 0-100 scale."""

    policy: str
    target: str
    percent: str
    floor: str
    floor_at: float
    filled: float
    state: str  # met | missed | none (nothing measured yet)
    met: int
    measured: int

    @classmethod
    def of(cls, item: SlaAttainment) -> AttainmentBar:
        meets = item.meets_floor
        return cls(
            policy=item.policy,
            target=TARGET_NAMES.get(item.target, item.target),
            percent=DASH if item.percent is None else ENGLISH.percent(item.percent),
            floor=ENGLISH.percent(item.floor_percent),
            floor_at=item.floor_percent,
            filled=item.percent or 0.0,
            state="none" if meets is None else "met" if meets else "missed",
            met=item.met,
            measured=item.measured,
        )


@dataclass(frozen=True)
class Segment:
    """One team's part of one hour's bar, in the chart's drawing units."""

    team: str
    series: int
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    label: str  # the local hour it starts ("09:00")
    x: float  # the bar's left edge
    centre: float
    counts: dict[str, int] | None  # by team; None: an hour still to come
    segments: list[Segment]
    labelled: bool
    minor: bool  # a label a phone leaves out, so the rest have room

    @property
    def total(self) -> int | None:
        return None if self.counts is None else sum(self.counts.values())


@dataclass(frozen=True)
class VolumeChart:
    width: int
    height: int
    left: int
    baseline: float
    slot: float
    bar: float
    columns: list[Column]
    scale: list[tuple[float, int]]  # gridlines: where (drawing units from the top), how many posts
    teams: list[tuple[str, int]]  # the legend: team, series
    later_from: float | None  # where the hours still to come start, shaded


@router.get("/dashboard", response_class=HTMLResponse)
def show_dashboard(request: Request, employee: CurrentSupervisor, session: DatabaseSession) -> HTMLResponse:
    state = request.app.state
    config, now = state.config, state.clock()
    teams = None if employee.role == "admin" else tuple(team_names(session, employee))
    figures = today(session, config, now, teams)
    zone = ZoneInfo(config.service.timezone)
    return render(
        request,
        "dashboard.html",
        employee=employee,
        today=figures,
        zone=zone,
        attainment=[AttainmentBar.of(item) for item in figures.attainment],
        breaches=[(target, TARGET_NAMES[target], count) for target, count in figures.breaches.items()],
        chart=volume_chart(figures, zone),
        members=sorted(supervised(session, config, employee, now), key=_busiest_first),
        span=_span,
        refresh=REFRESH_SECONDS,
    )


def _busiest_first(member: Member) -> tuple[float, str]:
    capacity = member.employee.capacity or 1
    return -member.open_cases / capacity, member.employee.name


def _span(length: timedelta | None) -> str:
    return DASH if length is None else ENGLISH.duration(length.total_seconds())


def volume_chart(figures: Today, zone: ZoneInfo) -> VolumeChart:
    """Customers' posts per local hour as bars stacked by team, on a scale with round gridlines."""
    series = {team: number % SERIES for number, team in enumerate(figures.volume_teams)}
    top = nice_ceiling(max((hour.total for hour in figures.volume), default=0))
    plot = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot
    slot = (WIDTH - LEFT - RIGHT) / max(len(figures.volume), 1)
    bar = slot * 0.72
    columns = []
    for number, hour in enumerate(figures.volume):
        x = LEFT + number * slot + (slot - bar) / 2
        columns.append(
            Column(
                label=f"{hour.start.astimezone(zone):%H:%M}",
                x=x,
                centre=x + bar / 2,
                counts=hour.by_team,
                segments=_stacked(hour.by_team or {}, series, baseline, plot / top),
                labelled=number % LABEL_EVERY == 0,
                minor=number % (2 * LABEL_EVERY) != 0,
            )
        )
    scale = [(baseline - plot * step / 2, top * step // 2) for step in (1, 2)]
    later = next((number for number, hour in enumerate(figures.volume) if hour.by_team is None), None)
    return VolumeChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        baseline=baseline,
        slot=slot,
        bar=bar,
        columns=columns,
        scale=scale,
        teams=list(series.items()),
        later_from=None if later is None else LEFT + later * slot,
    )


def _stacked(counts: dict[str, int], series: dict[str, int], baseline: float, unit: float) -> list[Segment]:
    """One hour's teams piled up from the baseline in the legend's order, ``unit`` high per post."""
    segments, y = [], baseline
    for team, colour in series.items():
        if count := counts.get(team, 0):
            y -= unit * count
            segments.append(Segment(team, colour, count, y, unit * count))
    return segments


def nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 6, 8, 10, 20, 40 ... at or above ``value``: a scale whose half is whole."""
    magnitude = 1
    while True:
        for step in (2, 4, 6, 8, 10):
            if value <= step * magnitude:
                return step * magnitude
        magnitude *= 10
