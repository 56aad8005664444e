"""Leases lapse soon after their holder dies and are renewed while it works."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from social_care.storage.leases import LEASE, Heartbeat, holder_is_dead, process_space, reclaim_dead_leases
from social_care.storage.tables import SourceState
from tests.support.clock import FakeClock

HOST = socket.gethostname()


def named(pid: int, random: str = "abc123", *, host: str = HOST, space: str | None = None) -> str:
    """A holder's name as a worker of this machine (or ``host``/``space``) would have it."""
    return f"{host}:{pid}:{space or process_space()}:{random}"


@pytest.fixture
def living() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_holder_on_this_host_whose_process_ended_is_dead(living: subprocess.Popen[bytes]) -> None:
    assert holder_is_dead(named(dead_pid()))
    assert not holder_is_dead(named(living.pid))


def test_a_killed_process_not_yet_collected_by_its_parent_is_dead(living: subprocess.Popen[bytes]) -> None:
    os.kill(living.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while not holder_is_dead(named(living.pid)):
        assert time.monotonic() < deadline, "a zombie was taken for alive"
        time.sleep(0.05)


def test_holders_elsewhere_or_unreadable_are_presumed_alive() -> None:
    assert not holder_is_dead(named(dead_pid(), host="elsewhere.example"))
    assert not holder_is_dead("worker-1")
    assert not holder_is_dead(f"{HOST}:not-a-pid:{process_space()}:abc123")


def test_a_container_sharing_our_host_name_but_not_our_process_ids_is_presumed_alive() -> None:
    """Host networking, or a fixed hostname on scaled services: its pids mean nothing here."""
    assert not holder_is_dead(named(dead_pid(), space="0ther5pc"))
    assert not holder_is_dead(named(os.getpid(), "bbbbbb", space="0ther5pc"), me=named(os.getpid(), "aaaaaa"))


def test_our_own_pid_under_another_name_was_an_earlier_process_of_this_container() -> None:
    me = named(os.getpid(), "aaaaaa")
    assert holder_is_dead(named(os.getpid(), "bbbbbb"), me=me)
    assert not holder_is_dead(me, me=me)


def lease(engine: Engine, owner: str, until_seconds: float, clock: FakeClock) -> None:
    with Session(engine) as session:
        session.add(
            SourceState(
                source_id=owner,
                lease_owner=owner,
                lease_expires_at=clock.now + timedelta(seconds=until_seconds),
            )
        )
        session.commit()


def holder(engine: Engine, source_id: str) -> str | None:
    with Session(engine) as session:
        return session.get_one(SourceState, source_id).lease_owner


def test_the_leases_of_dead_holders_on_this_host_are_taken_back_and_no_others(
    engine: Engine, clock: FakeClock, living: subprocess.Popen[bytes]
) -> None:
    dead, alive, remote = named(dead_pid()), named(living.pid), named(1, host="far.example")
    for owner in (dead, alive, remote):
        lease(engine, owner, 10, clock)
    assert reclaim_dead_leases(engine, SourceState, clock.now) == 1
    assert [holder(engine, owner) for owner in (dead, alive, remote)] == [None, alive, remote]


def test_a_heartbeat_keeps_renewing_the_lease_while_the_work_runs(engine: Engine, clock: FakeClock) -> None:
    lease(engine, "me", 15, clock)
    clock.advance(seconds=10)
    with Heartbeat(engine, SourceState, "me", owner="me", clock=clock, interval=0.01):
        deadline = time.monotonic() + 5
        while renewed_until(engine) != clock.now + LEASE:
            assert time.monotonic() < deadline, "never renewed"
            time.sleep(0.01)


def test_a_heartbeat_never_takes_a_lease_another_worker_holds(engine: Engine, clock: FakeClock) -> None:
    lease(engine, "other", 15, clock)
    before = renewed_until(engine, "other")
    with Heartbeat(engine, SourceState, "other", owner="me", clock=clock, interval=0.01):
        clock.advance(seconds=5)
        time.sleep(0.1)
    assert holder(engine, "other") == "other" and renewed_until(engine, "other") == before


def renewed_until(engine: Engine, source_id: str = "me") -> object:
    with Session(engine) as session:
        return session.get_one(SourceState, source_id).lease_expires_at
