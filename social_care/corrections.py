"""A person correcting a case's triage: category, cluster, priority, product or team.

A correction is kept as a label by that person, with the rules' verdict on the same
post beside it (the training data of later triage), and recorded as an event. It
moves what depends on the triage at once: the SLA clocks are recomputed for the new
category and priority, a case moved to another team is routed there, and an
automatic acknowledgement not yet sent is cancelled when the case turns out to be
something we do not acknowledge (a thank-you taken for a complaint).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import get_args

from sqlmodel import Session, col, select

from responders.handoff import HandOff
from social_care import events, lifecycle
from social_care.config.models import Category, Cluster, Config, Priority
from social_care.routing import CaseFacts, choose_rule
from social_care.sla.sweeper import refresh_clocks
from social_care.storage.tables import Case, Classification, Employee, Mention, Team, TeamMember, TriageLabel

CATEGORIES: tuple[str, ...] = get_args(Category)
CLUSTERS: tuple[str, ...] = get_args(Cluster)
PRIORITIES: tuple[str, ...] = get_args(Priority)
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Triage:
    """What a person may correct; ``team`` "" is a case no rule routed."""

    category: str
    cluster: str
    priority: str
    product: str
    team: str

    @classmethod
    def of(cls, case: Case) -> Triage:
        return cls(case.category, case.cluster, case.priority, case.product, case.team or "")


def products_of(config: Config, brand: str) -> list[str]:
    """The products a case of ``brand`` may be about, by the configuration."""
    return [product.name for item in config.brands if item.name == brand for product in item.products]


def problem_with(config: Config, case: Case, triage: Triage) -> str:
    """Why ``triage`` cannot be the case's, or ""."""
    allowed = (
        ("category", triage.category, CATEGORIES),
        ("cluster", triage.cluster, CLUSTERS),
        ("priority", triage.priority, PRIORITIES),
        ("product", triage.product, ("", *products_of(config, case.brand))),
        ("team", triage.team, ("", *(team.name for team in config.teams))),
    )
    for name, value, values in allowed:
        if value not in values:
            return f"{value!r} is not a {name} of this desk."
    if triage.team == "" and case.team:
        return "A routed case moves to another team, not out of every team."
    return ""


def correct(
    session: Session,
    config: Config,
    case: Case,
    triage: Triage,
    *,
    employee: Employee,
    at: datetime,
    handoff: HandOff,
    reason: str = "",
) -> TriageLabel:
    """Correct the case's triage as ``employee``; :class:`lifecycle.Refused` when it cannot be."""
    if problem := problem_with(config, case, triage):
        raise lifecycle.Refused(problem)
    before = Triage.of(case)
    changes = {
        item.name: [getattr(before, item.name), getattr(triage, item.name)]
        for item in fields(Triage)
        if getattr(before, item.name) != getattr(triage, item.name)
    }
    if not changes:
        raise lifecycle.Refused("Nothing to correct: the triage is already this.")
    first = session.exec(select(Mention).where(Mention.case_id == case.id).order_by(col(Mention.id))).first()
    label = _label(session, case, triage, first, employee=employee, at=at, reason=reason)
    case.category, case.cluster, case.priority, case.product = (
        triage.category,
        triage.cluster,
        triage.priority,
        triage.product,
    )
    events.record(
        session,
        case,
        "reclassified",
        at=at,
        actor=lifecycle.EMPLOYEE,
        employee_id=employee.id,
        changes=changes,
        reason=reason,
        label_id=label.id,
    )
    if case.category not in config.acknowledgement.categories:
        lifecycle.cancel_automatic_replies(session, case, at, why=f"corrected to {case.category}")
    refresh_clocks(session, config, case)
    team = triage.team or _routed_team(config, case, first)
    if team and team != (case.team or ""):
        _move_to_team(session, case, team, first, employee=employee, at=at, handoff=handoff)
    return label


def _label(
    session: Session,
    case: Case,
    triage: Triage,
    mention: Mention | None,
    *,
    employee: Employee,
    at: datetime,
    reason: str,
) -> TriageLabel:
    rules = None
    if mention is not None:
        rules = session.exec(
            select(Classification)
            .where(Classification.mention_id == mention.id, Classification.decided_by == "rules")
            .order_by(col(Classification.id).desc())
        ).first()
    label = TriageLabel(
        case_id=case.id or 0,
        mention_id=mention.id if mention else None,
        employee_id=employee.id or 0,
        at=at,
        reason=reason,
        category=triage.category,
        cluster=triage.cluster,
        priority=triage.priority,
        product=triage.product,
        team=triage.team,
        language=case.language,
        rules_category=rules.category if rules else "",
        rules_cluster=rules.cluster if rules else "",
        rules_priority=rules.priority if rules else "",
    )
    session.add(label)
    session.flush()
    return label


def _routed_team(config: Config, case: Case, first: Mention | None) -> str:
    """The team the rules give a case no rule routed, now that it is something worth routing."""
    if case.team or case.category == "other":
        return ""
    rule = choose_rule(config.routing, CaseFacts.of(case, first.text if first else ""))
    return rule.team if rule else ""


def _move_to_team(
    session: Session,
    case: Case,
    team: str,
    first: Mention | None,
    *,
    employee: Employee,
    at: datetime,
    handoff: HandOff,
) -> None:
    """The case belongs to ``team`` now: its assignee keeps it only if they are in that team."""
    case.team = team
    if case.assignee_id is not None and not _member(session, case.assignee_id, team):
        lifecycle.release(session, case, at, by=employee.id, reason=f"moved to team {team}")
    if case.assignee_id is None:
        handoff.assign(
            session, case, CaseFacts.of(case, first.text if first else ""), rule="corrected", now=at
        )


def _member(session: Session, employee_id: int, team: str) -> bool:
    statement = (
        select(TeamMember.employee_id)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .where(TeamMember.employee_id == employee_id, Team.name == team)
    )
    return session.exec(statement).first() is not None
