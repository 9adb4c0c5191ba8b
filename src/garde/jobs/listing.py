"""What the queue holds: jobs listed, shown with their history, retried and cancelled.

Reads the queue's own tables (read-only, bounded, newest first); retry and cancel go through
procrastinate's job manager, and are audited under the operator's name; cancelling a job also does
what its kind says (a consent import's staged file deleted, an erasure part's request marked
failed). On SQLite there is no queue: nothing ever waits, so the list is empty and a job id names
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.jobs.kinds import load_kinds
from garde.jobs.limits import MAX_LIST
from garde.jobs.queue import is_queued, queue_app, require_queue
from garde.jobs.submit import submitter
from garde.problems import GardeError
from garde.store.transactions import retried

STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")


class NoSuchJob(GardeError):
    status = 404


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    queue: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    arguments: dict[str, Any]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    events: list[dict[str, str]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "queue": self.queue, "status": self.status,
                "attempts": self.attempts, "arguments": self.arguments,
                "scheduled_at": _iso(self.scheduled_at), "created_at": _iso(self.created_at),
                "updated_at": _iso(self.updated_at), "events": self.events}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


_LIST = """
SELECT j.id, j.task_name, j.queue_name, j.status::text AS status, j.attempts, j.scheduled_at, j.args,
       (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS created_at,
       (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS updated_at
  FROM procrastinate_jobs j
 WHERE (CAST(:status AS text) IS NULL OR j.status::text = :status)
   AND (CAST(:kind AS text) IS NULL OR j.task_name = :kind)
   AND (CAST(:id AS bigint) IS NULL OR j.id = :id)
 ORDER BY j.id DESC
 LIMIT :limit
"""


def _record(row: Any, events: list[dict[str, str]] | None = None) -> JobRecord:
    return JobRecord(row.id, row.task_name, row.queue_name, row.status, row.attempts, row.scheduled_at,
                     dict(row.args or {}), row.created_at, row.updated_at, events or [])


def list_jobs(store: Engine, *, status: str | None = None, kind: str | None = None,
              limit: int = 50) -> list[JobRecord]:
    """The newest jobs first, at most ``limit`` (500); ``status``/``kind`` keep only those."""
    if status is not None and status not in STATUSES:
        raise GardeError(f"no job status {status!r} (one of {', '.join(STATUSES)})")
    if not is_queued(store.url):
        return []  # SQLite: jobs run inline, none waits
    with store.connect() as conn:
        rows = conn.execute(sa.text(_LIST), {"status": status, "kind": kind, "id": None,
                                             "limit": max(1, min(limit, MAX_LIST))}).all()
    return [_record(row) for row in rows]


def show_job(store: Engine, job_id: int) -> JobRecord:
    """One job and its history (deferred, started, retried, failed, succeeded..., with when)."""
    require_queue(store.url, "a job")
    with store.connect() as conn:
        row = conn.execute(sa.text(_LIST), {"status": None, "kind": None, "id": job_id, "limit": 1}).first()
        if row is None:
            raise NoSuchJob(f"no job {job_id}")
        events = [{"type": e.type, "at": e.at.isoformat()} for e in conn.execute(sa.text(
            "SELECT type::text AS type, at FROM procrastinate_events WHERE job_id = :id ORDER BY id"),
            {"id": job_id})]
    return _record(row, events)


def retry_job(store: Engine, job_id: int, *, actor: str) -> JobRecord:
    """Queue a failed job again, to run now; audited."""
    job = show_job(store, job_id)
    if job.status != "failed":
        raise GardeError(f"job {job_id} is {job.status}: only a failed job is retried")
    app = queue_app(store.url)
    with app.open():
        app.job_manager.retry_job_by_id(job_id, retry_at=datetime.now().astimezone())
    retried(store, lambda conn: audit.record(conn, "job.retried", {"job": job_id, "kind": job.kind},
                                             actor=actor),
            what=f"job {job_id}: its retry audited")
    return show_job(store, job_id)


def cancel_job(store: Engine, job_id: int, *, actor: str) -> JobRecord:
    """Cancel a job that waits (``todo``); a running one cannot be (it ends, or its worker is stopped).

    In one store transaction: the queue's cancellation (procrastinate's own), what the job's kind
    does on a cancellation (its ``on_cancel``: a consent import's staged file deleted, an erasure
    part's request marked failed), and the audit entry."""
    job = show_job(store, job_id)
    kind = load_kinds().get(job.kind)

    def cancelling(conn: sa.Connection) -> None:  # run again, whole, on a deadlock with a request's run
        cancelled = submitter(store.url).job_manager.cancel_job_by_id(
            job_id, connection=conn.connection.driver_connection)
        if not cancelled:
            raise GardeError(f"job {job_id} is {job.status}: only a waiting job (todo) is cancelled")
        if kind is not None and kind.on_cancel is not None:
            kind.on_cancel(conn, job_id, job.arguments, actor)
        audit.record(conn, "job.cancelled", {"job": job_id, "kind": job.kind}, actor=actor)

    retried(store, cancelling, what=f"job {job_id}: its cancellation")
    return show_job(store, job_id)
