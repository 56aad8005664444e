"""Leases that lapse within seconds of their holder's death, and are renewed while it lives.

A worker holds a row (a source being polled, a reply being sent) with a lease
that ends ``LEASE`` after it was last renewed. While the work runs, a
:class:`Heartbeat` renews it every few seconds, so a long poll keeps its
source and a killed worker's lease runs out soon after it died.

A holder is named ``host:pid:space:random``. A process in the same process
space (the same boot and pid namespace: the same machine or container) can tell
whether that pid is still alive, so a restarted worker (or a sibling on the same
machine) takes back a dead process's leases at once instead of waiting for them
to lapse (:func:`reclaim_dead_leases`). Correctness never rests on leases: a
post is processed once under its own row lock, and a reply whose send may have
happened is settled with the platform; a lapsed lease only costs repeated work.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from social_care.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=15)
HEARTBEAT_SECONDS = 5.0
OWNER_FIELDS = 4  # host:pid:space:random


def worker_name() -> str:
    """Who holds a lease: host, process, the space its process id belongs to, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{process_space()}:{uuid.uuid4().hex[:6]}"


@cache
def process_space() -> str:
    """Where a process id means the same process: this boot of this machine's kernel, and this
    pid namespace. Containers may share a host name (host networking, a fixed ``hostname``)
    without sharing process ids; only a holder in our own space can be looked up by its pid."""
    boot = _or_unknown(lambda: Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    pids = _or_unknown(lambda: str(os.stat("/proc/self/ns/pid").st_ino))
    return hashlib.sha256(f"{boot}/{pids}".encode()).hexdigest()[:8]


def _or_unknown(read: Callable[[], str]) -> str:
    """What ``read`` finds in /proc, or "?" where there is no /proc (the host alone then tells)."""
    try:
        return read()
    except OSError:
        return "?"


def holder_is_dead(owner: str, *, me: str = "") -> bool:
    """Whether ``owner`` names a process of our own process space that no longer runs.

    A holder elsewhere (another host, another container), or one whose name we
    cannot read, is presumed alive: its lease lapses on its own. A holder with our
    own pid but another name (``me`` is ours) was an earlier process of this
    container, restarted under the same pid.
    """
    fields = owner.split(":")
    if len(fields) != OWNER_FIELDS or not fields[1].isdigit():
        return False
    host, pid_text, space, _ = fields
    if host != socket.gethostname() or space != process_space():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return bool(me) and owner != me
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that died but whose parent has not collected it yet still answers to signals."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False  # no /proc here: trust the signal
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def reclaim_dead_leases(engine: Engine, table: Any, now: datetime, *, me: str = "") -> int:
    """Clear the unexpired leases of ``table`` held by dead processes of this host; how many.

    ``me`` is the caller's own holder name, so that a lease of an earlier process that had
    the same pid (a restarted container) is recognised as dead too."""
    host = socket.gethostname()
    with Session(engine) as session:
        holders = session.execute(
            select(table.lease_owner)
            .where(table.lease_owner.like(f"{host}:%"), table.lease_expires_at > now)
            .distinct()
        ).scalars()
        dead = [owner for owner in holders if holder_is_dead(owner, me=me)]
        if not dead:
            session.rollback()
            return 0
        cleared = session.execute(
            update(table)
            .where(table.lease_owner.in_(dead))
            .values(lease_owner=None, lease_expires_at=None)
            .returning(table.lease_owner)
        ).all()
        session.commit()
    log.info("took back %d %s leases of processes that died: %s", len(cleared), table.__tablename__, dead)
    return len(cleared)


def renew(engine: Engine, table: Any, key: Any, owner: str, until: datetime) -> bool:
    """Extend our lease on one row; false when it is no longer ours."""
    primary = next(iter(table.__table__.primary_key.columns))
    with Session(engine) as session:
        renewed = session.execute(
            update(table)
            .where(primary == key, table.lease_owner == owner)
            .values(lease_expires_at=until)
            .returning(primary)
        ).first()
        session.commit()
    return renewed is not None


class Heartbeat:
    """Renews a lease in the background every ``interval`` seconds until stopped.

    A renewal that fails (the database is briefly unreachable, or the lease was
    taken over) is logged and the work goes on: losing a lease only risks work
    being done again, never twice in effect.
    """

    def __init__(
        self,
        engine: Engine,
        table: Any,
        key: Any,
        *,
        owner: str,
        clock: Clock,
        lease: timedelta = LEASE,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._renew = lambda: renew(engine, table, key, owner, clock() + lease)
        self._what = f"{table.__tablename__} {key}"
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {self._what}", daemon=True)

    def _beat(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                if not self._renew():
                    log.warning("the lease on %s was lost; the work goes on", self._what)
                    return
            except Exception:
                log.exception("could not renew the lease on %s", self._what)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join()
