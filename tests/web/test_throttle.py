"""Password guessing is slowed per account and address, per account, and per address."""

from __future__ import annotations

from datetime import timedelta

from social_care.web.throttle import Attempt, LoginThrottle
from tests.support.clock import FakeClock

ACCOUNT = "luca.marino@velora.example"
COLLEAGUE = "sara.greco@velora.example"


def test_the_fifth_failure_blocks_that_address_for_that_account_only(clock: FakeClock) -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) is None
    throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) == clock() + timedelta(minutes=15)
    assert throttle.blocked_until(Attempt(ACCOUNT, "198.51.100.7"), clock()) is None
    assert throttle.blocked_until(Attempt(COLLEAGUE, "203.0.113.9"), clock()) is None


def test_failures_older_than_the_window_and_a_success_are_forgotten(clock: FakeClock) -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    clock.advance(minutes=15)
    throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) is None
    for _ in range(3):
        throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    throttle.succeeded(Attempt(ACCOUNT, "203.0.113.9"))
    throttle.failed(Attempt(ACCOUNT, "203.0.113.9"), clock())
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) is None


def test_guessing_one_account_from_many_addresses_blocks_the_account_at_twenty(clock: FakeClock) -> None:
    throttle = LoginThrottle()
    for number in range(19):
        throttle.failed(Attempt(ACCOUNT, f"198.51.100.{number}"), clock())
        clock.advance(seconds=10)
    assert throttle.blocked_until(Attempt(ACCOUNT, "192.0.2.1"), clock()) is None
    throttle.failed(Attempt(ACCOUNT, "198.51.100.99"), clock())
    first = clock() - timedelta(seconds=190)
    assert throttle.blocked_until(Attempt(ACCOUNT, "192.0.2.1"), clock()) == first + timedelta(minutes=15)
    assert throttle.blocked_until(Attempt(COLLEAGUE, "198.51.100.1"), clock()) is None
    throttle.succeeded(Attempt(ACCOUNT, "192.0.2.1"))  # its owner, with the right password
    assert throttle.blocked_until(Attempt(ACCOUNT, "192.0.2.1"), clock()) is None


def test_one_address_trying_many_accounts_is_blocked_at_twenty_and_its_own_sign_in_does_not_reset_it(
    clock: FakeClock,
) -> None:
    throttle = LoginThrottle()
    for number in range(20):
        throttle.failed(Attempt(f"person{number}@velora.example", "203.0.113.9"), clock())
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) == clock() + timedelta(minutes=15)
    throttle.succeeded(Attempt("mallory@velora.example", "203.0.113.9"))
    assert throttle.blocked_until(Attempt(ACCOUNT, "203.0.113.9"), clock()) is not None
    assert throttle.blocked_until(Attempt(ACCOUNT, "198.51.100.7"), clock()) is None
