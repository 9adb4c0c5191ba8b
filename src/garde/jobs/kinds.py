"""Job kinds: the work garde hands to its workers, each a named function of the store and JSON arguments.

A concept module declares its kinds with :func:`job`; every module that does is listed in
:data:`TASK_MODULES`, which a worker imports before it takes jobs (a worker that does not know a
kind fails the job it fetched). The function receives the store engine the caller holds (inline) or
the worker's own (queued), then its arguments, which are JSON both ways: a kind behaves the same
on SQLite, where :func:`garde.jobs.submit` runs it at once, and on PostgreSQL, where a worker does.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from procrastinate import BaseRetryStrategy, RetryStrategy
from procrastinate.jobs import Job
from sqlalchemy.engine import Engine

from garde.problems import GardeError

# The modules that declare job kinds: a new one is added here (one line).
TASK_MODULES: tuple[str, ...] = (
    "garde.jobs.builtin",
    "garde.jobs.retention",
    "garde.jobs.exports",
    "garde.jobs.imports",
    "garde.jobs.requests",
)

JobFunction = Callable[..., Any]

# The largest arguments a job may have, as JSON. garde's own stay far below (ids, a day, file and folder
# names, a sweep part's table names: a few hundred bytes for the reference shop, a few KiB at most);
# a queue row is data whoever can write the store can forge, and its size is otherwise bounded only
# by PostgreSQL (a jsonb value of up to 255 MiB, read into every worker that takes it).
MAX_ARGUMENT_BYTES = 64 * 1024


class ArgumentsTooLarge(GardeError):
    """A job whose arguments are over :data:`MAX_ARGUMENT_BYTES`: refused, never run nor retried."""


def check_arguments(name: str, arguments: dict[str, Any]) -> None:
    """Raise :class:`ArgumentsTooLarge` if ``arguments`` (a job's, as JSON) are over the bound."""
    size = len(json.dumps(arguments, ensure_ascii=False, default=str).encode())
    if size > MAX_ARGUMENT_BYTES:
        raise ArgumentsTooLarge(f"job {name}: its arguments are {size} bytes of JSON, over the bound of "
                                f"{MAX_ARGUMENT_BYTES}: refused without running it (no garde job needs as "
                                "much: a row written in the queue by something else than garde?)")


class NotWhenTooLarge(BaseRetryStrategy):
    """A kind's retries, except for a job refused for its size: trying it again changes nothing."""

    def __init__(self, retry: int | RetryStrategy) -> None:
        self.retry = RetryStrategy(max_attempts=retry) if isinstance(retry, int) else retry

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> Any:
        if isinstance(exception, ArgumentsTooLarge):
            return None
        return self.retry.get_retry_decision(exception=exception, job=job)
# What cancelling a waiting job of a kind also does, in the store transaction that cancels it and
# audits ``job.cancelled``: called with that connection, the job's id, its arguments and the actor.
OnCancel = Callable[[sa.Connection, int, dict[str, Any], str], None]


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its queue name, its function, how often a failed run is tried again, and what
    cancelling a waiting one also does (``on_cancel``: the work it leaves undone recorded or cleaned)."""

    name: str
    function: JobFunction
    queue: str = "default"
    retry: int | RetryStrategy = 0  # attempts after a failure; a strategy says which errors and when
    on_cancel: OnCancel | None = None

    def __call__(self, store: Engine, **arguments: Any) -> Any:
        return self.function(store, **arguments)


KINDS: dict[str, JobKind] = {}


def job(name: str, *, queue: str = "default", retry: int | RetryStrategy = 0,
        on_cancel: OnCancel | None = None) -> Callable[[JobFunction], JobKind]:
    """Declare ``function(store, **arguments)`` as the job kind ``name`` (e.g. ``"retention.sweep"``)."""

    def declare(function: JobFunction) -> JobKind:
        kind = JobKind(name, function, queue, retry, on_cancel)
        known = KINDS.get(name)
        if known is not None and known.function is not function:
            raise ValueError(f"two job kinds named {name!r}")
        KINDS[name] = kind
        return kind

    return declare


def load_kinds() -> dict[str, JobKind]:
    """Every job kind garde has (the modules of :data:`TASK_MODULES` imported)."""
    for module in TASK_MODULES:
        importlib.import_module(module)
    return KINDS


def kind_named(name: str) -> JobKind:
    kinds = load_kinds()
    if name not in kinds:
        raise GardeError(f"no job kind {name!r} (known: {', '.join(sorted(kinds))})")
    return kinds[name]
