"""What the figures cost on a year's worth of data: one brand's digest, a month's report, one SLA sweep.

Usage:
    .venv/bin/python bench/bench_digest.py [--mentions 100000,1000000] [--engines sqlite,postgresql]
                                           [--days 90] [--seed 7] [--runs 3] [--keep DIR]

For each size and engine it builds a fresh database (a temporary SQLite file, or
a scratch PostgreSQL database at $SOCIAL_CARE_TEST_PG or 127.0.0.1:5432, dropped
after), migrated, holding that many customer posts over ``--days`` days: one to
three posts per case, each case with the events the service records (opened,
assigned, acknowledged, answered, most resolved, some breached, some surveys),
classifications and product matches, written in bulk. The rollups are then
rebuilt from the events (``social-care rollups rebuild``; its time is printed
too). It times, best of ``--runs``:

- building one brand's digest for the last day (every figure of the mail,
  the day before and the seven days before included);
- ``measure`` over the last 30 days (what ``social-care report`` prints);
- one SLA sweep with 1,000 cases due an alert (a new thousand each run, after one sweep
  to warm up, as a worker's sweeper is).

and prints each with the database's size, and how each grew from the first size
to the last. A million posts take about half an hour to build and roll up; with
``--keep DIR`` the databases stay (SQLite files in DIR, PostgreSQL databases
named by size, days and seed) and the next run with ``--keep`` times them again
without building. Nothing touches the network but the local PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seeding import NOW, build, built_already, database

from social_care.config import Config, load_config
from social_care.config.models import DigestRecipient
from social_care.digest.build import build_digest
from social_care.metrics import Period, measure, rollups
from social_care.resources import example_config
from social_care.sla.sweeper import Alert, Sweeper
from social_care.storage import migrate

DUE_FOR_SWEEP = 1_000
SWEPT = "(picked for a timed sweep)"


class Quiet:
    def notify(self, session: Session, alert: Alert) -> None:
        pass


def _sweep_data(engine: Engine) -> None:
    """Exactly 1,000 open cases due an alert now, the newest not picked before (marked in a
    column the sweep does not read): the sweep's work, new each time, so every alert is made
    and every case's figures change.

    The cases are reopened behind the service's back, so their rollups are brought up to date
    here, as the service would have when they changed: the sweep is timed on its own work."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET sla_next_alert_at = NULL WHERE sla_next_alert_at IS NOT NULL")
        )
        due = connection.execute(
            text(
                "UPDATE cases SET status = 'assigned', resolved_at = NULL, sla_next_alert_at = :due,"
                " ack_due_at = :due, response_due_at = :later, suggested_reply = :mark WHERE id IN"
                " (SELECT id FROM cases WHERE suggested_reply <> :mark ORDER BY opened_at DESC LIMIT :count)"
                " RETURNING id"
            ),
            {
                "due": NOW - timedelta(minutes=5),
                "later": NOW + timedelta(hours=1),
                "count": DUE_FOR_SWEEP,
                "mark": SWEPT,
            },
        ).scalars()
        case_ids = sorted(due)
    with Session(engine) as session:
        rollups.refresh_cases(session, case_ids)
        session.commit()


def sweep_time(engine: Engine, config: Config, runs: int) -> tuple[float, int]:
    """The best of ``runs`` sweeps, each of a new thousand due cases, after one to warm up (as a
    worker's sweeper is, each minute); and how many alerts that one made."""
    sweeper = Sweeper(engine, config, clock=lambda: NOW, notifier=Quiet())
    timed = []
    for _ in range(runs + 1):
        _sweep_data(engine)
        started = time.perf_counter()
        swept = sweeper.run_once(limit=DUE_FOR_SWEEP)
        timed.append((time.perf_counter() - started, swept.warnings + swept.escalations))
    return min(timed[1:])


def best(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def measure_one(
    config: Config, engine_name: str, mentions: int, arguments: argparse.Namespace
) -> dict[str, float]:
    days, seed, runs = arguments.days, arguments.seed, arguments.runs
    with database(engine_name, arguments.keep, f"{mentions}_{days}_{seed}") as (engine, size):
        migrate.upgrade(engine)
        cases = built_already(engine, mentions)
        built = rebuilt = "kept"
        if cases is None:
            started = time.perf_counter()
            build(engine, mentions, days, seed)
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            built = f"{time.perf_counter() - started:.0f}s"
            started = time.perf_counter()
            cases = rollups.rebuild(engine)
            rebuilt = f"{time.perf_counter() - started:.0f}s"
        recipient = DigestRecipient(email="manager@velora.example", timezone="Europe/Rome", language="en")
        month = Period(NOW - timedelta(days=30), NOW)
        with Session(engine) as session:
            digest = best(lambda: build_digest(session, config, recipient, now=NOW, brand="Velora"), runs)
            report = best(lambda: measure(session, config, month), runs)
        sweep, alerts = sweep_time(engine, config, runs)
        print(
            f"{engine_name:>10} {mentions:>10,} {cases:>9,} {size():>9} {built:>9} {rebuilt:>9}"
            f" {digest:>8.2f}s {report:>8.2f}s {sweep:>8.2f}s  ({alerts} alerts)",
            flush=True,
        )
        return {"digest": digest, "report": report, "sweep": sweep}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the databases built (SQLite files in DIR, PostgreSQL databases by size) and reuse them",
    )
    arguments = parser.parse_args()
    config = load_config(example_config(), environ={})
    sizes = [int(value) for value in arguments.mentions.split(",")]
    print(
        f"{'engine':>10} {'mentions':>10} {'cases':>9} {'size':>9} {'build':>9} {'rollups':>9}"
        f" {'digest':>9} {'report':>9} {'sweep':>9}"
    )
    for engine_name in arguments.engines.split(","):
        figures = [measure_one(config, engine_name, size, arguments) for size in sizes]
        if len(figures) > 1:
            growth = ", ".join(
                f"{name} x{figures[-1][name] / max(figures[0][name], 1e-6):.1f}"
                for name in ("digest", "report", "sweep")
            )
            print(f"{'':>10} growth from {sizes[0]:,} to {sizes[-1]:,} mentions: {growth}")


if __name__ == "__main__":
    main()
