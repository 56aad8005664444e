"""What watching for a crisis costs each new case, with a busy brand's history behind it.

Usage:
    .venv/bin/python bench/bench_crisis.py [--per-hour 50] [--days 14] [--observations 2000]

It fills a fresh SQLite database (a temporary file) with ``per-hour`` complaint
cases in every hour of the baseline, then times the two costs of
``CrisisMonitor``: computing the baseline (once per hour of wall time: one
query over ``days`` x 24 x ``per-hour`` cases, bucketed in Python) and one
observation with the baseline cached (what every new case pays: one count over
the last hour). Nothing touches the network."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from social_care.config.models import CrisisPolicy
from social_care.crisis import CrisisMonitor
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import Author, Case

NOW = datetime(2026, 11, 23, 9, 40, tzinfo=UTC)


def fill(session: Session, per_hour: int, days: int) -> int:
    author = Author(platform="demo", external_id="bench", handle="bench")
    session.add(author)
    session.flush()
    hour = NOW.replace(minute=0)
    rows = [
        {
            "source_id": "demo",
            "platform": "demo",
            "author_id": author.id,
            "thread_key": f"t{back}-{n}",
            "status": "resolved",
            "category": "complaint",
            "cluster": "other",
            "priority": "normal",
            "language": "en",
            "brand": "Velora",
            "product": "",
            "suggested_reply": "",
            "opened_at": hour - timedelta(hours=back) + timedelta(seconds=n * 3600 // per_hour),
            "last_activity_at": hour,
        }
        for back in range(1, days * 24 + 1)
        for n in range(per_hour)
    ]
    session.execute(insert(Case), rows)
    session.commit()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-hour", type=int, default=50)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--observations", type=int, default=2000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        policy = CrisisPolicy(baseline_days=arguments.days)
        with Session(engine) as session:
            cases = fill(session, arguments.per_hour, arguments.days)
            timings = []
            for _ in range(5):
                monitor = CrisisMonitor(policy)
                started = time.perf_counter()
                baseline = monitor.baseline(session, NOW)
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            for _ in range(arguments.observations):
                monitor.observe(session, NOW)
            per_observation = (time.perf_counter() - started) / arguments.observations
        engine.dispose()
    print(f"{cases:,} complaint cases over {arguments.days} days ({arguments.per_hour} an hour), SQLite")
    print(f"baseline: mean {baseline.mean:.1f}/h, deviation {baseline.deviation:.2f}")
    print(f"computing the baseline (once an hour): median {statistics.median(timings) * 1000:.1f} ms")
    print(f"one observation, baseline cached (every new case): {per_observation * 1000:.3f} ms")


if __name__ == "__main__":
    main()
