"""Claiming rows: one owner per row at a time, leases that expire, no double work."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, true
from sqlmodel import Session

from social_care.storage.claims import claim, release
from social_care.storage.tables import SourceState

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _sources(engine: Engine, count: int) -> None:
    with Session(engine) as session:
        for number in range(count):
            session.add(SourceState(source_id=f"s{number:03d}"))
        session.commit()


def _claim(engine: Engine, owner: str, now: datetime = NOW, limit: int = 1) -> list[str]:
    with Session(engine) as session:
        keys = claim(
            session,
            SourceState,
            ready=true(),
            order_by=SourceState.source_id,
            owner=owner,
            now=now,
            lease=LEASE,
            limit=limit,
        )
        session.commit()
    return keys


def test_a_claimed_row_is_not_given_to_another_owner(engine: Engine) -> None:
    _sources(engine, 1)
    assert _claim(engine, "a") == ["s000"]
    assert _claim(engine, "b") == []


def test_an_expired_lease_makes_the_row_claimable_again(engine: Engine) -> None:
    _sources(engine, 1)
    assert _claim(engine, "a") == ["s000"]
    assert _claim(engine, "b", now=NOW + LEASE - timedelta(seconds=1)) == []
    assert _claim(engine, "b", now=NOW + LEASE) == ["s000"]


def test_a_released_row_is_claimable_at_once(engine: Engine) -> None:
    _sources(engine, 1)
    _claim(engine, "a")
    with Session(engine) as session:
        release(session, SourceState, "s000", "someone-else")
        session.commit()
    assert _claim(engine, "b") == []
    with Session(engine) as session:
        release(session, SourceState, "s000", "a")
        session.commit()
    assert _claim(engine, "b") == ["s000"]


def test_concurrent_workers_never_take_the_same_row(engine: Engine) -> None:
    _sources(engine, 60)
    taken: dict[str, list[str]] = {}

    def work(owner: str) -> None:
        mine: list[str] = []
        while keys := _claim(engine, owner, limit=2):
            mine.extend(keys)
        taken[owner] = mine

    workers = [threading.Thread(target=work, args=(f"w{number}",)) for number in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    everything = [key for keys in taken.values() for key in keys]
    assert sorted(everything) == [f"s{number:03d}" for number in range(60)]
    assert len(everything) == len(set(everything))
