"""How long to wait before trying a platform again after a transient failure.

When the platform says how long (a 429's reset, a ``Retry-After``), that is
the wait, plus a little jitter so that several workers do not all come back in
the same second; never a fixed long step on top. Otherwise the wait doubles
with each failure in a row from ``base`` up to ``ceiling``, with "equal jitter"
(between half and all of the step).
"""

from __future__ import annotations

import random
from datetime import timedelta

CEILING_SECONDS = 3600.0
ASKED_JITTER = 0.1  # at most a tenth more than the platform asked, and at most this many seconds:
ASKED_JITTER_MAX_SECONDS = 5.0


def retry_delay(
    failures: int,
    *,
    base_seconds: float,
    retry_after: float | None,
    rng: random.Random,
    ceiling_seconds: float = CEILING_SECONDS,
) -> timedelta:
    """The wait after ``failures`` failures in a row (1 for the first)."""
    if retry_after is not None:
        jitter = min(retry_after * ASKED_JITTER, ASKED_JITTER_MAX_SECONDS) * rng.random()
        return timedelta(seconds=max(retry_after, 0.0) + jitter)
    step = min(base_seconds * 2 ** max(failures - 1, 0), ceiling_seconds)
    return timedelta(seconds=step * (0.5 + rng.random() / 2))
