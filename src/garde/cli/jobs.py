"""``garde jobs list|show|retry|cancel|prune``: the job queue (PostgreSQL; on SQLite jobs run inline)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from garde.cli.output import Format, FormatOption, Terminal, emit
from garde.jobs.limits import MAX_LIST
from garde.settings import get_settings
from garde.store import open_store

if TYPE_CHECKING:
    from garde.jobs.listing import JobRecord

jobs_app = typer.Typer(help="The job queue the workers take from (PostgreSQL).", no_args_is_help=True)
out = Terminal(highlight=False, soft_wrap=True, emoji=False, markup=False)
JobId = Annotated[int, typer.Argument(help="the job's id (from `garde jobs list`)", min=1)]
Actor = Annotated[str, typer.Option("--actor", help="who does this (in the audit log)")]


@contextmanager
def _store() -> Iterator[Engine]:
    store = open_store()
    try:
        yield store
    finally:
        store.dispose()


def _render(jobs: list[JobRecord], format: Format, *, one: bool = False) -> None:
    if format is Format.json:
        emit(jobs[0].to_data() if one else [job.to_data() for job in jobs])
        return
    table = Table("id", "kind", "queue", "status", "attempts", "created", "updated")
    for job in jobs:
        table.add_row(str(job.id), job.kind, job.queue, job.status, str(job.attempts),
                      _when(job.created_at), _when(job.updated_at))
    out.print(table)
    if one:
        job = jobs[0]
        out.print(f"arguments: {job.arguments}")
        for event in job.events:
            out.print(f"  {event['at']}  {event['type']}")


def _when(at: object) -> str:
    return "" if at is None else str(at)[:19]


@jobs_app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option("--status", help="todo, doing, succeeded, failed, "
                                               "cancelled or aborted")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="only this kind, e.g. retention.sweep")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIST, help="newest first")] = 50,
    format: FormatOption = Format.text,
) -> None:
    """The queue's jobs, newest first: kind, status, attempts, when created and last changed.

    On SQLite there is no queue (jobs run inline): the list is empty.

    Example: garde jobs list --status failed --format json
    """
    from garde.jobs import listing  # procrastinate: only when a command runs

    with _store() as store:
        _render(listing.list_jobs(store, status=status, kind=kind, limit=limit), format)


@jobs_app.command("show")
def show(job_id: JobId, format: FormatOption = Format.text) -> None:
    """One job: its kind, arguments, status and history (deferred, started, retried, failed...).

    Example: garde jobs show 42
    """
    from garde.jobs import listing

    with _store() as store:
        _render([listing.show_job(store, job_id)], format, one=True)


@jobs_app.command("retry")
def retry(job_id: JobId, actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Queue a failed job again, to run now (audited). Jobs of a worker that died are retried
    without asking: this is for a job that failed on an error since fixed.

    Example: garde jobs retry 42 --actor dpo@shop.example
    """
    from garde.jobs import listing

    with _store() as store:
        _render([listing.retry_job(store, job_id, actor=actor)], format, one=True)


@jobs_app.command("cancel")
def cancel(job_id: JobId, actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Cancel a job that waits (todo), audited; a running job cannot be cancelled.

    Example: garde jobs cancel 42
    """
    from garde.jobs import listing

    with _store() as store:
        _render([listing.cancel_job(store, job_id, actor=actor)], format, one=True)


@jobs_app.command("prune")
def prune(
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650, help="keep finished jobs this many "
                                             "days (default: GARDE_JOBS_KEEP_DAYS)")] = None,
    actor: Actor = "garde", format: FormatOption = Format.text,
) -> None:
    """Delete the finished jobs (succeeded, failed, cancelled, aborted) whose last change is older than
    the keep period, with their history (audited: job.pruned). The workers do it daily on their own
    (GARDE_JOBS_CLEANUP_SCHEDULE); waiting and running jobs are never deleted.

    Example: garde jobs prune --days 90
    """
    from garde.jobs import cleanup

    with _store() as store:
        pruned = cleanup.prune_jobs(store, days=days or get_settings().jobs_keep_days, actor=actor)
    if format is Format.json:
        emit(pruned.to_data())
        return
    out.print(f"{pruned.jobs} finished job(s) older than {pruned.days} day(s) deleted, "
              f"{pruned.staged_files} staged file(s) with them")


def install(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
