"""What retention will do in the coming weeks, from the plan: a DPO's forecast.

The plan (:func:`garde.retention.plan`) counts, per table and operation, the rows due today and
on each of the next days if nothing is swept in between. The outlook reads it as the rows that
*become* due each week (the growth of that count), per operation, and per step the rows due
today, within 7, 30 and the whole horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from garde.retention.plan import OPERATIONS, Plan, Step

WEEK = 7
HORIZONS = (7, 30)


@dataclass
class StepOutlook:
    step: Step
    #: rows due today, then within each of :data:`HORIZONS` days and the plan's whole horizon
    due: list[int]


@dataclass
class Outlook:
    today: date
    days: int
    weeks: list[date]  # the first day of each week
    #: per operation, the rows becoming due in each week (the first week includes today's backlog)
    by_operation: dict[str, list[int]] = field(default_factory=dict)
    steps: list[StepOutlook] = field(default_factory=list)


def _due_on(step: Step, day: int) -> int:
    """Rows of ``step`` due ``day`` days after the plan's day (0: today)."""
    if day <= 0 or not step.by_day:
        return step.today
    return step.by_day[min(day, len(step.by_day)) - 1][1]


def outlook(plan: Plan) -> Outlook:
    """The plan's steps week by week; steps with nothing due within the horizon are left out."""
    weeks = list(range(0, max(plan.days, 1), WEEK))
    result = Outlook(plan.today, plan.days, [plan.today + timedelta(days=start) for start in weeks])
    for step in plan.steps:
        due = [_due_on(step, 0), *(_due_on(step, h) for h in HORIZONS), _due_on(step, plan.days)]
        if not any(due):
            continue
        result.steps.append(StepOutlook(step, due))
        counts = result.by_operation.setdefault(step.operation, [0] * len(weeks))
        for index, start in enumerate(weeks):
            end = min(start + WEEK - 1, plan.days)
            # rows leaving a step for a later one (an archive purged) are not "becoming due"
            counts[index] += max(0, _due_on(step, end) - (_due_on(step, start - 1) if start else 0))
    result.by_operation = {op: result.by_operation[op] for op in OPERATIONS if op in result.by_operation}
    return result


def forecast(store: Engine, datasets: Path, *, days: int = 90, today: date | None = None) -> Outlook:
    """The outlook of the data map at ``datasets`` for the next ``days`` days (its databases are
    opened for the count, then closed)."""
    from garde.datasets import connect_datamap, load_datamap
    from garde.retention import plan

    datamap = load_datamap(datasets)
    engines = connect_datamap(datamap)
    try:
        return outlook(plan(store, datamap, engines, today=today, days=days))
    finally:
        for engine in engines.values():
            engine.dispose()
