"""Training on the labels in the database, by command or on a schedule.

A worker checks every ``[learning] check_interval_minutes`` whether
``retrain_after_labels`` labels have come in since the last model; if so it trains
on every label in force, stores the model in shadow and, with
``activate_when_better``, activates it when it beat the rules on the folds. Two
workers retraining at once on the same labels store one model: ``labels_through``
is unique, and the second insert fails and is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from social_care.classify.rules import RuleClassifier
from social_care.config.models import LearningSettings
from social_care.learning import labels as label_store
from social_care.learning import versions
from social_care.learning.training import Evaluation, TrainingError, learn, read_examples
from social_care.storage.tables import TriageModel

log = logging.getLogger(__name__)
WORKER = "worker"  # who activated a model on schedule, in the audit log


@dataclass(frozen=True)
class Trained:
    row: TriageModel
    evaluation: Evaluation
    activated: bool


def train_on_database(
    session: Session,
    rules: RuleClassifier,
    *,
    folds: int,
    by: str,
    at: datetime,
    activate: bool = False,
    seed: int = 0,
    on_evaluation: Callable[[Evaluation, int], None] | None = None,
) -> Trained:
    """Train on every label in force, store the model in shadow and, with ``activate``, make it
    active if it beat the rules; :class:`TrainingError` when the labels cannot train one."""
    through = label_store.last_label_id(session)
    current = list(label_store.current_labels(session))
    reads = read_examples(rules, [label.example() for label in current])
    model, evaluation = learn(reads, folds=folds, seed=seed)
    if on_evaluation:
        on_evaluation(evaluation, len(reads))
    row = versions.store(session, model, evaluation, labels=len(reads), labels_through=through, by=by, at=at)
    activated = False
    if activate and evaluation.wins:
        versions.activate(session, row.id, at=at)
        activated = True
    return Trained(row, evaluation, activated)


def retrain_if_due(
    engine: Engine, settings: LearningSettings, rules: RuleClassifier, *, at: datetime
) -> Trained | None:
    """Retrain when enough labels came in since the last model (see the module's docstring)."""
    if not settings.retrain_after_labels:
        return None
    with Session(engine, expire_on_commit=False) as session:
        last = versions.latest(session)
        new = label_store.labels_since(session, last.labels_through if last else 0)
        if new < settings.retrain_after_labels:
            return None
        try:
            trained = train_on_database(
                session,
                rules,
                folds=settings.folds,
                by="scheduled retraining",
                at=at,
                activate=settings.activate_when_better,
            )
            if trained.activated:
                versions.record_activation(session, trained.row, actor=WORKER, at=at)
            session.commit()
        except TrainingError as problem:
            log.warning("retraining the triage model on %d new labels: %s", new, problem)
            return None
        except IntegrityError:
            log.info("another worker stored a model trained on the same labels")
            return None
    log.info(
        "triage model %s trained on %d labels (%s); macro-F1 %.3f against the rules' %.3f",
        trained.row.id,
        trained.row.labels,
        "active" if trained.activated else "in shadow",
        trained.evaluation.model.macro_f1,
        trained.evaluation.rules.macro_f1,
    )
    return trained
