"""However many workers poll one database, each post is processed once.

Each "worker" here is a service of its own (its own connectors, pipeline and
lease name) in a thread, all on one database, as worker processes would be.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from social_care.config import Config
from social_care.poller import PollReport
from social_care.runtime import Service, build_service
from social_care.storage.tables import CaseEvent, Classification, Mention, OutboxEntry, TermMatch
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config

WORKERS = 3
CUSTOMERS = 40


def posts() -> list[dict[str, object]]:
    """Customers who each complain to us, then write again in the same conversation."""
    first = [
        post(f"c{n}", "@velora my Velora Pulse is broken since the update", handle=f"cust{n}", direct=True)
        for n in range(CUSTOMERS)
    ]
    again = [
        post(f"f{n}", "@velora any news? still broken", handle=f"cust{n}", direct=True, reply_to=f"c{n}")
        for n in range(CUSTOMERS)
    ]
    return first + again


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
    uncapped = config.acknowledgement.model_copy(update={"hourly_cap_per_source": CUSTOMERS})
    config = config.model_copy(update={"acknowledgement": uncapped})
    return [build_service(config, engine, clock=clock, owner=f"worker-{n}") for n in range(WORKERS)]


def work(service: Service) -> None:
    """What a worker's timer does each round: poll, then send what is due."""
    service.poller.poll("demo")
    service.sender.run_once()


def assert_each_post_processed_once(engine: Engine) -> None:
    with Session(engine) as session:
        mentions = session.exec(select(Mention)).all()
        assert len(mentions) == 2 * CUSTOMERS and all(mention.processed_at for mention in mentions)
        current = Counter(session.exec(select(Classification.mention_id).where(Classification.current)))
        assert set(current.values()) == {1}, "one current classification per post"
        assert session.exec(select(func.count()).select_from(Classification)).one() == 2 * CUSTOMERS
        matches = Counter(session.exec(select(TermMatch.mention_id, TermMatch.term, TermMatch.start)))
        assert set(matches.values()) == {1}, "one set of term matches per post"
        customer_messages = Counter(
            event.detail["mention_id"]
            for event in session.exec(
                select(CaseEvent).where(col(CaseEvent.kind).in_(("opened", "mention_added")))
            )
        )
        assert customer_messages == Counter({mention.id: 1 for mention in mentions})
        acknowledgements = Counter(session.exec(select(OutboxEntry.case_id)))
        assert len(acknowledgements) == CUSTOMERS and set(acknowledgements.values()) == {1}


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
