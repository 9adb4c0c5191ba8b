"""Periodic jobs: what the workers run on a schedule, each schedule a setting (a cron string, UTC).

procrastinate's periodic tasks do the scheduling: each tick is deferred once however many workers
run (the queue keeps one row per task and tick), so a job never runs twice for the same tick.
Adding a periodic job is one line in :data:`PERIODIC`: its name, the setting that holds its cron
string (empty: off) and ``module:function``, a function of the store engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from garde.problems import GardeError
from garde.settings import Settings


@dataclass(frozen=True)
class Periodic:
    name: str
    setting: str  # the Settings field holding its cron string; empty: not scheduled
    function: str  # "module:function", called with the store engine

    def resolve(self) -> Callable[[Engine], Any]:
        module, _, name = self.function.partition(":")
        found: Callable[[Engine], Any] = getattr(importlib.import_module(module), name)
        return found


PERIODIC: tuple[Periodic, ...] = (
    Periodic("retention.sweep", "retention_sweep_schedule", "garde.jobs.retention:scheduled_sweep"),
    Periodic("requests.remind", "reminder_schedule", "garde.jobs.scheduled:remind_dpo"),
    Periodic("consent.renewals", "consent_renewal_schedule", "garde.jobs.scheduled:renewal_list"),
    Periodic("audit.export_head", "audit_head_schedule", "garde.jobs.scheduled:audit_head"),
    Periodic("jobs.prune", "jobs_cleanup_schedule", "garde.jobs.cleanup:scheduled_prune"),
)


def schedules(settings: Settings) -> list[tuple[Periodic, str]]:
    """The periodic jobs that are on, with their cron strings (checked)."""
    chosen = []
    for periodic in PERIODIC:
        cron = str(getattr(settings, periodic.setting)).strip()
        if not cron:
            continue
        check_cron(periodic.setting, cron)
        chosen.append((periodic, cron))
    return chosen


def check_cron(setting: str, cron: str) -> None:
    # croniter reads procrastinate's cron strings: the same check it makes, before the worker starts
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise GardeError(f"setting {setting} (GARDE_{setting.upper()}): {cron!r} is not a cron string "
                         "(five fields, e.g. '30 2 * * *', or six with seconds)")
