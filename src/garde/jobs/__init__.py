"""Jobs: work handed to workers through a PostgreSQL-backed queue (procrastinate), inline on SQLite.

Every kind of job goes through :func:`submit`: on PostgreSQL it is queued and ``garde worker``
processes run it, on any machine that reaches the database; on SQLite it runs at once, in the
caller, as garde always did. Kinds are declared with :func:`job` (see :mod:`garde.jobs.kinds`).
"""

import typing

from garde import _lazy

if typing.TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from garde.jobs.kinds import TASK_MODULES, JobKind, job, kind_named, load_kinds
    from garde.jobs.queue import QueueUnavailable, is_queued, queue_app, require_queue
    from garde.jobs.submit import Submission, submit, submit_many
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
    "submit_many",
]

_lazy.lazy(__name__, {
    "TASK_MODULES": ("garde.jobs.kinds", "TASK_MODULES"),
    "JobKind": ("garde.jobs.kinds", "JobKind"),
    "job": ("garde.jobs.kinds", "job"),
    "kind_named": ("garde.jobs.kinds", "kind_named"),
    "load_kinds": ("garde.jobs.kinds", "load_kinds"),
    "QueueUnavailable": ("garde.jobs.queue", "QueueUnavailable"),
    "is_queued": ("garde.jobs.queue", "is_queued"),
    "queue_app": ("garde.jobs.queue", "queue_app"),
    "require_queue": ("garde.jobs.queue", "require_queue"),
    "Submission": ("garde.jobs.submit", "Submission"),
    "submit": ("garde.jobs.submit", "submit"),
    "submit_many": ("garde.jobs.submit", "submit_many"),
    "run_worker": ("garde.jobs.worker", "run_worker"),
})
