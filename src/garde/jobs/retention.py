"""Retention sweeps as jobs: ``garde retention sweep`` on PostgreSQL and the nightly periodic sweep.

A sweep job reads the data map of the worker's own ``datasets`` setting (a path on the submitting
machine means nothing to a worker elsewhere) and runs the library's sweep, which journals each
batch before committing it: a worker killed mid-sweep leaves a run the next attempt resumes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from garde import retention
from garde.datasets import connect_datamap, load_datamap
from garde.jobs.kinds import job
from garde.settings import get_settings


@job("retention.sweep", queue="retention")
def sweep(store: Engine, today: str | None = None, batch_size: int = retention.BATCH_SIZE) -> dict[str, Any]:
    """The whole sweep of what is due on ``today`` (ISO date; default: the day it runs)."""
    datamap = load_datamap(get_settings().datasets)
    engines = connect_datamap(datamap)
    try:
        result = retention.sweep(store, datamap, engines, today=date.fromisoformat(today) if today else None,
                                 batch_size=batch_size, actor="garde worker")
    finally:
        for engine in engines.values():
            engine.dispose()
    return result.to_data()


def scheduled_sweep(store: Engine) -> dict[str, Any]:
    """The periodic sweep (setting ``retention_sweep_schedule``)."""
    result: dict[str, Any] = sweep(store)
    return result
