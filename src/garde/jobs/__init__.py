"""Jobs: work handed to workers through a PostgreSQL-backed queue (procrastinate), inline on SQLite.

Every kind of job goes through :func:`submit`: on PostgreSQL it is queued and ``garde worker``
processes run it, on any machine that reaches the database; on SQLite it runs at once, in the
caller, as garde always did. Kinds are declared with :func:`job` (see :mod:`garde.jobs.kinds`).
"""

from garde.jobs.kinds import TASK_MODULES, JobKind, job, kind_named, load_kinds
from garde.jobs.queue import QueueUnavailable, is_queued, queue_app, require_queue
from garde.jobs.submit import Submission, submit
from garde.jobs.worker import run_worker

__all__ = [
    "TASK_MODULES",
    "JobKind",
    "QueueUnavailable",
    "Submission",
    "is_queued",
    "job",
    "kind_named",
    "load_kinds",
    "queue_app",
    "require_queue",
    "run_worker",
    "submit",
]
