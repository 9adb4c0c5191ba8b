"""The procrastinate App over garde's store: PostgreSQL only (on SQLite, jobs run inline)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.jobs.kinds import NotWhenTooLarge, check_arguments, load_kinds
from garde.jobs.pool import ping_when_quiet, worker_pool
from garde.problems import GardeError
from garde.settings import Settings
from garde.store import safe_url

logger = logging.getLogger(__name__)
STALLED_TASK = "garde.retry_stalled"


class QueueUnavailable(GardeError):
    """A PostgreSQL-only operation (the worker, the job list) asked of a SQLite store."""


def is_queued(url: str | sa.URL) -> bool:
    """Jobs go through the queue on PostgreSQL; on SQLite they run inline, in the caller."""
    return sa.make_url(url).get_backend_name() == "postgresql"


def require_queue(url: str | sa.URL, what: str) -> None:
    """Raise :class:`QueueUnavailable` unless the store at ``url`` has a queue."""
    if not is_queued(url):
        raise QueueUnavailable(
            f"{what} needs a PostgreSQL store (database_url is {safe_url(url)}): on SQLite there is "
            "no job queue, and garde runs each job inline, in the command or request that asks for it")


def conninfo(url: str | sa.URL) -> str:
    """The libpq connection string of a ``postgresql+psycopg://`` URL (password included)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(url: str | sa.URL, *, worker: Settings | None = None,
              asynchronous: bool = False) -> procrastinate.App:
    """A procrastinate App on the store at ``url`` with every garde job kind registered.

    ``worker``: the settings of a worker, which runs on the asynchronous connector and also
    schedules the periodic jobs and the retry of dead workers' jobs; its pool is
    :func:`garde.jobs.pool.worker_pool` (autocommit, no round trip to check a connection in use).
    Otherwise, a synchronous
    connector with one connection, to submit and inspect jobs (open it with ``with app.open():``),
    or with ``asynchronous`` the asynchronous one (``async with app.open_async():``).
    """
    require_queue(url, "the job queue")
    if worker is not None or asynchronous:
        connector: procrastinate.BaseConnector = procrastinate.PsycopgConnector(conninfo=conninfo(url),
                                                                                pool_factory=worker_pool)
    else:
        connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=1)
    app = procrastinate.App(connector=connector)
    store_url = worker_url(url)
    for kind in load_kinds().values():
        retry = NotWhenTooLarge(kind.retry) if kind.retry else 0
        app.task(name=kind.name, queue=kind.queue, retry=retry)(_runs(kind.function, store_url, kind.name))
    if worker is not None:
        _schedule(app, worker, store_url)
    return app


def _runs(function: Callable[..., Any], url: str, name: str) -> Callable[..., Any]:
    def run(**arguments: Any) -> Any:
        check_arguments(name, arguments)  # a forged row's huge arguments: refused before anything runs
        return function(worker_store(url), **arguments)

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    return run


def _schedule(app: procrastinate.App, settings: Settings, store_url: str) -> None:
    """The periodic jobs of :mod:`garde.jobs.periodic`, and the queue's own: jobs left ``doing`` by
    a worker whose heartbeat stopped (SIGKILL, a lost machine) are queued again.

    A periodic job runs one at a time (``lock``) and never waits twice (``queueing_lock``). The
    retry of stalled jobs takes no procrastinate ``lock``: a worker killed while running it would
    hold that lock for ever, and only the retry itself could free it. It takes a PostgreSQL
    advisory lock instead, which dies with the killed worker's connection (:func:`requeue_stalled`)."""
    from garde.jobs.periodic import check_cron, schedules

    for periodic, cron in schedules(settings):
        task = app.task(name=f"periodic.{periodic.name}", queue="periodic", lock=f"periodic.{periodic.name}",
                        queueing_lock=f"periodic.{periodic.name}")(_periodic(periodic.resolve(), store_url,
                                                                             periodic.name))
        app.periodic(cron=cron, periodic_id=periodic.name)(task)
    stalled_seconds = settings.worker_stalled_seconds

    def retry_stalled(timestamp: int) -> int:  # synchronous: procrastinate runs it in a thread
        check_arguments(STALLED_TASK, {"timestamp": timestamp})
        return len(requeue_stalled(store_url, stalled_seconds))

    cron = settings.jobs_stalled_schedule.strip()
    if cron:
        check_cron("jobs_stalled_schedule", cron)
        task = app.task(name=STALLED_TASK, queue="periodic", queueing_lock=STALLED_TASK)(retry_stalled)
        app.periodic(cron=cron, periodic_id="stalled")(task)


