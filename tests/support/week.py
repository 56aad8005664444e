"""A week of a desk at work, as a seeded die decides: the shared ground of the figure tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.config import Config
from social_care.storage.tables import CsatResponse
from tests.support.clock import FakeClock
from tests.support.desk import Desk

MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
PEOPLE = {"care-it": "luca.marino@velora.example", "care-en": "james.wright@velora.example"}
ADMIN = "admin@velora.example"
CLOSED = ("resolved", "spam", "ignored")


class SeededWeek:
    """Customers write, the desk assigns, acknowledges, answers, resolves, dismisses and is rated;
    the sweeper records breaches as it goes. The same seed tells the same week."""

    def __init__(self, engine: Engine, config: Config, *, seed: int = 7, start: datetime = MONDAY) -> None:
        self.rng = random.Random(seed)
        self.clock = FakeClock(start)
        self.engine = engine
        self.desk = Desk(engine, config, self.clock)
        self.cases: list[int] = []

    def run(self, steps: int = 160) -> Desk:
        actions: list[tuple[float, Callable[[], None]]] = [
            (0.35, self.customer_writes),
            (0.15, self.assign),
            (0.10, self.acknowledge),
            (0.20, self.answer),
            (0.05, self.dismiss),
            (0.05, self.rate),
        ]
        for step in range(steps):
            self.clock.advance(minutes=self.rng.randint(5, 90))
            roll, chosen = self.rng.random(), self.customer_writes
            for chance, action in actions:
                if roll < chance:
                    chosen = action
                    break
                roll -= chance
            (chosen if self.cases else self.customer_writes)()
            if step % 10 == 0:
                self.desk.service.sweeper.run_once()
        return self.desk

    def customer_writes(self) -> None:
        category = self.rng.choice(["complaint", "complaint", "inquiry", "praise", "other"])
        priority = self.rng.choice(["normal", "high"])
        self.cases.append(
            self.desk.post(handle=f"c{self.rng.randint(0, 40)}", category=category, priority=priority)
        )

    def assign(self) -> None:
        team = self.rng.choice(list(PEOPLE))
        self.desk.assign(self.rng.choice(self.cases), team, PEOPLE[team])

    def acknowledge(self) -> None:
        case_id = self.rng.choice(self.cases)
        if self.desk.case(case_id).acknowledged_at is None:
            self.desk.acknowledge(case_id)

    def answer(self) -> None:
        case_id = self.rng.choice(self.cases)
        if self.desk.case(case_id).status not in CLOSED:
            self.desk.reply(case_id, ADMIN, resolves=self.rng.random() < 0.5)

    def dismiss(self) -> None:
        self.desk.dismiss(self.rng.choice(self.cases), self.rng.choice(["spam", "ignored"]), ADMIN)

    def rate(self) -> None:
        case_id = self.rng.choice(self.cases)
        with Session(self.engine) as session:
            if session.exec(select(CsatResponse).where(CsatResponse.case_id == case_id)).first() is None:
                session.add(
                    CsatResponse(case_id=case_id, score=self.rng.randint(1, 5), answered_at=self.clock.now)
                )
                session.commit()
