"""Who handles a case: the first routing rule that fits picks the team, then
someone in it who is competent, authorised for the source, on shift, available
and under capacity, chosen by the team's strategy.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from social_care.cases import OPEN_STATES
from social_care.config.models import Config, Employee, RoutingRule
from social_care.storage import tables
from social_care.text import fold

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class CaseFacts:
    """What routing may look at, gathered once per case."""

    category: str
    cluster: str
    brand: str
    product: str
    language: str
    platform: str
    priority: str
    source_id: str
    text: str

    @classmethod
    def of(cls, case: tables.Case, text: str = "") -> CaseFacts:
        """The facts of ``case``; ``text`` is the post that opened it, for keyword rules."""
        return cls(
            category=case.category,
            cluster=case.cluster,
            brand=case.brand,
            product=case.product,
            language=case.language,
            platform=case.platform,
            priority=case.priority,
            source_id=case.source_id,
            text=text,
        )


def choose_rule(rules: Sequence[RoutingRule], facts: CaseFacts) -> RoutingRule | None:
    return next((rule for rule in rules if _fits(rule, facts)), None)


def _fits(rule: RoutingRule, facts: CaseFacts) -> bool:
    when = rule.when
    checks = (
        (when.categories, facts.category),
        (when.clusters, facts.cluster),
        (when.brands, facts.brand),
        (when.products, facts.product),
        (when.languages, facts.language),
        (when.platforms, facts.platform),
        (when.priorities, facts.priority),
    )
    if any(allowed and value not in allowed for allowed, value in checks):
        return False
    folded = fold(facts.text)
    return not when.keywords or any(fold(keyword) in folded for keyword in when.keywords)


def eligible(person: Employee, team: str, facts: CaseFacts, now: datetime) -> bool:
    """Competent, authorised for the source and on shift (availability and load are checked apart)."""
    skills = person.competences
    wanted = (
        (skills.categories, facts.category),
        (skills.clusters, facts.cluster),
        (skills.products, facts.product),
        (skills.languages, facts.language),
        (skills.platforms, facts.platform),
    )
    competent = all(not allowed or value in allowed for allowed, value in wanted)
    return team in person.teams and competent and facts.source_id in person.accounts and on_shift(person, now)


def on_shift(person: Employee, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(person.timezone))
    hours = person.working_hours
    return _WEEKDAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end


def open_loads(session: Session) -> dict[int, int]:
    statement = (
        select(tables.Case.assignee_id, func.count())
        .where(col(tables.Case.status).in_(OPEN_STATES), col(tables.Case.assignee_id).is_not(None))
        .group_by(col(tables.Case.assignee_id))
    )
    return {assignee: count for assignee, count in session.exec(statement) if assignee is not None}


def choose_assignee(
    session: Session,
    config: Config,
    team_name: str,
    facts: CaseFacts,
    *,
    now: datetime,
    rng: random.Random,
    exclude: frozenset[int] = frozenset(),
) -> tables.Employee | None:
    """Someone eligible in the team by its strategy, never anyone in ``exclude``."""
    team = session.exec(select(tables.Team).where(tables.Team.name == team_name)).one()
    loads = open_loads(session)
    rows = {row.email: row for row in session.exec(select(tables.Employee).where(tables.Employee.active))}
    candidates = sorted(
        (
            row
            for person in config.employees
            if (row := rows.get(person.email)) is not None
            and row.id not in exclude
            and row.available
            and loads.get(row.id or 0, 0) < row.capacity
            and eligible(person, team_name, facts, now)
        ),
        key=lambda row: row.id or 0,
    )
    if not candidates:
        return None
    chosen = _pick(team, candidates, loads, rng)
    team.last_assigned_id = chosen.id
    session.add(team)
    return chosen


def _pick(
    team: tables.Team, candidates: list[tables.Employee], loads: dict[int, int], rng: random.Random
) -> tables.Employee:
    if team.strategy == "least_loaded":
        return min(candidates, key=lambda row: (loads.get(row.id or 0, 0), row.id or 0))
    if team.strategy == "random":
        return rng.choice(candidates)
    after = [row for row in candidates if (row.id or 0) > (team.last_assigned_id or 0)]
    return (after or candidates)[0]
