"""Password guessing is slowed per account and address, never locking a colleague out from elsewhere."""

from __future__ import annotations

from datetime import timedelta

from social_care.web.throttle import LoginThrottle
from tests.support.clock import FakeClock

ACCOUNT = "luca.marino@velora.example"


def test_the_fifth_failure_blocks_that_address_for_that_account_only(clock: FakeClock) -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until((ACCOUNT, "203.0.113.9"), clock()) is None
    throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until((ACCOUNT, "203.0.113.9"), clock()) == clock() + timedelta(minutes=15)
    assert throttle.blocked_until((ACCOUNT, "198.51.100.7"), clock()) is None
    assert throttle.blocked_until(("sara.greco@velora.example", "203.0.113.9"), clock()) is None


def test_failures_older_than_the_window_and_a_success_are_forgotten(clock: FakeClock) -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    clock.advance(minutes=15)
    throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until((ACCOUNT, "203.0.113.9"), clock()) is None
    for _ in range(3):
        throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    throttle.succeeded((ACCOUNT, "203.0.113.9"))
    throttle.failed((ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until((ACCOUNT, "203.0.113.9"), clock()) is None
