"""Retention sweeps as jobs: ``garde retention sweep`` on PostgreSQL and the nightly periodic sweep.

The ``retention.sweep`` job starts the run (or resumes the unfinished one), under the store's
sweep lock, and splits it into independent parts (:mod:`garde.retention.parts`): one
``retention.sweep_part`` job per part but the first, which any worker takes, while the job sweeps the
first part itself (one hand-off through the queue fewer). Each part resumes its steps from the
run's journal (every batch journalled and audited before it is committed), so a worker killed at
any point leaves work the part's next attempt finishes exactly; the part that ends last closes the
run. On SQLite, or ``split=False``, the job is the whole sweep in one go, as ``garde retention
sweep --inline`` runs it.

The jobs read the data map of the worker's own ``datasets`` setting: a path on the submitting
machine means nothing to a worker elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import procrastinate
from sqlalchemy.engine import Engine

from garde import retention
from garde.datasets import connect_datamap, load_datamap
from garde.datasets.freshness import Stamp, kept
from garde.jobs.kinds import job
from garde.jobs.queue import is_queued, worker_url
from garde.jobs.submit import submit_many
from garde.retention import journal
from garde.retention.lock import SweepRunning, coordinator_lock, part_lock
from garde.retention.parts import independent_parts, part_done, plan_parts, run_batches
from garde.retention.sweep import SweepResult, check_batch_size, not_after_today, steps
from garde.settings import get_settings
from garde.store.transactions import retried

ACTOR = "garde worker"


def _open_sweeper(store: Engine) -> retention.Sweeper:
    datamap = load_datamap(get_settings().datasets)
    return retention.Sweeper(store, datamap, connect_datamap(datamap), retention.registers_for(datamap),
                             actor=ACTOR)


# In a ``garde worker`` (:func:`keep_sweepers`): the sweeper of each store and data map, kept between
# jobs with the stamp of the files it was loaded from.
_kept: dict[tuple[str, str], tuple[retention.Sweeper, list[Path], Stamp]] = {}
_keeping = False
_kept_lock = threading.Lock()


def keep_sweepers() -> None:
    """Keep each sweeper (data map, registers, connections to the business databases, the reflected
    column facts) open for the next sweep job of this process: ``garde worker`` calls it at start.

    A split sweep is a coordinator job and one job per part; opening all of that for each job cost
    ≈ 50 – 100 ms and a new server session per database per job. A data map or register file changed
    since (:mod:`garde.datasets.freshness`) opens it again; a business table's columns changed are
    seen once the worker is restarted."""
    global _keeping
    _keeping = True


def kept_sweeper(store: Engine) -> retention.Sweeper:
    """The sweeper a worker keeps for ``store`` and its ``datasets`` setting, opened at the first call
    and again when a file it was loaded from changed."""
    datasets = get_settings().datasets
    key = (worker_url(store.url), str(datasets))
    with _kept_lock:
        return kept(_kept, key, Path(datasets), lambda: _open_sweeper(store))


def close_sweepers() -> None:
    """Stop keeping sweepers, and close those kept (their databases' connections)."""
    global _keeping
    with _kept_lock:
        _keeping = False
        for sweeper, _, _ in _kept.values():
            for engine in sweeper.engines.values():
                engine.dispose()
        _kept.clear()


@contextmanager
def _sweeper(store: Engine) -> Iterator[retention.Sweeper]:
    if _keeping:
        yield kept_sweeper(store)
        return
    sweeper = _open_sweeper(store)
    try:
        yield sweeper
    finally:
        for engine in sweeper.engines.values():
            engine.dispose()


# A part (or a coordinator) whose lock a killed worker's session still holds for a moment, or that a
# whole sweep (`--inline`) holds: tried again a little later, not failed.
WHILE_LOCKED = procrastinate.RetryStrategy(max_attempts=60, wait=2, retry_exceptions={SweepRunning})


@job("retention.sweep", queue="retention", retry=WHILE_LOCKED)
def sweep(store: Engine, today: str | None = None, batch_size: int = retention.BATCH_SIZE,
          split: bool = True) -> dict[str, Any]:
    """Sweep what is due on ``today`` (ISO date; default: the day it runs), split into parts on
    PostgreSQL: the first part swept here, the others queued; returns the run and the other parts' jobs."""
    day = date.fromisoformat(today) if today else None
    check_batch_size(batch_size)
    with _sweeper(store) as sweeper:
        if not split or not is_queued(store.url):
            return sweeper.run(today=day, batch_size=batch_size).to_data()
        not_after_today(day)
        with coordinator_lock(store):  # no other sweep starts or resumes a run meanwhile
            holds = sweeper.holds()
            result = sweeper.start(day, batch_size, False, holds)
            policy = sweeper.policy(holds)
            parts = independent_parts(sweeper.datamap, [table.ref for table, _ in steps(policy)])
            retried(store, lambda conn: plan_parts(conn, result.run_id, parts),
                    what=f"retention run {result.run_id}: its parts")
    if not parts:  # nothing to sweep: close the run here
        with _sweeper(store) as sweeper:
            sweeper.finish(result)
        return {"run": result.run_id, "parts": []}
    # the other parts are queued for any worker; this job sweeps the first itself, saving one hand-off
    # through the queue (a worker killed meanwhile: this job is run again, resumes the run from its
    # journal, queues what is not already waiting and sweeps its part again from where it stopped)
    # together: one insert and one transaction for every part (a resumed run's parts still waiting
    # are left to their waiting jobs: their job ids are None)
    others = parts[1:]
    arguments = [{"run": result.run_id, "tables": part, "batch_size": batch_size} for part in others]
    queued = submit_many(store, sweep_part, arguments,
                         queueing_locks=[f"retention:{result.run_id}:{part[0]}" for part in others],
                         already_queued_ok=True)
    jobs = [each.job_id for each in queued]
    own = _sweep_part(store, result.run_id, parts[0], batch_size)
    return {"run": result.run_id, "parts": parts, "jobs": jobs, "closed": own["closed"]}


@job("retention.sweep_part", queue="retention", retry=WHILE_LOCKED)
def sweep_part(store: Engine, run: str, tables: list[str], batch_size: int = retention.BATCH_SIZE
               ) -> dict[str, Any]:
    """One part of a split sweep: its tables' steps, in order; the last part to end closes the run."""
    check_batch_size(batch_size)
    return _sweep_part(store, run, tables, batch_size)


def _sweep_part(store: Engine, run: str, tables: list[str], batch_size: int) -> dict[str, Any]:
    with _sweeper(store) as sweeper, part_lock(store, run, tables[0]):
        with store.connect() as conn:
            found = journal.get_run(conn, run)
        if found.status != "running":  # closed meanwhile (a later whole sweep finished it)
            return {"run": run, "part": tables[0], "affected": {}, "closed": False}
        result = SweepResult(run, found.today, False, found.resumed > 0)
        holds = sweeper.holds()
        holds.check()
        sweeper.sweep_steps(result, batch_size, holds, None, tables=set(tables))
        last = retried(store, lambda conn: part_done(conn, run, tables[0]),
                       what=f"retention run {run}: its part {tables[0]} done")
        if last:
            with store.connect() as conn:
                result.batches = run_batches(conn, run)  # every part's, for the run's closing entry
            last = sweeper.finish(result)  # False: another part's job closed it meanwhile
    return {"run": run, "part": tables[0], "batches": result.batches, "closed": last}


def scheduled_sweep(store: Engine) -> dict[str, Any]:
    """The periodic sweep (setting ``retention_sweep_schedule``)."""
    result: dict[str, Any] = sweep(store)
    return result
