"""How long the report's figures and one SLA sweep take as the number of cases grows.

Usage:
    .venv/bin/python bench/bench_metrics.py [--cases 1000,10000,50000] [--seed 7]

For each size it builds a fresh SQLite database (a temporary file, migrated)
holding that many complaint and inquiry cases spread over 30 days, each with
the events the service records (opened, acknowledged, assigned, responded,
most resolved, some customer follow-ups) and due times from the example
configuration's policies. It then times ``measure`` over the whole month and
over one week for one team, and one sweep in which a tenth of the cases have
an alert due. Everything is generated from the seed; nothing touches the network.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from social_care.config import load_config
from social_care.metrics import Filters, Period, measure
from social_care.resources import example_config
from social_care.sla.sweeper import Alert, Sweeper
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import Author, Case, CaseEvent

MONTH = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
TEAMS = ("care-it", "care-en", "payments")


class Quiet:
    def notify(self, alert: Alert) -> None:
        pass


def _event(case_id: int, kind: str, at: datetime, status: str | None, **detail: object) -> CaseEvent:
    return CaseEvent(case_id=case_id, kind=kind, actor="system", at=at, to_status=status, detail=detail)


def _measured(due: datetime, at: datetime) -> dict[str, object]:
    return {"due_at": due.isoformat(), "met": at <= due}


def _story(case: Case, rng: random.Random, case_id: int) -> list[CaseEvent]:
    opened = case.opened_at
    ack = opened + timedelta(minutes=rng.uniform(1, 30))
    reply = ack + timedelta(minutes=rng.uniform(5, 150))
    events = [
        _event(case_id, "opened", opened, "new"),
        _event(
            case_id, "acknowledged", ack, "acknowledged", **_measured(opened + timedelta(minutes=15), ack)
        ),
        _event(case_id, "assigned", ack, "assigned"),
        _event(
            case_id,
            "responded",
            reply,
            "responded",
            first=True,
            waiting_since=opened.isoformat(),
            **_measured(opened + timedelta(minutes=60), reply),
        ),
    ]
    if rng.random() < 0.3:
        events.append(_event(case_id, "mention_added", reply + timedelta(minutes=rng.uniform(5, 600)), None))
    if rng.random() < 0.8:
        resolved = reply + timedelta(minutes=rng.uniform(10, 2000))
        events.append(
            _event(
                case_id,
                "resolved",
                resolved,
                "resolved",
                **_measured(opened + timedelta(minutes=1440), resolved),
            )
        )
    return events


def build(path: Path, cases: int, seed: int):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    rng = random.Random(seed)
    with Session(engine) as session:
        authors = [Author(platform="demo", external_id=str(i), handle=f"user{i}") for i in range(cases)]
        session.add_all(authors)
        session.flush()
        rows = []
        for index, author in enumerate(authors):
            opened = MONTH.since + timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
            rows.append(
                Case(
                    source_id="demo",
                    platform="demo",
                    author_id=author.id or 0,
                    thread_key=str(index),
                    category=rng.choice(("complaint", "inquiry")),
                    cluster="other",
                    priority="normal",
                    language="en",
                    brand="Velora",
                    team=rng.choice(TEAMS),
                    opened_at=opened,
                    last_activity_at=opened,
                    awaiting_reply_since=opened,
                    sla_next_alert_at=opened if index % 10 == 0 else None,
                )
            )
        session.add_all(rows)
        session.flush()
        for case in rows:
            session.add_all(_story(case, rng, case.id or 0))
        session.commit()
    return engine


def timed(action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default="1000,10000,50000")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    config = load_config(example_config(), environ={})
    week = Period(datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC))
    print(f"{'cases':>7} {'build':>8} {'month report':>13} {'week, one team':>15} {'sweep (10% due)':>16}")
    for size in (int(value) for value in arguments.cases.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            engine, built = timed(lambda: build(Path(folder) / "bench.db", size, arguments.seed))  # noqa: B023
            with Session(engine) as session:
                _, month = timed(lambda: measure(session, config, MONTH))
                _, one_team = timed(lambda: measure(session, config, week, Filters(team="care-it")))
            sweeper = Sweeper(engine, config, clock=lambda: MONTH.until, notifier=Quiet())
            report, sweep = timed(lambda: sweeper.run_once(limit=size))  # noqa: B023
            print(
                f"{size:>7,} {built:>7.1f}s {month:>12.2f}s {one_team:>14.2f}s {sweep:>15.2f}s"
                f"  ({report.warnings + report.escalations} alerts)"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
