"""The queue's old rows deleted: finished jobs, with their history, after ``jobs_keep_days``.

A job row keeps its arguments (request ids, run ids, file names) and its events; kept for ever they
would outlive the requests they served. :func:`prune_jobs` deletes the jobs that reached a final
state (succeeded, failed, cancelled, aborted) more than ``days`` ago, with procrastinate's own
query (the one its job manager and its ``remove_old_jobs`` task run; the events go with their job,
periodic ticks are unlinked by its trigger), in the same store transaction as the audit entry
that counts them. A job still waiting or running is never touched. A consent file staged for a
deleted import job is deleted with it: no job can read it any more.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from procrastinate import sql
from sqlalchemy.engine import Engine

from garde import audit
from garde.jobs.queue import require_queue
from garde.jobs.staging import job_staging
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store.transactions import retried

FINISHED = ("succeeded", "failed", "cancelled", "aborted")

# The consent files named by the queue's import jobs (read only: which ones lose their job).
_STAGED = ("SELECT DISTINCT args->>'staged' FROM procrastinate_jobs "
           "WHERE task_name = 'consent.import' AND args ? 'staged'")


@dataclass(frozen=True)
class Pruned:
    days: int
    jobs: int  # finished jobs deleted, with their events
    staged_files: int  # consent files staged for deleted import jobs, deleted with them

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def prune_jobs(store: Engine, *, days: int, actor: str = "garde") -> Pruned:
    """Delete the finished jobs whose last event is more than ``days`` days old; audited
    (``job.pruned``, with the counts) in the transaction that deletes them."""
    require_queue(store.url, "pruning the job queue")
    if days < 1:
        raise GardeError(f"keep jobs at least 1 day (asked: {days})")

    def pruning(conn: sa.Connection) -> Pruned:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            staged_before = {row[0] for row in cursor.execute(_STAGED)}
            cursor.execute(sql.queries["delete_old_jobs"],
                           {"nb_hours": days * 24, "queue": None, "statuses": list(FINISHED)})
            deleted = max(cursor.rowcount, 0)
            orphans = staged_before - {row[0] for row in cursor.execute(_STAGED)}
        files = 0
        if orphans:
            files = conn.execute(sa.select(sa.func.count(sa.distinct(job_staging.c.staged)))
                                 .where(job_staging.c.staged.in_(orphans))).scalar_one()
            conn.execute(job_staging.delete().where(job_staging.c.staged.in_(orphans)))
        pruned = Pruned(days, deleted, files)
        audit.record(conn, "job.pruned", pruned.to_data(), actor=actor)
        return pruned

    return retried(store, pruning, what="the job queue pruned")


def scheduled_prune(store: Engine) -> dict[str, Any]:
    """The periodic cleanup (setting ``jobs_cleanup_schedule``), keeping ``jobs_keep_days``."""
    return prune_jobs(store, days=get_settings().jobs_keep_days, actor="garde worker").to_data()
