"""What retention will delete or anonymise today and in the next days, and what holds keep.

For each table and operation, one ``COUNT`` per day of the horizon with the
same predicates the sweep runs (so the plan and the sweep cannot disagree),
plus how many rows are due today but kept by a legal hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import sql_table
from garde.retention.holds import Holds
from garde.retention.policy import RetentionPolicy, TablePolicy
from garde.retention.predicate import Predicates

Operation = Literal["delete", "mask"]
OPERATIONS: tuple[Operation, ...] = ("delete", "mask")


@dataclass
class Step:
    """One operation on one table: how many rows it touches today and on each following day."""

    table: str
    operation: Operation
    activities: list[str]
    columns: list[dict[str, Any]]
    today: int
    by_day: list[tuple[date, int]] = field(default_factory=list)
    held: int = 0

    def to_data(self) -> dict[str, Any]:
        return {"table": self.table, "operation": self.operation, "activities": self.activities,
                "today": self.today, "held": self.held,
                "by_day": [{"date": d.isoformat(), "due": n} for d, n in self.by_day],
                "columns": self.columns}


@dataclass
class Plan:
    today: date
    days: int
    steps: list[Step]
    holds: Holds
    kept: list[dict[str, Any]]

    def activities(self) -> dict[str, list[Step]]:
        """Steps per activity whose rules they enforce."""
        out: dict[str, list[Step]] = {}
        for step in self.steps:
            for activity in step.activities:
                out.setdefault(activity, []).append(step)
        return dict(sorted(out.items()))

    def to_data(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "days": self.days,
                "steps": [s.to_data() for s in self.steps],
                "activities": {a: [f"{s.table}:{s.operation}" for s in steps]
                               for a, steps in self.activities().items()},
                "holds": self.holds.to_data(), "kept": self.kept}


def step_predicate(predicates: Predicates, table: TablePolicy, operation: Operation,
                   t: sa.FromClause) -> sa.ColumnElement[bool]:
    if operation == "delete":
        return predicates.delete_due(table, t)
    return predicates.mask_due(table, t)


def make_plan(policy: RetentionPolicy, unheld: RetentionPolicy, engines: Mapping[str, Engine], holds: Holds,
              today: date, days: int = 0) -> Plan:
    """Counts per table and operation for ``today`` and each of the next ``days`` days.

    ``policy`` honours the legal holds, ``unheld`` is the same policy without
    them: the difference is what holds keep today.
    """
    steps: list[Step] = []
    kept: list[dict[str, Any]] = []
    for table in policy:
        for c in table.columns.values():
            if not c.sweepable:
                kept.append({"table": str(table.ref), "column": c.column.name, "why": list(c.blocked)})
            elif c.refused:
                kept.append({"table": str(table.ref), "column": c.column.name,
                             "why": [f"never masked (rows that go are deleted): {c.refused}"]})
        unheld_table = unheld.table(table.ref)
        if not unheld_table.sweepable():
            continue
        engine = engines[table.table.database]
        dialect = engine.dialect.name
        t = sql_table(table.table)
        for operation in OPERATIONS:
            if operation == "delete" and not unheld_table.deletes_rows:
                continue
            if operation == "mask" and not unheld_table.maskable():
                continue
            # One COUNT per day with the predicate in WHERE (not SUM(CASE ...) over the days): only
            # there can the database turn the correlated EXISTS into (anti-)joins.
            conditions = [step_predicate(Predicates(policy, today + timedelta(days=offset), dialect,
                                                    holds.keys), table, operation, t)
                          for offset in range(days + 1)]
            conditions.append(step_predicate(Predicates(unheld, today, dialect), unheld_table, operation, t))
            with engine.connect() as conn:
                counts = [int(conn.execute(sa.select(sa.func.count()).select_from(t).where(c)).scalar_one())
                          for c in conditions]
            columns = [c.to_data() for c in table.columns.values()]
            step = Step(str(table.ref), operation, table.activities(), columns, counts[0],
                        [(today + timedelta(days=i), n) for i, n in enumerate(counts[:-1]) if i > 0],
                        max(0, counts[-1] - counts[0]))
            steps.append(step)
    return Plan(today, days, steps, holds, kept)
