"""The procrastinate App over garde's store: PostgreSQL only (on SQLite, jobs run inline)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import procrastinate
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.jobs.kinds import JobKind, load_kinds
from garde.problems import GardeError
from garde.store import safe_url


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


def queue_app(url: str | sa.URL, *, worker: bool = False) -> procrastinate.App:
    """A procrastinate App on the store at ``url`` with every garde job kind registered.

    ``worker``: the asynchronous connector a worker runs on; otherwise a synchronous one with a
    single connection, for submitting and inspecting jobs (open it with ``with app.open():``).
    """
    require_queue(url, "the job queue")
    if worker:
        connector: procrastinate.BaseConnector = procrastinate.PsycopgConnector(conninfo=conninfo(url))
    else:
        connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=1)
    app = procrastinate.App(connector=connector)
    store_url = sa.make_url(url).render_as_string(hide_password=False)
    for kind in load_kinds().values():
        app.task(name=kind.name, queue=kind.queue, retry=kind.retry)(_runs(kind, store_url))
    return app


def _runs(kind: JobKind, url: str) -> Callable[..., Any]:
    def run(**arguments: Any) -> Any:
        return kind.function(worker_store(url), **arguments)

    run.__name__ = run.__qualname__ = kind.name.replace(".", "_")
    return run


_stores: dict[str, Engine] = {}
_stores_lock = threading.Lock()


def worker_store(url: str) -> Engine:
    """The store a worker's jobs run on: opened (and checked against the identifier key) once."""
    from garde.store import open_store

    with _stores_lock:
        if url not in _stores:
            _stores[url] = open_store(url)
        return _stores[url]
