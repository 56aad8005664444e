"""Service-level targets: which policy applies to a case and when each of its clocks runs out.

A case has three clocks, each measured in its policy's calendar (24/7 or
business hours): acknowledgement from when it was opened; a person's reply
from the customer's oldest unanswered message (the clock stops while the case
waits on the customer and starts again when they write); resolution from when
it was opened or last reopened. A clock that reached its goal no longer runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from social_care.config.models import Config, SlaPolicy
from social_care.sla.calendar import Calendar, calendar_named
from social_care.storage.tables import Case

ACKNOWLEDGEMENT, RESPONSE, RESOLUTION = "acknowledgement", "response", "resolution"
TARGETS = (ACKNOWLEDGEMENT, RESPONSE, RESOLUTION)
WARNING, BREACH = "warning", "breach"
_CLOSED = ("resolved", "spam", "ignored")


@dataclass(frozen=True)
class Clock:
    """One running target of a case: when it started, when to warn, when it is breached."""

    target: str
    started_at: datetime
    warn_at: datetime
    due_at: datetime

    def alert_at(self, level: str) -> datetime:
        return self.warn_at if level == WARNING else self.due_at


def policy_for(config: Config, category: str, priority: str) -> SlaPolicy | None:
    """The first policy naming the category whose priorities are empty or include ``priority``."""
    for policy in config.sla:
        if category in policy.categories and (not policy.priorities or priority in policy.priorities):
            return policy
    return None


def calendar_for(config: Config, policy: SlaPolicy) -> Calendar:
    return calendar_named(config, policy.calendar)


def running_clocks(config: Config, case: Case) -> list[Clock]:
    """The case's clocks that are still running, with their warning and due times."""
    policy = policy_for(config, case.category, case.priority)
    if policy is None or case.status in _CLOSED:
        return []
    calendar = calendar_for(config, policy)
    starts = (
        (
            ACKNOWLEDGEMENT,
            None if case.acknowledged_at else case.opened_at,
            policy.acknowledge_within_minutes,
        ),
        (RESPONSE, case.awaiting_reply_since, policy.first_response_within_minutes),
        (RESOLUTION, case.reopened_at or case.opened_at, policy.resolve_within_minutes),
    )
    fraction = config.sla_alerts.warn_at_fraction
    return [
        Clock(
            target=target,
            started_at=start,
            warn_at=calendar.add(start, timedelta(minutes=minutes * fraction)),
            due_at=calendar.add(start, timedelta(minutes=minutes)),
        )
        for target, start, minutes in starts
        if start is not None and minutes
    ]


def set_due_times(config: Config, case: Case, made: Iterable[tuple[str, str, datetime]] = ()) -> None:
    """Set the case's due times and the sweeper's next alert from its running clocks.

    ``made`` lists the alerts already made for the case as (target, level, due time).
    """
    clocks = {clock.target: clock for clock in running_clocks(config, case)}
    case.ack_due_at = clocks[ACKNOWLEDGEMENT].due_at if ACKNOWLEDGEMENT in clocks else None
    case.response_due_at = clocks[RESPONSE].due_at if RESPONSE in clocks else None
    case.resolution_due_at = clocks[RESOLUTION].due_at if RESOLUTION in clocks else None
    done = set(made)
    pending = [
        clock.alert_at(level)
        for clock in clocks.values()
        for level in (WARNING, BREACH)
        if (clock.target, level, clock.due_at) not in done
    ]
    case.sla_next_alert_at = min(pending, default=None)


def response_window(policy: SlaPolicy | None) -> timedelta | None:
    """The wait a customer is promised for a person's answer."""
    if policy is None or policy.first_response_within_minutes is None:
        return None
    return timedelta(minutes=policy.first_response_within_minutes)
