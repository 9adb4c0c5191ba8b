"""Workers to kill: `garde worker` processes forked from one process that has garde imported already, so
that each of the kill test's forty workers starts in a fraction of a second, and SIGKILL at a point."""

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

# The forking process: garde and its job kinds imported once; on each line read, a child that runs
# `garde worker` (its settings from the environment) and whose pid is written back.
# The data map and the store are opened (and their first request answered) before forking, so that a
# worker is as warm as one that has run for a while: the kill points fall in the requests' own work,
# not in a new process's first steps. A child drops the connections it inherited (dispose(close=False),
# SQLAlchemy's way after a fork) and opens its own.
ZYGOTE = """
import os, signal, sys
import sqlalchemy as sa
from garde.jobs.worker import run_worker
from garde.jobs.kinds import load_kinds
from garde.jobs.queue import worker_store
from garde.jobs.requests import worker_deployment
from garde.rights.running import run
load_kinds()
url = os.environ["GARDE_DATABASE_URL"]
store = worker_store(sa.make_url(url).render_as_string(hide_password=False))
deployment = worker_deployment(None, None)
run(store, os.environ["GARDE_WARM_REQUEST"], deployment)
engines = [store, *deployment.engines.values()]
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
        run_worker(os.environ["GARDE_DATABASE_URL"], concurrency=2)
        os._exit(0)
    print(pid, flush=True)
"""


class Workers:
    """Start a worker (a fork), kill it (SIGKILL), and see which of a request's jobs are running."""

    def __init__(self, zygote: subprocess.Popen[str], store: sa.Engine) -> None:
        self.zygote = zygote
        self.store = store
        self.alive: list[int] = []

    def start(self) -> int:
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write("fork\n")
        self.zygote.stdin.flush()
        pid = int(self.zygote.stdout.readline())
        self.alive.append(pid)
        return pid

    def kill_all(self) -> None:
        for pid in self.alive:
            os.kill(pid, signal.SIGKILL)
        for pid in self.alive:  # gone (reaped by the system) before the jobs are recovered
            while _exists(pid):
                time.sleep(0.01)
        self.alive.clear()

    def running(self, request_id: str) -> bool:
        """Whether a job of the request is being run (``doing``)."""
        with self.store.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                "AND args->>'request_id' = :id"), {"id": request_id}).scalar())


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def killable_workers(env: Mapping[str, str], store: sa.Engine, log: Path,
                     warm_request: str) -> Iterator[Workers]:
    """Workers forked on demand; ``warm_request``: a verified access request the forking process answers
    first (its caches then warm in every worker)."""
    with log.open("ab") as output, subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], env={**env, "GARDE_WARM_REQUEST": warm_request},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=output, text=True) as zygote:
        workers = Workers(zygote, store)
        try:
            yield workers
        finally:
            workers.kill_all()
            assert zygote.stdin is not None
            zygote.stdin.close()
            zygote.wait(timeout=60)
