"""The digest's two charts as small PNGs, each with a sentence that says what it shows.

Drawn with matplotlib's object interface and its Agg canvas: no pyplot, no GUI
backend, no global setting changed, so drawing a digest in a worker leaves the
rest of the process as it was. Every chart is ``WIDTH`` CSS pixels wide and drawn at twice that, so it
is sharp on a phone; the sizes are fixed, and so are the PNG's bytes for the
same data (the "Software" stamp is left out), which keeps a re-rendered digest
identical. A mail client that shows no images shows the text alternative, and
that alternative states the data, not "a chart".
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from social_care.digest.model import Chart, DayIndex, HourCount
from social_care.digest.words import Words

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn: every command starts faster
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SCALE = 2  # image pixels per CSS pixel
WIDTH = 560  # CSS pixels: the mail's column less its padding
TREND_HEIGHT = 190
HOURS_HEIGHT = 150
BASELINE = 30  # CSS pixels from a chart's bottom edge to its x axis, room for the axis labels
LEFT_MARGIN = 74  # CSS pixels from a chart's left edge to its y axis, room for "+100"
_DPI = 100 * SCALE
_INK = "#1f4e79"
_ALARM = "#c0392b"
_MUTED = "#6b7280"
_RULE = "#d1d5db"
_FONT = 15
_LABEL_BELOW = 60  # an index this high has its label under the point, inside the chart
HOURS_IN_A_DAY = 24


def trend_chart(trend: Sequence[DayIndex], *, content_id: str, words: Words) -> Chart:
    """The reputation index day by day, -100 to +100; a day without mentions is a gap in the line."""
    from matplotlib.ticker import FixedLocator

    figure, axes = _canvas(TREND_HEIGHT)
    axes.axhspan(0, 100, color="#eaf6ee", zorder=0)
    axes.axhspan(-100, 0, color="#fbeeee", zorder=0)
    axes.axhline(0, color=_MUTED, linewidth=0.8, zorder=1)
    values = [math.nan if point.index is None else point.index for point in trend]
    axes.plot(range(len(values)), values, color=_INK, linewidth=2, marker="o", markersize=3, zorder=2)
    _label_last(axes, values, words)
    axes.set_ylim(-100, 100)
    axes.yaxis.set_major_locator(FixedLocator([-100, -50, 0, 50, 100]))
    axes.set_yticklabels([words.signed(tick) for tick in (-100, -50, 0, 50, 100)])
    axes.set_xlim(-0.6, len(values) - 0.4)
    weekly = [number for number in range(len(trend)) if (len(trend) - 1 - number) % 7 == 0]
    axes.xaxis.set_major_locator(FixedLocator(weekly))
    labels = axes.set_xticklabels([words.short_day(trend[number].day) for number in weekly])
    if labels:
        labels[-1].set_horizontalalignment("right")  # the last day sits on the right edge
    return Chart(content_id, _png(figure), trend_alt(trend, words))


def hours_chart(
    hours: Sequence[HourCount],
    *,
    day: date,
    zone: ZoneInfo,
    content_id: str,
    words: Words,
    crisis_hours: Collection[datetime] = (),
) -> Chart:
    """Mentions per local hour as bars, the hours of a crisis's peak in red; 23, 24 or 25 of them."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    figure, axes = _canvas(HOURS_HEIGHT)
    counts = [hour.mentions for hour in hours]
    colours = [_ALARM if hour.starts_at in crisis_hours else _INK for hour in hours]
    axes.bar(range(len(counts)), counts, width=0.72, color=colours, zorder=2)
    axes.set_xlim(-0.6, len(counts) - 0.4)
    axes.set_ylim(0, max([*counts, 1]) * 1.18)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True, prune="lower"))  # 0 is the axis
    local = [hour.starts_at.astimezone(zone) for hour in hours]
    marked = _every_third_hour(local)
    axes.xaxis.set_major_locator(FixedLocator(marked))
    axes.set_xticklabels([f"{local[number]:%H}" for number in marked])
    if any(counts):
        peak = counts.index(max(counts))
        axes.annotate(
            words.number(counts[peak]),
            (peak, counts[peak]),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=_FONT,
            color=colours[peak],
        )
    return Chart(content_id, _png(figure), hours_alt(hours, day=day, zone=zone, words=words))


