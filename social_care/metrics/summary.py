"""Summaries of a set of durations: count, mean, median and 90th percentile."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Durations:
    """``None`` figures when there was nothing to measure."""

    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, values: Sequence[timedelta]) -> Durations:
        return cls.of_seconds([value.total_seconds() for value in values])

    @classmethod
    def of_seconds(cls, values: Sequence[float]) -> Durations:
        if not values:
            return cls(0, None, None, None)
        seconds = sorted(values)
        return cls(
            count=len(seconds),
            mean=timedelta(seconds=statistics.fmean(seconds)),
            median=timedelta(seconds=statistics.median(seconds)),
            p90=timedelta(seconds=nearest_rank(seconds, 90)),
        )


def nearest_rank(ordered: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with ``percent``% of values at or below it.

    Always one of the measured values, so a manager can find the case behind it.
    """
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
