"""``run_worker``: procrastinate's worker with garde's job kinds, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import procrastinate

from garde.jobs.queue import queue_app, require_queue, worker_store, worker_url
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.store.logs import install_cleaning

logger = logging.getLogger(__name__)


def run_worker(url: str, *, concurrency: int = 1, queues: Sequence[str] = (),
               name: str | None = None, log_jobs: bool = False) -> None:
    """Take and run jobs from the store at ``url`` until stopped.

    The store is opened first (migrated, its identifier key checked): a store the worker cannot
    open raises :class:`GardeError` here, before it takes any job. SIGTERM or SIGINT stops it
    cleanly: it takes no new job and returns once the jobs it is running have ended. A worker
    killed harder (SIGKILL, a lost machine) leaves its jobs "doing"; the queue sees its heartbeat
    stop and those jobs are given to another worker.

    Each job that succeeds is not logged (procrastinate's "Starting job" and "Success" lines) unless
    ``log_jobs``: :func:`quiet_job_lines`.
    """
    require_queue(url, "garde worker")
    install_cleaning()  # procrastinate logs a failed job's exception: never a database error's values
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not log_jobs:
        quiet_job_lines(name)
    settings = get_settings()
    warm(url, settings)
    app = queue_app(url, worker=settings)
    frozen = freeze_heap()
    if frozen:
        logger.info("heap frozen: %d objects the collector no longer walks", frozen)
    thresholds = collect_less()
    logger.info("young collections every %d objects (Python's default: 700)", gc.get_threshold()[0])
    try:
        run_on_event_loop(app, concurrency=concurrency, queues=list(queues) or None, name=name,
                          install_signal_handlers=True, delete_jobs="never",
                          update_heartbeat_interval=settings.worker_heartbeat_seconds,
                          stalled_worker_timeout=settings.worker_stalled_seconds)
    finally:
        gc.set_threshold(*thresholds)  # a caller that goes on after the worker stopped: its own policy
        if frozen:  # and its heap back as it was
            gc.unfreeze()


# procrastinate's per-job lines (its ``action``) of a job that starts and succeeds: two a job, at INFO
SUCCESS_LINES = frozenset({"start_job", "job_success"})


class NoSuccessLines(logging.Filter):
    """Drops procrastinate's INFO line of each job's start and of each success; keeps every other
    record: a job that fails, is retried or aborted (its end, with its duration and exception), the
    worker's start and stop."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "action", None) not in SUCCESS_LINES


def quiet_job_lines(name: str | None = None) -> None:
    """Leave out of the worker's log the two lines procrastinate writes for each job that succeeds
    (its start, then "ended with status: Success"; a job that fails keeps its end line, which says how
    long it lasted): at 200 jobs a second, 400 lines a second for the
    log's collector, with no fact the queue's own record (``garde jobs list`` / ``show``: each job's
    status and times) does not keep; ≈ 22 µs of the event loop's CPU a job
    (docs/performance.md, "Issue 15, tenth pass"). ``name``: the worker's ``--name``, whose records
    procrastinate writes on a logger of that name below its worker's."""
    for logger_name in ("procrastinate.worker", *([f"procrastinate.worker.{name}"] if name else [])):
        quiet = logging.getLogger(logger_name)
        if not any(isinstance(each, NoSuccessLines) for each in quiet.filters):
            quiet.addFilter(NoSuccessLines())


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (``uvicorn[standard]`` brings it, as for ``garde serve``),
    else None: asyncio's own.

    The worker's loop takes each job, hands it to a thread, waits for it and ends it, and listens to
    the queue's notifications: ≈ 2 ms of CPU a job on asyncio's loop written in Python, ≈ 13 % less on
    uvloop's (docs/performance.md, "Issue 15, seventh pass"). The jobs themselves run in threads as
    before; psycopg's and procrastinate's asynchronous code runs unchanged on either loop."""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy: asyncio's loop
        return None
    return uvloop.new_event_loop


def run_on_event_loop(app: procrastinate.App, **options: Any) -> None:
    """procrastinate's ``App.run_worker`` (its App opened, then its worker run until stopped), on the loop
    of :func:`event_loop_factory`."""

    async def work() -> None:
        loop = type(asyncio.get_running_loop())
        logger.info("event loop: %s.%s", loop.__module__, loop.__qualname__)
        async with app.open_async():
            await app.run_worker_async(**options)

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(work())


def warm(url: str, settings: Settings) -> None:
    """What every job would otherwise open at its first run: the store (a :class:`GardeError` if it
    cannot be opened), the configured data map with its registers and databases, and the wording's
    catalogues. A data map that cannot be opened only fails the request jobs that need it (a worker
    may run retention or imports without one): it is logged, not raised."""
    from garde.i18n import LANGUAGES, translations
    from garde.jobs.requests import worker_deployment
    from garde.jobs.retention import keep_sweepers

    started = time.perf_counter()
    worker_store(worker_url(url))
    keep_sweepers()
    try:
        worker_deployment(None, None)
    except (GardeError, OSError) as exc:
        logger.warning("no data map for request jobs (GARDE_DATASETS=%s): %s", settings.datasets, exc)
    for language in LANGUAGES:
        translations(language)
    logger.info("store and data map opened in %.2f s", time.perf_counter() - started)


def freeze_heap() -> int:
    """Move what is alive now (the modules, the store, the data map and its registers, the queue's App)
    out of the collector's reach; returns how many objects, 0 if the process froze its heap already.

    They live as long as the worker. Left in the heap, every full collection walked them all (≈ 150,000
    objects, ≈ 0.1 s of CPU in a job's thread, about once per 700 requests: docs/performance.md,
    "Issue 15, sixth pass"); frozen, a full collection walks only what jobs left behind. A process
    that froze its heap itself (one running the worker inside it) keeps its own policy."""
    if gc.get_freeze_count():
        return 0
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


# A job's young objects (the rows it reads, its answer's parts) peak at a few thousand and are freed by
# reference counting when it ends. Counted from Python's default (700), the young generation was
# collected ≈ 0.9 times an access request, 0.33 – 0.48 ms of CPU a request with the older generations'
# passes it brings (one full pass ≈ every 100 requests); counted from this, none in 150 requests:
# docs/performance.md, "Issue 15, ninth pass". Cyclic garbage is still collected, 20,000 objects later.
YOUNG_THRESHOLD = 20_000


def collect_less() -> tuple[int, int, int]:
    """Collect the young generation after :data:`YOUNG_THRESHOLD` new objects rather than Python's 700
    (a process whose own threshold is higher keeps it); returns the thresholds as they were."""
    before: tuple[int, int, int] = gc.get_threshold()
    if 0 < before[0] < YOUNG_THRESHOLD:  # 0: the process turned collections off, left so
        gc.set_threshold(YOUNG_THRESHOLD, before[1], before[2])
    return before
