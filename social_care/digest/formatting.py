"""Figures as a reader sees them: a value, its change against the day before and the week, in words.

The digest's templates get a :class:`Formatter` and ask it for each figure in
the form that figure needs (a count, a duration, a share, the index), so the
rules live in one place: nothing to measure is a dash, never 0; a change says
its direction with an arrow and its sign, and whether it is good news, for the
colour; a share is rounded down so it never claims a floor it missed; every
time is in the recipient's zone. Everything returned is plain text, which the
HTML templates escape like any other value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from social_care.digest.model import Attainment, Figure
from social_care.digest.words import Words

DASH = "\u2013"
EXCERPT = 320  # characters of a post shown; a long Reddit post is read on the platform
Better = Literal["higher", "lower"] | None
Tone = Literal["good", "bad", "neutral", "flat"]
_Value = Callable[[float], str]
_Change = Callable[[float, float], tuple[str, int]]


@dataclass(frozen=True)
class Change:
    text: str  # "+18%", "-3 pts", "0%"
    arrow: str  # up, down or level
    tone: Tone

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class FigureView:
    value: str
    known: bool
    day_before: Change | None
    week: Change | None

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class AttainmentView:
    policy: str
    target: str
    percent: str
    floor: str
    state: Literal["met", "missed", "none"]
    met: int
    measured: int


class Formatter:
    """Formats the figures of one digest in its language, for a reader in ``zone`` at ``now``."""

    def __init__(self, words: Words, *, zone: ZoneInfo, day: date, now: datetime) -> None:
        self.words = words
        self._zone = zone
        self._day = day
        self._now = now

    def count(self, figure: Figure, better: Better = None) -> FigureView:
        return self._figure(figure, self.words.number, self._relative(self.words.number), better)

    def duration(self, figure: Figure, better: Better = "lower") -> FigureView:
        return self._figure(figure, self.words.duration, self._relative(self.words.duration), better)

    def share(self, figure: Figure, better: Better = "higher") -> FigureView:
        return self._figure(figure, self.words.percent, self._points, better)

    def index(self, figure: Figure) -> FigureView:
        return self._figure(figure, self.words.signed, self._difference(0), "higher")

    def ratio(self, figure: Figure, better: Better = None) -> FigureView:
        return self._figure(figure, lambda value: self.words.number(value, 1), self._difference(1), better)

    @staticmethod
    def plain(text: str) -> FigureView:
        """A value shown in a table of figures without comparisons (the age of the oldest case)."""
        return FigureView(text, text != DASH, None, None)

    def attainment(self, attainment: Attainment) -> AttainmentView:
        percent, meets = attainment.percent, attainment.meets_floor
        return AttainmentView(
            policy=attainment.policy,
            target=attainment.target,
            percent=DASH if percent is None else self.words.percent(percent),
            floor=self.words.percent(attainment.floor_percent),
            state="none" if meets is None else "met" if meets else "missed",
            met=attainment.met,
            measured=attainment.measured,
        )

    def number(self, value: float | None, decimals: int = 0) -> str:
        return DASH if value is None else self.words.number(value, decimals)

    def day(self, day: date) -> str:
        return self.words.day(day)

    def day_of(self, moment: datetime) -> str:
        return self.words.day(moment.astimezone(self._zone).date())

    def time(self, moment: datetime) -> str:
        return self.words.time(moment.astimezone(self._zone))

    def moment(self, moment: datetime) -> str:
        """The local time alone on the digest's day ("14:05"), with its day on another ("Wed 2 Dec 23:10")."""
        local = moment.astimezone(self._zone)
        time = self.words.time(local)
        return time if local.date() == self._day else f"{self.words.day(local.date())} {time}"

    def hour(self, moment: datetime) -> str:
        """The local hour that starts at ``moment``: "14:00-15:00"."""
        start = moment.astimezone(self._zone)
        end = (moment.astimezone(UTC) + timedelta(hours=1)).astimezone(self._zone)
        return f"{self.words.time(start)}\u2013{self.words.time(end)}"

    def span(self, length: timedelta | None) -> str:
        return DASH if length is None else self.words.duration(length.total_seconds())

    def since(self, moment: datetime) -> str:
        """How long ago ``moment`` was when the digest was made."""
        return self.words.duration(max((self._now - moment).total_seconds(), 0))

    def until(self, moment: datetime) -> str:
        """How long after the digest was made ``moment`` comes."""
        return self.words.duration(max((moment - self._now).total_seconds(), 0))

    @staticmethod
    def link(url: str) -> str:
        """``url`` if it is a web address, else "" so the template shows no link (never javascript:)."""
        return url if url.startswith(("https://", "http://")) else ""

    @staticmethod
    def excerpt(text: str) -> str:
        flat = " ".join(text.split())
        return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rstrip() + "\u2026"

    def _figure(self, figure: Figure, value: _Value, change: _Change, better: Better) -> FigureView:
        if figure.value is None:
            return FigureView(DASH, False, None, None)
        return FigureView(
            value=value(figure.value),
            known=True,
            day_before=self._change(figure.value, figure.day_before, change, better),
            week=self._change(figure.value, figure.week_mean, change, better),
        )

    @staticmethod
    def _change(value: float, other: float | None, change: _Change, better: Better) -> Change | None:
        if other is None:
            return None
        text, sign = change(value, other)
        if sign == 0:
            return Change(text, "=", "flat")
        good = (sign > 0) == (better == "higher")
        tone: Tone = "neutral" if better is None else "good" if good else "bad"
        return Change(text, "\u25b2" if sign > 0 else "\u25bc", tone)

    def _relative(self, value: _Value) -> _Change:
        """A change in percent of the other figure; from nothing, the amount itself."""

        def change(new: float, old: float) -> tuple[str, int]:
            if old == 0:
                return ("0%", 0) if new == 0 else (f"+{value(new)}", 1)
            percent = round(100 * (new - old) / old)
            return f"{self.words.signed(percent)}%", _sign(percent)

        return change

    def _points(self, new: float, old: float) -> tuple[str, int]:
        delta = round(new - old)
        return f"{self.words.signed(delta)} {self.words.points}", _sign(delta)

    def _difference(self, decimals: int) -> _Change:
        def change(new: float, old: float) -> tuple[str, int]:
            delta = round(new - old, decimals)
            return self.words.signed(delta, decimals), _sign(delta)

        return change


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)
