"""``garde worker``: run the job queue's worker (PostgreSQL) until SIGTERM or SIGINT."""

from __future__ import annotations

from typing import Annotated

import typer

from garde.settings import get_settings


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                             help="jobs run at once by this process")] = 1,
    queue: Annotated[list[str] | None, typer.Option(
        "--queue", help="only the jobs of this queue (repeatable; default: every queue)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="the worker's name in the jobs it runs")] = None,
    log_jobs: Annotated[bool, typer.Option(
        "--log-jobs", help="also log each job that succeeds (its start and end); failed, retried and "
                           "aborted jobs are always logged")] = False,
) -> None:
    """Take jobs from the store's queue and run them, until stopped (PostgreSQL only).

    Start as many as the load needs, on any machine that reaches the database and has
    the same settings (registers, datasets, keys). SIGTERM or SIGINT stops a worker
    cleanly: it takes no new job and exits when its running jobs end. On SQLite there
    is no queue (jobs run inline in the command that asks for them): it exits 2.

    Example: garde worker --concurrency 2 --queue retention
    """
    from garde.audience_seen import sweep
    from garde.jobs import run_worker

    settings = get_settings()
    sweep(settings.exports)  # what audience exports killed before left (their digests keyed by a lost key)
    run_worker(settings.database_url, concurrency=concurrency, queues=queue or (), name=name,
               log_jobs=log_jobs)


def install(app: typer.Typer) -> None:
    app.command("worker")(worker)
