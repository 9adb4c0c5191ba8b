"""Workers as users run them (``garde worker`` in a process of its own), and waiting for their jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from garde.jobs import queue_app
from garde.jobs.periodic import PERIODIC

DEADLINE = 120.0  # seconds: a bound for a loaded CI machine, never a measure
# Every periodic job off. A worker starting less than ten minutes after a tick of a schedule runs that
# tick's job (procrastinate defers a tick missed by up to ten minutes), so a test's worker started at
# 03:16 UTC pruned the queue (`job.pruned`), and one started at 02:31 swept retention in the test's
# shop. A test whose worker must do only the test's own jobs runs it with these settings.
NO_SCHEDULES = {f"GARDE_{periodic.setting.upper()}": "" for periodic in PERIODIC}


@contextmanager
def garde_worker(database_url: str, log: Path, *args: str,
                 env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``garde worker ARGS`` on ``database_url`` until the block ends; stopped with SIGTERM then."""
    environment = {**os.environ, "GARDE_DATABASE_URL": database_url, **(env or {})}
    with log.open("ab") as output, subprocess.Popen(
            [sys.executable, "-m", "garde", "worker", *args], env=environment,
            stdout=output, stderr=subprocess.STDOUT) as worker:
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=DEADLINE)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


def wait_for_job(database_url: str, job_id: int, until: frozenset[str] = frozenset({"succeeded", "failed"}),
                 deadline: float = DEADLINE) -> str:
    """Poll the job's status until it is one of ``until`` (bounded by ``deadline`` seconds)."""
    app = queue_app(database_url)
    end = time.monotonic() + deadline
    with app.open():
        while True:
            status = app.job_manager.get_job_status(job_id).value
            if status in until or time.monotonic() > end:
                return str(status)
            time.sleep(0.05)
