"""``run_worker``: procrastinate's worker with garde's job kinds, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from garde.jobs.queue import queue_app, require_queue
from garde.settings import get_settings


def run_worker(url: str, *, concurrency: int = 1, queues: Sequence[str] = (),
               name: str | None = None) -> None:
    """Take and run jobs from the store at ``url`` until stopped.

    SIGTERM or SIGINT stops it cleanly: it takes no new job and returns once the jobs it is
    running have ended. A worker killed harder (SIGKILL, a lost machine) leaves its jobs "doing";
    the queue sees its heartbeat stop and those jobs are given to another worker.
    """
    require_queue(url, "garde worker")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    app = queue_app(url, worker=settings)
    app.run_worker(concurrency=concurrency, queues=list(queues) or None, name=name,
                   install_signal_handlers=True, delete_jobs="never",
                   update_heartbeat_interval=settings.worker_heartbeat_seconds,
                   stalled_worker_timeout=settings.worker_stalled_seconds)
