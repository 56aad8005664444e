"""However many workers poll one database, each post is processed once.

Each "worker" here is a service of its own (its own connectors, pipeline and
lease name) in a thread, all on one database, as worker processes would be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from social_care.config import Config
from social_care.poller import PollReport
from social_care.runtime import Service, build_service
from tests.support.clock import FakeClock
from tests.support.exactly_once import (
    acknowledgements_per_customer,
    assert_processed_once,
    cases_per_customer,
)
from tests.support.scenario import post, scenario_config

WORKERS = 3
CUSTOMERS = 40
COMPLAINT = "@velora my Velora Pulse is broken since the update"
FOLLOW_UP = "@velora any news? still broken"


def posts() -> list[dict[str, object]]:
    """Customers who each complain to us and at once write again in the same conversation, so
    that two workers take one customer's two posts at the same moment."""
    return [
        message
        for n in range(CUSTOMERS)
        for message in (
            post(
                f"c{n}", "@velora my Velora Pulse is broken since the update", handle=f"cust{n}", direct=True
            ),
            post(f"f{n}", "@velora any news? still broken", handle=f"cust{n}", direct=True, reply_to=f"c{n}"),
        )
    ]


def together(work: Callable[[Service], object], services: list[Service]) -> None:
    """Run ``work`` on every worker at once; fail if any of them failed."""
    start, errors = threading.Barrier(len(services)), []

    def run(service: Service) -> None:
        start.wait()
        try:
            work(service)
        except Exception as error:  # the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def workers(config: Config, engine: Engine, clock: FakeClock) -> list[Service]:
    uncapped = config.acknowledgement.model_copy(update={"hourly_cap_per_source": 10 * CUSTOMERS})
    config = config.model_copy(update={"acknowledgement": uncapped})
    return [build_service(config, engine, clock=clock, owner=f"worker-{n}") for n in range(WORKERS)]


def work(service: Service) -> None:
    """What a worker's timer does each round: poll, then send what is due."""
    service.poller.poll("demo")
    service.sender.run_once()


def assert_each_post_processed_once(engine: Engine) -> None:
    assert_processed_once(engine, [str(item["id"]) for item in posts()])
    assert set(cases_per_customer(engine).values()) == {1}, "one case per customer"
    acknowledged = acknowledgements_per_customer(engine)
    assert len(acknowledged) == CUSTOMERS and set(acknowledged.values()) == {1}, "one acknowledgement each"


def test_three_workers_processing_the_same_stored_posts_at_once_process_each_once(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """Even without the source's lease (a worker that stored posts and died before processing
    them, its siblings all picking them up), each post is taken by one worker only."""
    config = scenario_config(tmp_path, posts())
    services = workers(config, engine, clock)
    services[0].poller.poll("demo", process=False)
    together(lambda service: service.poller.process_pending("demo", PollReport("demo")), services)
    assert_each_post_processed_once(engine)


def test_three_workers_polling_one_source_together_process_each_post_once(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, posts(), initial_burst=10, per_minute=30.0)
    services = workers(config, engine, clock)
    for _ in range(12):
        together(work, services)
        clock.advance(seconds=15)
    assert_each_post_processed_once(engine)
