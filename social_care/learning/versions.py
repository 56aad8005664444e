"""Trained models in the database: stored in shadow, activated when they beat the rules,
rolled back in one step, and read by every worker the same way.

At most one model is active and at most one is in shadow. A new model enters in
shadow, retiring the shadow before it. Activating retires the active one;
rolling back retires the active model and brings back the one that was active
before it (or the rules alone, when there was none). Whoever makes either change
writes it to the audit log (:func:`record_activation`, :func:`record_rollback`) in
the same transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from social_care import audit
from social_care.clock import Clock, system_clock
from social_care.learning.model import LearnedModel
from social_care.learning.training import Evaluation
from social_care.storage.tables import TriageModel

SHADOW, ACTIVE, RETIRED = "shadow", "active", "retired"
REFRESH_SECONDS = 10.0


class Refused(ValueError):
    """A change of models that cannot be made; the message says why."""


def store(
    session: Session,
    model: LearnedModel,
    evaluation: Evaluation,
    *,
    labels: int,
    labels_through: int,
    by: str,
    at: datetime,
) -> TriageModel:
    """Keep ``model`` as the new shadow (the one before it retires); the caller commits."""
    for shadow in session.exec(select(TriageModel).where(TriageModel.status == SHADOW)):
        shadow.status, shadow.retired_at = RETIRED, at
        session.add(shadow)
    row = TriageModel(
        status=SHADOW,
        created_at=at,
        created_by=by,
        labels=labels,
        labels_through=labels_through,
        wins=evaluation.wins,
        model_macro_f1=round(evaluation.model.macro_f1, 4),
        rules_macro_f1=round(evaluation.rules.macro_f1, 4),
        evaluation=evaluation.to_dict(),
        model=model.to_bytes(),
    )
    session.add(row)
    session.flush()
    return row


def activate(session: Session, version: int | None, *, at: datetime) -> TriageModel:
    """Make a model (the shadow one when ``version`` is None) the one that decides; refused
    unless it beat the rules on its folds."""
    if version is None:
        row = session.exec(select(TriageModel).where(TriageModel.status == SHADOW)).first()
        if row is None:
            raise Refused("No model in shadow to activate: train one with `social-care learn`.")
    else:
        row = session.get(TriageModel, version)
        if row is None:
            raise Refused(f"There is no model {version}: `social-care model list` shows them.")
    if row.status == ACTIVE:
        raise Refused(f"Model {row.id} is already active.")
    if not row.wins:
        raise Refused(
            f"Model {row.id} did not beat the rules on its folds (macro-F1 {row.model_macro_f1:.3f} "
            f"against the rules' {row.rules_macro_f1:.3f}); the rules keep deciding."
        )
    for active in session.exec(select(TriageModel).where(TriageModel.status == ACTIVE)):
        active.status, active.retired_at = RETIRED, at
        session.add(active)
    row.status, row.activated_at, row.retired_at = ACTIVE, at, None
    session.add(row)
    session.flush()
    return row


def rollback(session: Session, *, at: datetime) -> tuple[TriageModel, TriageModel | None]:
    """Retire the active model; the one active before it (if any) decides again."""
    active = session.exec(select(TriageModel).where(TriageModel.status == ACTIVE)).first()
    if active is None:
        raise Refused("No model is active: the rules decide already.")
    active.status, active.retired_at = RETIRED, at
    session.add(active)
    before = session.exec(
        select(TriageModel)
        .where(col(TriageModel.activated_at).is_not(None), col(TriageModel.id) < active.id)
        .order_by(col(TriageModel.id).desc())
    ).first()
    if before is not None:
        before.status, before.activated_at, before.retired_at = ACTIVE, at, None
        session.add(before)
    session.flush()
    return active, before


def record_activation(session: Session, row: TriageModel, *, actor: str, at: datetime) -> None:
    """Write a model's activation to the audit log, with the figures it was let in on."""
    audit.record(
        session,
        audit.MODEL_ACTIVATED,
        at=at,
        actor=actor,
        subject=f"model {row.id}",
        labels=row.labels,
        macro_f1=row.model_macro_f1,
        rules_macro_f1=row.rules_macro_f1,
    )


def record_rollback(
    session: Session, retired: TriageModel, back: TriageModel | None, *, actor: str, at: datetime
) -> None:
    """Write a rollback to the audit log: the model retired, and what decides instead."""
    instead = f"model {back.id}" if back else "the rules alone"
    audit.record(
        session,
        audit.MODEL_ROLLED_BACK,
        at=at,
        actor=actor,
        subject=f"model {retired.id}",
        now_deciding=instead,
    )


def listed(session: Session) -> list[TriageModel]:
    return list(session.exec(select(TriageModel).order_by(col(TriageModel.id).desc())))


def active_row(session: Session) -> TriageModel | None:
    return session.exec(select(TriageModel).where(TriageModel.status == ACTIVE)).first()


def latest(session: Session) -> TriageModel | None:
    return session.exec(select(TriageModel).order_by(col(TriageModel.id).desc())).first()


@dataclass(frozen=True)
class Versioned:
    """A model with the name its verdicts are recorded under ("model 3")."""

    name: str
    model: LearnedModel


class StoredModels:
    """The active and shadow models as the database has them, for a worker.

    Which models are active and in shadow is asked at most every ``refresh_seconds``
    (a tiny query on the session in hand), and a model's bytes are read once per
    version, so every worker switches within seconds of a change and none pays a
    round trip per post.
    """

    def __init__(self, *, refresh_seconds: float = REFRESH_SECONDS, clock: Clock = system_clock) -> None:
        self._refresh = timedelta(seconds=refresh_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: datetime | None = None
        self._ids: dict[str, int] = {}
        self._loaded: dict[int, LearnedModel] = {}

    def current(self, session: Session) -> tuple[Versioned | None, Versioned | None]:
        """(active, shadow)."""
        with self._lock:
            now = self._clock()
            if self._checked_at is None or not timedelta(0) <= now - self._checked_at < self._refresh:
                rows = session.exec(
                    select(TriageModel.id, TriageModel.status).where(
                        col(TriageModel.status).in_([ACTIVE, SHADOW])
                    )
                ).all()
                self._ids = {status: model_id for model_id, status in rows if model_id is not None}
                for model_id in set(self._ids.values()) - set(self._loaded):
                    stored = session.get_one(TriageModel, model_id)
                    self._loaded[model_id] = LearnedModel.from_bytes(stored.model)
                self._loaded = {
                    key: value for key, value in self._loaded.items() if key in self._ids.values()
                }
                self._checked_at = now
            return self._named(ACTIVE), self._named(SHADOW)

    def _named(self, status: str) -> Versioned | None:
        model_id = self._ids.get(status)
        return Versioned(f"model {model_id}", self._loaded[model_id]) if model_id is not None else None


class FixedModel:
    """One model for every post, whatever the database holds (``classify --model FILE``)."""

    def __init__(self, name: str, model: LearnedModel) -> None:
        self._model = Versioned(name, model)

    def current(self, session: Session | None) -> tuple[Versioned | None, Versioned | None]:
        return self._model, None