def trend_alt(trend: Sequence[DayIndex], words: Words) -> str:
    """The trend in words: where it started and ended, its lowest and highest, the days without mentions."""
    measured = [point for point in trend if point.index is not None]
    if not measured:
        return words.trend_empty.format(days=len(trend))
    first, last = measured[0], measured[-1]
    low = min(measured, key=lambda point: point.index or 0.0)
    high = max(measured, key=lambda point: point.index or 0.0)
    text = words.trend_alt.format(
        days=len(trend),
        **_point("first", first, words),
        **_point("last", last, words),
        **_point("low", low, words),
        **_point("high", high, words),
    )
    gaps = len(trend) - len(measured)
    return text + (words.trend_gaps.format(count=gaps) if gaps else "")


def hours_alt(hours: Sequence[HourCount], *, day: date, zone: ZoneInfo, words: Words) -> str:
    """The day's mentions in words: how many, the busiest hour, the day's length when not 24 hours."""
    length = ""
    if len(hours) < HOURS_IN_A_DAY:
        length = words.hours_short_day.format(hours=len(hours))
    elif len(hours) > HOURS_IN_A_DAY:
        length = words.hours_long_day.format(hours=len(hours))
    counts = [hour.mentions for hour in hours]
    if not any(counts):
        return words.hours_none.format(day=words.day(day), length=length)
    peak = hours[counts.index(max(counts))]
    start = peak.starts_at.astimezone(zone)
    return words.hours_alt.format(
        day=words.day(day),
        length=length,
        total=words.number(sum(counts)),
        peak=words.time(start),
        peak_end=words.time((peak.starts_at.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)),
        peak_count=words.number(peak.mentions),
    )


def display_size(chart: Chart) -> tuple[int, int]:
    """The CSS width and height to show ``chart`` at, read from its PNG header."""
    width, height = struct.unpack(">II", chart.png[16:24])
    return width // SCALE, height // SCALE


def _every_third_hour(local: Sequence[datetime]) -> list[int]:
    """The bars to label: local hours 0, 3, 6, ..., skipping one that the clock change brought too close."""
    marked: list[int] = []
    for number, moment in enumerate(local):
        if moment.hour % 3 == 0 and (not marked or number - marked[-1] >= 3):  # noqa: PLR2004 (every third)
            marked.append(number)
    return marked


def _point(name: str, point: DayIndex, words: Words) -> dict[str, str]:
    return {name: words.signed(point.index or 0.0), f"on_{name}": words.on_day(point.day)}


def _label_last(axes: Axes, values: list[float], words: Words) -> None:
    """Today's value written beside its point, the figure a reader looks for first."""
    known = [number for number, value in enumerate(values) if not math.isnan(value)]
    if not known:
        return
    last = known[-1]
    axes.plot([last], [values[last]], marker="o", markersize=6, color=_INK, zorder=3)
    axes.annotate(
        words.signed(values[last]),
        (last, values[last]),
        xytext=(-6, 8 if values[last] < _LABEL_BELOW else -16),
        textcoords="offset points",
        ha="right",
        fontsize=_FONT,
        fontweight="bold",
        color=_INK,
    )


def _canvas(height: int) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / 100, height / 100), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # Margins in CSS pixels, so both charts line up and no label is cut whatever their heights.
    left, right, top, bottom = LEFT_MARGIN / WIDTH, 6 / WIDTH, 12 / height, BASELINE / height
    axes = figure.add_axes((left, bottom, 1 - left - right, 1 - top - bottom))
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(_RULE)
    axes.tick_params(labelsize=_FONT, colors=_MUTED, length=0)
    axes.grid(axis="y", color=_RULE, linewidth=0.6, zorder=0)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()
