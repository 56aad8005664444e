"""The workers' job runner: APScheduler's jobs, each in a thread that never holds the process at exit."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job

log = logging.getLogger(__name__)
JOB_STORE = "default"  # APScheduler's, in memory: the only one the workers use


class JobThreads(BaseExecutor):
    """Runs each job in a thread of its own, at most ``max_workers`` at a time, that never keeps
    the process alive; at shutdown, sets ``stopping`` and waits ``stop_within`` seconds at most.

    The mail sender, the digests and the poller look at ``stopping`` between one mail, digest
    or post and the next, so most jobs end within the wait. One still inside a single
    step then (a mail server that does not answer, a platform slow to reply, charts drawn on a
    busy machine) is left to end with the process, as in a crash: its work is transactional
    and its leases are taken back by the next start on this host, or lapse, so what it had not
    finished is done again and nothing twice. APScheduler's thread pool would hold the process
    until the slowest job ended, however long its timeouts added up. ``stop_within=None``
    waits for every job to end.
    """

    def __init__(
        self, stopping: threading.Event, *, stop_within: float | None, max_workers: int = 10
    ) -> None:
        super().__init__()
        self._stopping = stopping
        self._stop_within = stop_within
        self._slots = threading.BoundedSemaphore(max_workers)  # as many as APScheduler's thread pool
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        thread = threading.Thread(target=self._run, args=(job, run_times), name=f"job {job.id}", daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    def _run(self, job: Job, run_times: list[datetime]) -> None:
        try:
            with self._slots:
                stopped = self._stopping.is_set()  # while it waited for a free slot
                ran = [] if stopped else run_job(job, JOB_STORE, run_times, self._logger.name)
        except BaseException as error:
            self._run_job_error(job.id, error, error.__traceback__)
        else:
            self._run_job_success(job.id, ran)
        finally:
            with self._threads_lock:
                self._threads.discard(threading.current_thread())

    def shutdown(self, wait: bool = True) -> None:
        self._stopping.set()
        if not wait:
            return
        deadline = None if self._stop_within is None else time.monotonic() + self._stop_within
        with self._threads_lock:
            running = list(self._threads)
        for thread in running:
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
        if left := sorted(thread.name.removeprefix("job ") for thread in running if thread.is_alive()):
            log.info("not waiting any longer for %s: what is unfinished will be done again", ", ".join(left))
