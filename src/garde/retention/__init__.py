"""Retention (DESIGN flow 5, "Forget"): the register's retention rules enforced on the data.

:func:`plan` says what is due today and in the next days, per table and
activity, and what legal holds keep; :func:`sweep` deletes or masks it in
batches, logged before committed and resumable; :func:`runs` lists past
sweeps. ``docs/retention.md`` explains how rules become predicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine

from garde.datasets import DataMap
from garde.problems import GardeError
from garde.register import Register
from garde.retention.journal import Run, list_runs
from garde.retention.plan import Plan, Step, make_plan
from garde.retention.policy import ColumnPolicy, RetentionPolicy, TablePolicy, build_policy, registers_for
from garde.retention.predicate import Predicates, masked_value
from garde.retention.sweep import BATCH_SIZE, Progress, Sweeper, SweepResult


def plan(store: Engine, datamap: DataMap, engines: Mapping[str, Engine], *, today: date | None = None,
         days: int = 0, registers: Mapping[str, Register] | None = None) -> Plan:
    """What is due on ``today`` (default: the current day) and on each of the next ``days`` days."""
    day = today or date.today()
    if days > 0 and day > date.max - timedelta(days=days):  # a forecast past 9999-12-31 (red28: a 500)
        raise GardeError(f"today {day.isoformat()} and the next {days} days go past the calendar's last day "
                         f"({date.max.isoformat()})")
    sweeper = Sweeper(store, datamap, engines, registers or registers_for(datamap))
    holds = sweeper.holds()
    return make_plan(sweeper.policy(holds), sweeper.policy(None), engines, holds, day, days)


def sweep(store: Engine, datamap: DataMap, engines: Mapping[str, Engine], *, today: date | None = None,
          batch_size: int = BATCH_SIZE, dry_run: bool = False, progress: Progress | None = None,
          registers: Mapping[str, Register] | None = None, actor: str = "garde") -> SweepResult:
    """Delete or mask what is due, in batches; resumes the last unfinished sweep if there is one.
    Its audit entries name ``actor``."""
    sweeper = Sweeper(store, datamap, engines, registers or registers_for(datamap), actor=actor)
    return sweeper.run(today=today, batch_size=batch_size, dry_run=dry_run, progress=progress)


def runs(store: Engine, limit: int = 20, *, before: tuple[datetime, str] | None = None) -> list[Run]:
    """Past sweeps, newest first; ``before``: only those started before that run (its
    ``started_at`` and id: a page after it)."""
    with store.connect() as conn:
        return list_runs(conn, limit, before=before)


__all__ = [
    "BATCH_SIZE", "ColumnPolicy", "Plan", "Predicates", "Progress", "RetentionPolicy", "Run", "Step",
    "SweepResult", "Sweeper", "TablePolicy", "build_policy", "masked_value", "plan", "registers_for", "runs",
    "sweep",
]