# One retry of stalled jobs at a time, across workers: an advisory lock held for a transaction,
# released when it ends or when the connection of a killed worker drops.
STALLED_LOCK = int.from_bytes(b"garde:stalled", "big") % (1 << 63)

# The jobs left "doing" by a worker whose heartbeat is older than the bound (or by no worker), as
# procrastinate's own stalled-job query finds them, locked for this transaction; and whether a job
# with the same queueing lock already waits (a periodic job's next run).
STALLED = """
SELECT job.id, job.task_name,
       EXISTS (SELECT 1 FROM procrastinate_jobs twin WHERE twin.queueing_lock = job.queueing_lock
               AND twin.status = 'todo') AS twin_waits
  FROM procrastinate_jobs job
 WHERE job.status = 'doing'
   AND (%(queue)s::varchar IS NULL OR job.queue_name = %(queue)s)
   AND (job.worker_id IS NULL OR job.worker_id IN (
        SELECT id FROM procrastinate_workers
         WHERE last_heartbeat < now() - make_interval(secs => %(seconds)s)))
 ORDER BY job.id
   FOR UPDATE OF job
"""
RETRY_JOB = "SELECT procrastinate_retry_job_v2(%s, now(), NULL, NULL, NULL)"
END_JOB = "UPDATE procrastinate_jobs SET status = 'failed', attempts = attempts + 1 WHERE id = %s"


def requeue_stalled(url: str | sa.URL, seconds_since_heartbeat: float, queue: str | None = None) -> list[int]:
    """Queue again the jobs left ``doing`` by workers whose heartbeat stopped ``seconds_since_heartbeat``
    ago (killed, a lost machine), on ``queue`` or every queue. Returns the ids of the jobs queued again.

    In one transaction, under :data:`STALLED_LOCK` (a second caller meanwhile does nothing), so a
    job is handed back once. A stalled retry of stalled jobs is ended rather than queued again (the
    next tick does its work), and so is a periodic job whose next run already waits. Synchronous, on
    a connection of its own: callable from any thread, an event loop running in it or not."""
    with psycopg.connect(conninfo(url)) as connection, connection.transaction():
        locked = connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (STALLED_LOCK,)).fetchone()
        if not locked or not locked[0]:
            return []
        stalled = connection.execute(STALLED, {"queue": queue, "seconds": seconds_since_heartbeat}).fetchall()
        queued: list[int] = []
        for job_id, task, twin_waits in stalled:
            if task == STALLED_TASK or twin_waits:
                connection.execute(END_JOB, (job_id,))
                logger.warning("job %s (%s) was running on a worker that stopped: ended, as its next run "
                               "does its work", job_id, task)
                continue
            connection.execute(RETRY_JOB, (job_id,))
            logger.warning("job %s (%s) was running on a worker that stopped: queued again", job_id, task)
            queued.append(int(job_id))
        return queued


def _periodic(function: Callable[[Engine], Any], url: str, name: str) -> Callable[..., Any]:
    def run(timestamp: int) -> Any:
        check_arguments(name, {"timestamp": timestamp})
        return function(worker_store(url))

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    return run


def worker_url(url: str | sa.URL) -> str:
    """The store URL a worker's jobs open (with its password): the key of :func:`worker_store`."""
    return sa.make_url(url).render_as_string(hide_password=False)


_stores: dict[str, Engine] = {}
_stores_lock = threading.Lock()


def worker_store(url: str) -> Engine:
    """The store a worker's jobs run on: opened (and checked against the identifier key) once, when the
    worker starts (:func:`garde.jobs.worker.run_worker`); a store it cannot open stops it there."""
    from garde.store import open_store

    with _stores_lock:
        if url not in _stores:
            _stores[url] = ping_when_quiet(open_store(url))
        return _stores[url]
