"""``garde jobs list|show|retry|cancel``: the job queue (PostgreSQL; on SQLite jobs run inline)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from garde.cli.output import Format, FormatOption, emit
from garde.jobs import listing
from garde.store import open_store

jobs_app = typer.Typer(help="The job queue the workers take from (PostgreSQL).", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
JobId = Annotated[int, typer.Argument(help="the job's id (from `garde jobs list`)", min=1)]
Actor = Annotated[str, typer.Option("--actor", help="who does this (in the audit log)")]


@contextmanager
def _store() -> Iterator[Engine]:
    store = open_store()
    try:
        yield store
    finally:
        store.dispose()


def _render(jobs: list[listing.JobRecord], format: Format, *, one: bool = False) -> None:
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
    limit: Annotated[int, typer.Option("--limit", min=1, max=listing.MAX_LIST, help="newest first")] = 50,
    format: FormatOption = Format.text,
) -> None:
    """The queue's jobs, newest first: kind, status, attempts, when created and last changed.

    On SQLite there is no queue (jobs run inline): the list is empty.

    Example: garde jobs list --status failed --format json
    """
    with _store() as store:
        _render(listing.list_jobs(store, status=status, kind=kind, limit=limit), format)


@jobs_app.command("show")
def show(job_id: JobId, format: FormatOption = Format.text) -> None:
    """One job: its kind, arguments, status and history (deferred, started, retried, failed...).

    Example: garde jobs show 42
    """
    with _store() as store:
        _render([listing.show_job(store, job_id)], format, one=True)


@jobs_app.command("retry")
def retry(job_id: JobId, actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Queue a failed job again, to run now (audited). Jobs of a worker that died are retried
    without asking: this is for a job that failed on an error since fixed.

    Example: garde jobs retry 42 --actor dpo@shop.example
    """
    with _store() as store:
        _render([listing.retry_job(store, job_id, actor=actor)], format, one=True)


@jobs_app.command("cancel")
def cancel(job_id: JobId, actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Cancel a job that waits (todo), audited; a running job cannot be cancelled.

    Example: garde jobs cancel 42
    """
    with _store() as store:
        _render([listing.cancel_job(store, job_id, actor=actor)], format, one=True)


def install(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
