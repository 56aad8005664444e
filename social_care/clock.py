"""Time comes from a clock that is passed in, so tests control it and never sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def sleeper(clock: Clock) -> Callable[[float], None]:
    """How to wait on ``clock``: its own ``sleep`` when it has one (a test's clock moves itself
    forward), else the real one."""
    sleep: Callable[[float], None] = getattr(clock, "sleep", time.sleep)
    return sleep
