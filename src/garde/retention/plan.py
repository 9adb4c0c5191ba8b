"""What retention will delete or anonymise today and in the next days, and what holds keep.

For each table and operation: one ``COUNT`` with the predicate the sweep
runs today (so the plan and the sweep cannot disagree), one fetch of the
rows whose status changes in the next days, dated in Python
(:mod:`.forecast`), and, when legal holds are in force, one ``COUNT``
without them: the difference is what they keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import TableRef, sql_table
from garde.retention.forecast import Forecast, by_day
from garde.retention.holds import Holds
from garde.retention.policy import RetentionPolicy, TablePolicy, in_words
from garde.retention.predicate import Predicates
from garde.retention.review import due_for_review

Operation = Literal["archive", "delete", "mask"]
#: A sweep's operations in order: rows move to archives, then rows go (children first), then columns.
OPERATIONS: tuple[Operation, ...] = ("archive", "delete", "mask")


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
    #: for an ``archive`` step, the archive table the rows move to; for a ``delete`` on an archive
    #: table (a purge at the archive's end), the live table it archives
    archive: str | None = None
    archive_of: str | None = None

    @property
    def what(self) -> str:
        """The step in words: ``archive to shop.invoices_archive``, ``purge from archive``, ``delete``,
        ``mask``."""
        if self.operation == "archive":
            return f"archive to {self.archive}"
        return "purge from archive" if self.archive_of and self.operation == "delete" else self.operation

    def to_data(self) -> dict[str, Any]:
        extra = {k: v for k, v in (("archive", self.archive), ("archive_of", self.archive_of)) if v}
        return {"table": self.table, "operation": self.operation, **extra, "activities": self.activities,
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
    #: rows whose ``review`` rule has ended: a person decides, the sweep never does (:mod:`.review`)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    #: rules in words beside rules the sweep evaluates ("first reached": those decide)
    not_executable: list[dict[str, Any]] = field(default_factory=list)

    def activities(self) -> dict[str, list[Step]]:
        """Steps per activity whose rules they enforce."""
        out: dict[str, list[Step]] = {}
        for step in self.steps:
            for activity in step.activities:
                out.setdefault(activity, []).append(step)
        return dict(sorted(out.items()))

    def to_data(self, digest_key: bytes | None = None) -> dict[str, Any]:
        """The plan as data; ``digest_key``: subject holds named by their digest (:meth:`Holds.to_data`)."""
        return {"today": self.today.isoformat(), "days": self.days,
                "steps": [s.to_data() for s in self.steps],
                "activities": {a: [f"{s.table}:{s.operation}" for s in steps]
                               for a, steps in self.activities().items()},
                "holds": self.holds.to_data(digest_key), "kept": self.kept, "due_for_review": self.reviews,
                "not_executable": self.not_executable}


def step_predicate(predicates: Predicates, table: TablePolicy, operation: Operation,
                   t: sa.FromClause) -> sa.ColumnElement[bool]:
    if operation == "delete":
        return predicates.delete_due(table, t)
    if operation == "archive":
        return predicates.archive_due(table, t)
    return predicates.mask_due(table, t)


def count(conn: sa.Connection, predicates: Predicates, table: TablePolicy, operation: Operation) -> int:
    t = sql_table(table.table)
    query = sa.select(sa.func.count()).select_from(t).where(step_predicate(predicates, table, operation, t))
    return int(conn.execute(query).scalar_one())


def count_day_by_day(conn: sa.Connection, policy: RetentionPolicy, table: TablePolicy, operation: Operation,
                     today: date, days: int, dialect: str, held_keys: Mapping[TableRef, Any]) -> list[int]:
    """One ``COUNT`` per day: the slow way, for reference cycles (and as the tests' oracle)."""
    return [count(conn, Predicates(policy, today + timedelta(days=n), dialect, held_keys), table, operation)
            for n in range(1, days + 1)]


def make_plan(policy: RetentionPolicy, unheld: RetentionPolicy, engines: Mapping[str, Engine], holds: Holds,
              today: date, days: int = 0) -> Plan:
    """Counts per table and operation for ``today`` and each of the next ``days`` days.

    ``policy`` honours the legal holds, ``unheld`` is the same policy without
    them: the difference is what holds keep today.
    """
    kept: list[dict[str, Any]] = []
    for table in policy:
        for c in table.columns.values():
            if not c.sweepable:
                kept.append({"table": str(table.ref), "column": c.column.name, "why": list(c.blocked)})
            elif c.refused:
                kept.append({"table": str(table.ref), "column": c.column.name,
                             "why": [f"never masked (rows that go are deleted): {c.refused}"]})
    wanted = {(table.ref, operation) for table in policy for operation in OPERATIONS
              if planned(unheld, unheld.table(table.ref), operation)}
    # deletes children first: a parent's day depends on its children's
    order = [(ref, op) for op in OPERATIONS for ref in policy.datamap.deletion_order() if (ref, op) in wanted]
    steps: dict[tuple[TableRef, Operation], Step] = {}
    forecasts: dict[str, Forecast] = {}
    connections = {name: engine.connect() for name, engine in engines.items()}
    try:
        for ref, operation in order:
            table = policy.table(ref)
            conn = connections[ref.database]
            dialect = conn.dialect.name
            now = count(conn, Predicates(policy, today, dialect, holds.keys), table, operation)
            held = 0
            if holds.holds:
                without = count(conn, Predicates(unheld, today, dialect), unheld.table(ref), operation)
                held = max(0, without - now)
            later: list[int] = []
            if days:
                forecast = forecasts.setdefault(ref.database, Forecast(
                    policy, today, today + timedelta(days=days), dialect, holds.keys))
                # rows archived: one COUNT per day (archives are few tables, and rarely large today)
                changes = (None if operation == "archive" or (operation == "mask" and table.archives_rows)
                           else forecast.deletions(conn, table)
                           if operation == "delete" else forecast.maskings(conn, table))
                later = (by_day(today, days, now, changes) if changes is not None else
                         count_day_by_day(conn, policy, table, operation, today, days, dialect, holds.keys))
            archive = table.table.archive
            steps[(ref, operation)] = Step(
                str(ref), operation, table.activities(), [c.to_data() for c in table.columns.values()], now,
                [(today + timedelta(days=i + 1), n) for i, n in enumerate(later)], held,
                f"{ref.database}.{archive.table}" if archive is not None and operation == "archive" else None,
                f"{ref.database}.{table.table.archive_of}" if table.table.archive_of else None)
        reviews = due_for_review(policy, connections, today, holds.keys)
    finally:
        for conn in connections.values():
            conn.close()
    ordered = [steps[(t.ref, op)] for t in policy for op in OPERATIONS if (t.ref, op) in steps]
    return Plan(today, days, ordered, holds, kept, reviews, not_executable(policy))


def not_executable(policy: RetentionPolicy) -> list[dict[str, Any]]:
    """Rules in words over columns the sweep still governs by the activities' other rules."""
    return [{"table": str(table.ref), "column": c.column.name,
             "rules": [f"{g}: not executable: {in_words(g.rule)}" for g in c.in_words]}
            for table in policy for c in table.columns.values() if c.sweepable and c.in_words]


def planned(policy: RetentionPolicy, table: TablePolicy, operation: Operation) -> bool:
    """Whether a step can ever touch rows (judged without holds, so the plan shows what they keep)."""
    if not table.sweepable():
        return False
    if operation == "archive":
        return table.archives_rows
    return table.deletes_rows if operation == "delete" else policy.masks(table)
