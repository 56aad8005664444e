"""Service-level targets: which policy applies to a case and when each clock runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from social_care.config.models import Config, SlaPolicy
from social_care.storage.tables import Case


def policy_for(config: Config, category: str, priority: str) -> SlaPolicy | None:
    """The first policy naming the category whose priorities are empty or include ``priority``."""
    for policy in config.sla:
        if category in policy.categories and (not policy.priorities or priority in policy.priorities):
            return policy
    return None


def _due(start: datetime, minutes: int | None) -> datetime | None:
    return start + timedelta(minutes=minutes) if minutes else None


def set_due_times(config: Config, case: Case) -> SlaPolicy | None:
    """Set the case's acknowledgement, response and resolution due times from its policy."""
    policy = policy_for(config, case.category, case.priority)
    if policy is None:
        case.ack_due_at = case.response_due_at = case.resolution_due_at = None
        return None
    case.ack_due_at = _due(case.opened_at, policy.acknowledge_within_minutes)
    case.response_due_at = _due(case.opened_at, policy.first_response_within_minutes)
    case.resolution_due_at = _due(case.opened_at, policy.resolve_within_minutes)
    return policy


def response_window(policy: SlaPolicy | None) -> timedelta | None:
    """The wait a customer is promised for a person's answer."""
    if policy is None or policy.first_response_within_minutes is None:
        return None
    return timedelta(minutes=policy.first_response_within_minutes)
