"""``garde retention plan|sweep|runs``: enforce the register's retention rules on the datasets."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from garde import jobs, retention
from garde.cli.confirm import YesOption, confirm, will_ask
from garde.cli.output import (
    Format,
    FormatOption,
    QuietOption,
    Terminal,
    emit,
    parse_day,
    progress,
    shows_progress,
)
from garde.datasets import DataMap, connect_datamap, load_datamap
from garde.problems import GardeError
from garde.retention.plan import Plan
from garde.retention.sweep import BATCH_SIZE
from garde.settings import get_settings
from garde.store import open_store

out = Terminal(highlight=False, soft_wrap=True, emoji=False, markup=False)
retention_app = typer.Typer(help="Retention: what is due, sweep it, past sweeps.", no_args_is_help=True)


DatasetsOption = Annotated[Path | None, typer.Option("--datasets", help="Dataset file or folder "
                                                     "(default: the `datasets` setting)")]
TodayOption = Annotated[str | None, typer.Option("--today", help="Evaluate as of this day (YYYY-MM-DD)")]


def _day(text: str | None) -> date | None:
    return None if text is None else parse_day(text, "--today")


def _open(datasets: Path | None) -> tuple[Engine, DataMap, dict[str, Engine]]:
    datamap = load_datamap(datasets or get_settings().datasets)
    return open_store(), datamap, connect_datamap(datamap)


@retention_app.command("plan")
def plan(
    days: Annotated[int, typer.Option("--days", min=0, max=366, help="Also count the next N days")] = 0,
    format: FormatOption = Format.text,
    datasets: DatasetsOption = None,
    today: TodayOption = None,
) -> None:
    """What retention deletes, anonymises or archives today and in the next N days, and what holds keep.

    Per table and activity: rows deleted, rows moved to an intermediate
    archive ("archive to ..."), rows purged from an archive at its end
    ("purge from archive") and rows whose expired columns are masked, today
    and day by day; columns never due and why ("no rule", legal hold, no
    archive named, "not executable: criterion in words"); rows due for
    review (a person decides); active legal holds and the rows they keep.

    Example: garde retention plan --days 30 --format json
    """
    store, datamap, engines = _open(datasets)
    result = retention.plan(store, datamap, engines, today=_day(today), days=days)
    if format is Format.json:
        emit(result.to_data())
    else:
        render_plan(result)


def render_plan(result: Plan) -> None:
    out.print(f"Retention plan as of {result.today.isoformat()}"
              + (f", next {result.days} days" if result.days else ""))
    table = Table("table", "operation", "activities", "today", f"+{result.days} days" if result.days else "",
                  "held")
    for step in result.steps:
        later = str(step.by_day[-1][1]) if step.by_day else ""
        if not (step.today or step.held or any(n for _, n in step.by_day)):
            continue
        table.add_row(step.table, step.what, ", ".join(step.activities), str(step.today), later,
                      str(step.held) if step.held else "")
    out.print(table)
    for step in result.steps:
        changes = [(d, n) for i, (d, n) in enumerate(step.by_day)
                   if n != (step.by_day[i - 1][1] if i else step.today)]
        if changes:
            out.print(f"{step.table} {step.what}: "
                      + ", ".join(f"{d.isoformat()} → {n}" for d, n in changes))
    if result.kept:
        out.print("\nNever due:")
        for kept in result.kept:
            out.print(f"  {kept['table']}.{kept['column']}: {'; '.join(kept['why'])}")
    if result.not_executable:
        out.print("\nRules in words, not executable (the activity's other rules decide):")
        for entry in result.not_executable:
            out.print(f"  {entry['table']}.{entry['column']}: {'; '.join(entry['rules'])}")
    if result.reviews:
        out.print("\nDue for review (a person decides; never swept):")
        for entry in result.reviews:
            out.print(f"  {entry['table']} ({', '.join(entry['columns'])}) — {entry['activity']}: "
                      f"{entry['rule']}: rows due for review: {entry['due_for_review']}")
    if result.holds.holds:
        out.print("\nLegal holds:")
        for hold in result.holds.to_data():
            rows = ", ".join(f"{t} {n}" for t, n in hold["rows"].items())
            line = f"  #{hold['id']} {hold['scope_kind']} {hold['scope']}: {hold['reason']}"
            line += f" (until {hold['ends_at']})" if hold["ends_at"] else ""
            line += f" — keeps {rows}" if rows else ""
            line += f" — PROBLEM: {hold['problem']}" if hold["problem"] else ""
            out.print(line)


@retention_app.command("sweep")
def sweep(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per batch")] = BATCH_SIZE,
    datasets: DatasetsOption = None,
    today: TodayOption = None,
    quiet: QuietOption = False,
    yes: YesOption = False,
    format: FormatOption = Format.text,
    inline: Annotated[bool, typer.Option("--inline", help="Sweep in this process, not on the workers "
                                         "(PostgreSQL; on SQLite it always does)")] = False,
) -> None:
    """Delete or anonymise what is due, in audited batches; resumes an interrupted sweep.

    On PostgreSQL the sweep is queued for the workers (`garde worker`), split into parts
    that several workers run at once; `--inline` sweeps here instead (docs/jobs.md).

    Each batch is journalled and audited before its change is committed;
    killed at any point, the next sweep resumes the same run: exactly the due
    rows go, nothing else, and no key is journalled twice.

    On a terminal it says how many rows are due and asks first (`--yes` to skip).

    Example: garde retention sweep --batch-size 50000
    """
    from garde.jobs import is_queued  # procrastinate: only when a sweep runs

    if not (dry_run or inline) and is_queued(get_settings().database_url):
        if datasets is not None:
            raise GardeError("--datasets is read where the sweep runs: the workers use their own `datasets` "
                             "setting; sweep here with --inline")
        _queue_sweep(_day(today), batch_size, yes, format)
        return
    store, datamap, engines = _open(datasets)
    if not dry_run and will_ask(yes):
        due = retention.Sweeper(store, datamap, engines, retention.registers_for(datamap)).count(
            _day(today) or date.today())
        confirm(f"{sum(due.values())} rows are due in {len([n for n in due.values() if n])} steps. "
                "Delete or anonymise them now (audited)?", yes)
    if dry_run or not shows_progress(quiet):
        result = retention.sweep(store, datamap, engines, today=_day(today), batch_size=batch_size,
                                 dry_run=dry_run)
    else:
        sweeper = retention.Sweeper(store, datamap, engines, retention.registers_for(datamap))
        total = sum(sweeper.count(_day(today) or date.today()).values())
        with progress("sweeping", total, quiet) as tick:
            result = sweeper.run(today=_day(today), batch_size=batch_size,
                                 progress=lambda table, operation, affected: tick(affected,
                                                                                  f"{operation} {table}"))
    if format is Format.json:
        emit(result.to_data())
        return
    verb = "would affect" if dry_run else "affected"
    out.print(f"run {result.run_id} as of {result.today.isoformat()}"
              + (" (resumed)" if result.resumed else "") + f": {result.total()} rows {verb}"
              + ("" if dry_run else f" in {result.batches} batches"))
    for step, count in result.affected.items():
        if count:
            out.print(f"  {step}: {count}")


def _queue_sweep(today: date | None, batch_size: int, yes: bool, format: Format) -> None:
    if will_ask(yes):
        confirm("Queue a retention sweep for the workers: they delete or anonymise what is due (audited)?",
                yes)
    from garde.jobs import retention as jobs_retention

    store = open_store()
    try:
        queued = jobs.submit(store, jobs_retention.sweep, {"today": today.isoformat() if today else None,
                                                           "batch_size": batch_size})
    finally:
        store.dispose()
    if format is Format.json:
        emit({"job_id": queued.job_id})
    else:
        out.print(f"retention sweep queued as job {queued.job_id}: `garde jobs show {queued.job_id}` "
                  "follows it, `garde retention runs` lists its run")


@retention_app.command("runs")
def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs, newest first")] = 20,
    format: FormatOption = Format.text,
) -> None:
    """Past retention sweeps: when, as of which day, status, rows affected.

    Example: garde retention runs --limit 5
    """
    found = retention.runs(open_store(), limit)
    if format is Format.json:
        emit([r.to_data() for r in found])
        return
    table = Table("run", "as of", "started", "status", "rows", "batches", "resumed")
    for run in found:
        affected = run.summary.get("affected", {})
        status = run.status + (" (dry run)" if run.dry_run else "")
        table.add_row(run.id[:8], run.today.isoformat(), _when(run.started_at), status,
                      str(sum(affected.values())), str(run.summary.get("batches", "")), str(run.resumed))
    out.print(table)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def install(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
