"""How each language of the digest writes dates, numbers and durations, and the sentences drawn in code.

The mail's own wording lives in its templates (``templates/mail/digest*``). What
is left here is what code must compose: a date as "Thu 3 Dec" or "gio 3 dic",
"1,234.5" or "1.234,5", a duration as "1 h 05 min", and the text alternative
of each chart, which describes numbers only code knows. No locale database is
needed for two languages, and none is installed: the tables below are all of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Words:
    language: str
    weekdays: tuple[str, ...]  # Monday first, as date.weekday() counts
    months: tuple[str, ...]
    decimal_mark: str
    thousands_mark: str
    day_unit: str
    points: str  # the unit of a change in percentage points
    trend_alt: str
    trend_gaps: str
    trend_empty: str
    hours_alt: str
    hours_none: str
    hours_short_day: str
    hours_long_day: str

    def day(self, day: date) -> str:
        """A day as people say it in a subject line: "Thu 3 Dec"."""
        return f"{self.weekdays[day.weekday()]} {self.short_day(day)}"

    def short_day(self, day: date) -> str:
        return f"{day.day} {self.months[day.month - 1]}"

    def on_day(self, day: date) -> str:
        """On a day: "on 3 Dec"; Italian elides its article before a vowel: "il 3 dic", "l'8 dic"."""
        if self.language == "it":
            return f"l'{self.short_day(day)}" if day.day in (8, 11) else f"il {self.short_day(day)}"
        return f"on {self.short_day(day)}"

    def time(self, moment: datetime) -> str:
        return f"{moment:%H:%M}"

    def number(self, value: float, decimals: int = 0) -> str:
        """Grouped thousands and the language's decimal mark: 1,234.5 or 1.234,5."""
        text = f"{value:,.{decimals}f}"
        return text.translate({ord(","): self.thousands_mark, ord("."): self.decimal_mark})

    def signed(self, value: float, decimals: int = 0) -> str:
        """A change or an index with its sign; zero has none."""
        rounded = round(value, decimals)
        text = self.number(abs(rounded), decimals)
        if rounded == 0:
            return text
        return f"+{text}" if rounded > 0 else f"-{text}"

    def percent(self, value: float) -> str:
        """A share rounded down to a tenth, so 89.96% never reads as a floor of 90% reached."""
        tenths = math.floor(value * 10 + 1e-9) / 10
        return f"{self.number(tenths, 0 if tenths.is_integer() else 1)}%"

    def duration(self, seconds: float) -> str:
        """A wait as a person reads it: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
        whole = round(seconds)
        if whole < MINUTE:
            return f"{whole} s"
        if whole < HOUR:
            return f"{whole // MINUTE} min"
        if whole < DAY:
            hours, rest = divmod(whole, HOUR)
            return f"{hours} h {rest // MINUTE:02d} min"
        days, rest = divmod(whole, DAY)
        return f"{days} {self.day_unit} {rest // HOUR} h"


ENGLISH = Words(
    language="en",
    weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    decimal_mark=".",
    thousands_mark=",",
    day_unit="d",
    points="pts",
    trend_alt=(
        "Reputation index over {days} days: from {first} {on_first} to {last} {on_last}, "
        "lowest {low} {on_low}, highest {high} {on_high}"
    ),
    trend_gaps="; no mentions on {count} of the days",
    trend_empty="Reputation index over {days} days: no day had mentions",
    hours_alt=(
        "Mentions per hour on {day}{length}: {total} in all, most from {peak} to {peak_end} ({peak_count})"
    ),
    hours_none="Mentions per hour on {day}{length}: none",
    hours_short_day=", a day of {hours} hours (the clocks went forward)",
    hours_long_day=", a day of {hours} hours (the clocks went back)",
)

ITALIAN = Words(
    language="it",
    weekdays=("lun", "mar", "mer", "gio", "ven", "sab", "dom"),
    months=("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"),
    decimal_mark=",",
    thousands_mark=".",
    day_unit="g",
    points="p.p.",
    trend_alt=(
        "Indice di reputazione negli ultimi {days} giorni: da {first} {on_first} a {last} {on_last}, "
        "minimo {low} {on_low}, massimo {high} {on_high}"
    ),
    trend_gaps="; nessuna menzione in {count} dei giorni",
    trend_empty="Indice di reputazione negli ultimi {days} giorni: nessun giorno con menzioni",
    hours_alt=(
        "Menzioni per ora di {day}{length}: {total} in tutto, il massimo dalle {peak} alle {peak_end} "
        "({peak_count})"
    ),
    hours_none="Menzioni per ora di {day}{length}: nessuna",
    hours_short_day=", un giorno di {hours} ore (si è passati all'ora legale)",
    hours_long_day=", un giorno di {hours} ore (si è tornati all'ora solare)",
)

_BY_LANGUAGE = {words.language: words for words in (ENGLISH, ITALIAN)}


def words_for(language: str) -> Words:
    """The language's words, English for a language the digest does not speak yet."""
    return _BY_LANGUAGE.get(language, ENGLISH)
