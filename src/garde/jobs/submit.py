"""``submit``: the one way garde starts a job, queued on PostgreSQL, run at once on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import procrastinate
import sqlalchemy as sa
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import JobDeferrer
from sqlalchemy.engine import Engine

from garde.jobs.kinds import JobKind, check_arguments
from garde.jobs.queue import is_queued, queue_app
from garde.problems import GardeError
from garde.store import unreachable


@dataclass(frozen=True)
class Submission:
    """A job handed over: its id in the queue, or (run inline) what it returned."""

    kind: str
    job_id: int | None
    result: Any = None

    @property
    def queued(self) -> bool:
        return self.job_id is not None

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "job_id": self.job_id, "queued": self.queued,
                "result": None if self.queued else self.result}


def _as_json(kind: JobKind, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as a worker would get them (JSON both ways), so that inline runs match queued."""
    try:
        copied: dict[str, Any] = json.loads(json.dumps(arguments))
    except (TypeError, ValueError) as exc:
        raise GardeError(f"job {kind.name}: arguments must be JSON ({exc})") from None
    check_arguments(kind.name, copied)  # what a worker would refuse is refused here, before it is queued
    return copied


def submit(store: Engine, kind: JobKind, arguments: dict[str, Any] | None = None, *,
           inline: bool = False, queueing_lock: str | None = None,
           already_queued_ok: bool = False, within: sa.Connection | None = None) -> Submission:
    """Start a job of ``kind`` with ``arguments`` on ``store``.

    On PostgreSQL the job is queued for the workers (``garde worker``) and its id returned;
    ``queueing_lock``: refuse a second job with the same lock while one waits (``already_queued_ok``:
    then return a submission without an id, the waiting job doing the work). On SQLite, or with
    ``inline``, it runs here, now, and its result is returned.

    ``within``: a connection of ``store`` in a transaction its caller began and commits (one that read
    what decides the job, say): the job is queued in it, and the workers see it when it commits; no
    transaction of its own (two round trips and a checkout fewer). Not with ``queueing_lock``: a refused
    lock would abort the caller's transaction.
    """
    arguments = _as_json(kind, arguments or {})
    if inline or not is_queued(store.url):
        return Submission(kind.name, None, kind.function(store, **arguments))
    if within is not None and queueing_lock is not None:
        raise ValueError("a job with a queueing lock is queued in a transaction of its own")
    try:
        with _deferrer(store, kind, queueing_lock, within) as deferrer:
            job_id = deferrer.defer(**arguments)
    except queue_errors.AlreadyEnqueued:
        if already_queued_ok:
            return Submission(kind.name, None, None)
        raise GardeError(f"a {kind.name} job is already waiting ({queueing_lock})") from None
    return Submission(kind.name, job_id)


def submit_many(store: Engine, kind: JobKind, arguments: Sequence[dict[str, Any]], *,
                inline: bool = False, queueing_locks: Sequence[str] | None = None,
                already_queued_ok: bool = False) -> list[Submission]:
    """Start one job of ``kind`` for each of ``arguments``, in order, as :func:`submit` does one.

    On PostgreSQL they are queued together: one statement and one transaction for them all (the
    workers see them at once, when it commits; none if it fails), where :func:`submit` in a loop
    pays a transaction for each. On SQLite, or with ``inline``, each runs here, one after the other.

    ``queueing_locks``: one per job, as :func:`submit`'s. If a job with one of them already waits, the
    insert of them all is refused (procrastinate's unique index): a :class:`GardeError`, or with
    ``already_queued_ok`` each is then queued on its own, those already waiting left to their waiting
    job (a submission without an id), as :func:`submit` does."""
    copies = [_as_json(kind, each) for each in arguments]
    if queueing_locks is not None and len(queueing_locks) != len(copies):
        raise ValueError(f"{len(copies)} jobs and {len(queueing_locks)} queueing locks")
    if inline or not is_queued(store.url):
        return [Submission(kind.name, None, kind.function(store, **each)) for each in copies]
    if not copies:
        return []
    try:
        with _deferrer(store, kind, None) as deferrer:
            if queueing_locks is None:
                job_ids = deferrer.batch_defer(*copies)
            else:
                jobs = [deferrer.make_new_job(**each).evolve(queueing_lock=lock)
                        for each, lock in zip(copies, queueing_locks, strict=True)]
                job_ids = [job.id or 0 for job in deferrer.job_manager.batch_defer_jobs(
                    jobs, connection=deferrer.connection)]
    except queue_errors.AlreadyEnqueued:
        if not already_queued_ok or queueing_locks is None:
            locks = ", ".join(queueing_locks or [])
            raise GardeError(f"a {kind.name} job is already waiting (one of {locks})") from None
        return [submit(store, kind, each, queueing_lock=lock, already_queued_ok=True)
                for each, lock in zip(copies, queueing_locks, strict=True)]
    return [Submission(kind.name, job_id) for job_id in job_ids]


@contextmanager
def _deferrer(store: Engine, kind: JobKind, queueing_lock: str | None,
              within: sa.Connection | None = None) -> Iterator[JobDeferrer]:
    """procrastinate's deferrer of ``kind`` on a session the store's pool holds (no new connection per
    job), committed when the block ends (``within``: on that connection, committed by its caller); the
    queue's errors as :class:`GardeError` (a queueing lock's refusal excepted: the caller decides)."""
    try:
        with nullcontext(within) if within is not None else store.begin() as connection:
            yield submitter(store.url).configure_task(
                kind.name, queue=kind.queue, queueing_lock=queueing_lock,
                connection=connection.connection.driver_connection)
    except queue_errors.AlreadyEnqueued:
        raise
    except queue_errors.ConnectorException as exc:
        raise GardeError(f"the job queue refused the {kind.name} job: {exc.__cause__ or exc}") from None
    except sa.exc.OperationalError as exc:
        raise GardeError(f"the job queue refused the {kind.name} job: {unreachable(exc)}") from None


@lru_cache(maxsize=16)
def submitter(url: sa.URL) -> procrastinate.App:
    """The queue's App that defers jobs for a store (never opened: each job goes on a connection of
    the store's own pool), built once per store URL (its task table is the same every time)."""
    return queue_app(url)
