"""Workers to kill: `garde worker` processes forked from one process that has garde imported already, so
that each of a kill test's workers starts in a fraction of a second, and SIGKILL at a point.

A kill is exact: the workers are stopped (SIGSTOP) first, so what a test reads then (is the request's job
running? is the sweep still open?) is what the SIGKILL interrupts; and the killed worker's jobs are
handed back at once (:meth:`Workers.kill`), as the queue's stalled-job retry would after
``worker_stalled_seconds`` (the test does not wait for a clock: its kills cost no time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from garde.jobs.queue import requeue_stalled

DEADLINE = 120.0  # seconds: a bound for a loaded machine, never a measure

# The forking process: garde and its job kinds imported once; on each line read, a child that runs
# `garde worker` (its settings from the environment) and whose pid is written back.
# With GARDE_WARM_REQUEST, the data map and the store are opened (and that request answered) before
# forking, so that a worker is as warm as one that has run for a while: the kill points fall in the
# requests' own work, not in a new process's first steps. A child drops the connections it inherited
# (dispose(close=False), SQLAlchemy's way after a fork) and opens its own.
ZYGOTE = """
import os, signal, sys
import sqlalchemy as sa
from garde.jobs.worker import run_worker
from garde.jobs.kinds import load_kinds
from garde.jobs.queue import worker_store
load_kinds()
url = os.environ["GARDE_DATABASE_URL"]
store = worker_store(sa.make_url(url).render_as_string(hide_password=False))
engines = [store]
if os.environ.get("GARDE_WARM_REQUEST"):
    from garde.jobs.requests import worker_deployment
    from garde.rights.running import run
    deployment = worker_deployment(None, None)
    run(store, os.environ["GARDE_WARM_REQUEST"], deployment)
    engines += deployment.engines.values()
for engine in engines:
    engine.dispose()
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed children are reaped by the system
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        sys.stdin.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for engine in engines:
            engine.dispose(close=False)
        run_worker(os.environ["GARDE_DATABASE_URL"], concurrency=int(os.environ["GARDE_KILL_CONCURRENCY"]))
        os._exit(0)
    print(pid, flush=True)
"""


class Workers:
    """Start a worker (a fork), stop and kill them, and see which jobs they are running."""

    def __init__(self, zygote: subprocess.Popen[str], store: sa.Engine) -> None:
        self.zygote = zygote
        self.store = store
        self.alive: dict[int, int] = {}  # pid: the worker's id in procrastinate_workers

    def start(self) -> int:
        """Fork a worker; returns once it has registered with the queue (its pid)."""
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        known = self._last_worker_id()
        self.zygote.stdin.write("fork\n")
        self.zygote.stdin.flush()
        pid = int(self.zygote.stdout.readline())
        end = time.monotonic() + DEADLINE
        while (registered := self._last_worker_id()) <= known:  # forked one at a time: the next id is its
            assert time.monotonic() < end, f"worker {pid} did not register with the queue"
            time.sleep(0.01)
        self.alive[pid] = registered
        return pid

    def _last_worker_id(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM procrastinate_workers"))
                       .scalar_one())

    def pause(self) -> None:
        """Stop every worker where it is (SIGSTOP): the queue and the data stay as they are meanwhile."""
        for pid in self.alive:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.alive:
            os.kill(pid, signal.SIGCONT)

    def busy(self, queue: str) -> list[int]:
        """The workers running a job of ``queue`` (their pids, in start order)."""
        with self.store.connect() as conn:
            ids = set(conn.execute(sa.text("SELECT worker_id FROM procrastinate_jobs WHERE status = 'doing' "
                                           "AND queue_name = :queue"), {"queue": queue}).scalars())
        return [pid for pid, worker in self.alive.items() if worker in ids]

    def kill(self, pid: int) -> None:
        """SIGKILL one worker and resume the others (if paused); its jobs are queued again at once: its
        heartbeat is set as old as a dead worker's gets, and garde's retry of stalled jobs hands back
        what it was running (after the others resume: one of them may hold that retry's lock)."""
        worker = self.alive.pop(pid)
        os.kill(pid, signal.SIGKILL)  # ends a stopped process too
        _wait_gone(pid)
        self.resume()
        with self.store.begin() as conn:
            conn.execute(sa.text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 day' "
                                 "WHERE id = :id"), {"id": worker})
        url = self.store.url.render_as_string(hide_password=False)
        end = time.monotonic() + DEADLINE
        while self._doing(worker):  # another retry (a worker's periodic one) may hold the lock a moment
            assert time.monotonic() < end, f"the jobs of killed worker {worker} were not handed back"
            if not requeue_stalled(url, seconds_since_heartbeat=3600):
                time.sleep(0.01)

    def _doing(self, worker: int) -> bool:
        with self.store.connect() as conn:
            return bool(conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                                             "AND worker_id = :id"), {"id": worker}).scalar())

    def kill_all(self) -> None:
        for pid in self.alive:
            os.kill(pid, signal.SIGKILL)
        for pid in self.alive:  # gone (reaped by the system) before the jobs are recovered
            _wait_gone(pid)
        self.alive.clear()

    def running(self, request_id: str) -> bool:
        """Whether a job of the request is being run (``doing``)."""
        with self.store.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                "AND args->>'request_id' = :id"), {"id": request_id}).scalar())


def _wait_gone(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


@contextmanager
def killable_workers(env: Mapping[str, str], store: sa.Engine, log: Path, warm_request: str | None = None,
                     concurrency: int = 2) -> Iterator[Workers]:
    """Workers forked on demand, each running ``concurrency`` jobs at a time; ``warm_request``: a
    verified access request the forking process answers first (its caches then warm in every worker)."""
    with log.open("ab") as output, subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], env={**env, "GARDE_WARM_REQUEST": warm_request or "",
                                                 "GARDE_KILL_CONCURRENCY": str(concurrency)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=output, text=True) as zygote:
        workers = Workers(zygote, store)
        try:
            yield workers
        finally:
            workers.kill_all()
            assert zygote.stdin is not None
            zygote.stdin.close()
            zygote.wait(timeout=60)
