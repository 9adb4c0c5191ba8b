"""Which retention rules govern each annotated column, and what happens when they expire.

A column is used by the activities its annotation lists. For each of them,
the rules of that activity that apply to the column's category govern it (a
rule with ``categories`` applies to those categories and their sub-categories;
one without applies to every category of the activity). The column is due
only when *every* governing rule has expired: data shared by several
activities stays until the longest rule that still applies, and once the
shorter ones expire it is kept only for the remaining activities.

A column is never due, and the plan says why, when one of its activities has
no rule for its category ("no rule"), when a rule says ``archive`` (moving
data to an intermediate archive is not something a sweep can do), or when an
activity-scope legal hold covers one of its activities.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from garde.datasets import ColumnMap, DataMap, Reference, TableMap, TableRef
from garde.problems import GardeError
from garde.register import Register, load_register
from garde.register.model import RetentionRule

Action = Literal["delete", "anonymise"]


def applies(rule: RetentionRule, category: str) -> bool:
    """Whether ``rule`` governs data of ``category`` (rules without categories govern all)."""
    return not rule.categories or any(category == c or category.startswith(c + ".") for c in rule.categories)


@dataclass(frozen=True)
class Governing:
    """One activity's rule over a column: the column is kept at least until it expires."""

    activity: str
    rule: RetentionRule

    def __str__(self) -> str:
        return f"{self.activity}: {self.rule.rule} ({self.rule.action})"


@dataclass(frozen=True)
class ColumnPolicy:
    """The rules governing one column; ``blocked`` says why it is never due, if it is not."""

    column: ColumnMap
    governing: tuple[Governing, ...] = ()
    blocked: tuple[str, ...] = ()

    @property
    def sweepable(self) -> bool:
        return not self.blocked and bool(self.governing)

    @property
    def action(self) -> Action:
        """``delete`` when every governing rule deletes, else ``anonymise`` (keep what is not identifying)."""
        return "delete" if all(g.rule.action == "delete" for g in self.governing) else "anonymise"

    def to_data(self) -> dict[str, object]:
        return {"column": self.column.name, "category": self.column.category,
                "rules": [{"activity": g.activity, "rule": str(g.rule.rule), "action": g.rule.action}
                          for g in self.governing],
                "action": self.action if self.sweepable else None, "kept_because": list(self.blocked)}


@dataclass
class TablePolicy:
    """The policies of one table's columns, and the table-scope holds covering it."""

    table: TableMap
    columns: dict[str, ColumnPolicy]
    held_by: list[str] = field(default_factory=list)

    @property
    def ref(self) -> TableRef:
        return self.table.ref

    @property
    def deletes_rows(self) -> bool:
        """Whether rows go once every column is due: every column is swept, and by ``delete``."""
        return bool(self.columns) and all(c.sweepable and c.action == "delete" for c in self.columns.values())

    def sweepable(self) -> list[ColumnPolicy]:
        return [c for c in self.columns.values() if c.sweepable]

    def activities(self) -> list[str]:
        return sorted({a for c in self.columns.values() for a in c.column.activities})


@dataclass
class RetentionPolicy:
    """Every personal table's :class:`TablePolicy`, in the map's order."""

    datamap: DataMap
    tables: dict[TableRef, TablePolicy]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tables.values())

    def table(self, ref: TableRef) -> TablePolicy:
        return self.tables[ref]


def registers_for(datamap: DataMap) -> dict[str, Register]:
    """The register each dataset names (``register:`` in its file), by database name."""
    out: dict[str, Register] = {}
    for name, dataset in datamap.datasets.items():
        if dataset.register is None:
            raise GardeError(f"dataset {name!r} names no register: its retention rules are unknown")
        out[name] = load_register(Path(dataset.file).parent / dataset.register)
    return out


def build_policy(datamap: DataMap, registers: Mapping[str, Register], *,
                 held_activities: Mapping[str, str] | None = None,
                 held_tables: Mapping[str, str] | None = None) -> RetentionPolicy:
    """The policy of every table with annotated columns.

    ``held_activities`` and ``held_tables`` map an activity id or a
    ``database.table`` to the reason of the legal hold covering it.
    """
    held_activities = held_activities or {}
    held_tables = held_tables or {}
    tables: dict[TableRef, TablePolicy] = {}
    for table in datamap:
        if not table.columns:
            continue
        register = registers[table.database]
        columns = {c.name: column_policy(datamap, table, c, register, held_activities)
                   for c in table.columns.values()}
        held = [f"legal hold: {held_tables[str(table.ref)]}"] if str(table.ref) in held_tables else []
        tables[table.ref] = TablePolicy(table, columns, held)
    return RetentionPolicy(datamap, tables)


def column_policy(datamap: DataMap, table: TableMap, column: ColumnMap, register: Register,
                  held_activities: Mapping[str, str]) -> ColumnPolicy:
    governing: list[Governing] = []
    blocked: list[str] = []
    if not column.activities:
        blocked.append("no activity uses it")
    for activity_id in column.activities:
        activity = register.activity(activity_id)
        if activity is None:
            blocked.append(f"{activity_id}: not in the register")
            continue
        if activity_id in held_activities:
            blocked.append(f"{activity_id}: legal hold: {held_activities[activity_id]}")
        rules = [r for r in activity.retention if applies(r, column.category)]
        if not rules:
            blocked.append(f"{activity_id}: no rule for {column.category}")
        for rule in rules:
            if rule.action == "archive":
                blocked.append(f"{activity_id}: {rule.rule} then archive (not swept)")
            if event_path(datamap, table, rule.rule.event) is None:
                blocked.append(f"{activity_id}: {rule.rule}: no `{rule.rule.event}` timestamp on "
                               f"{table.ref} nor on a table it references")
            governing.append(Governing(activity_id, rule))
    return ColumnPolicy(column, tuple(governing), tuple(blocked))


def holds_by_scope(holds: Collection[tuple[str, str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """``(activity -> reason, table -> reason)`` from ``(scope_kind, scope, reason)`` triples."""
    activities = {scope: reason for kind, scope, reason in holds if kind == "activity"}
    tables = {scope: reason for kind, scope, reason in holds if kind == "table"}
    return activities, tables


def event_path(datamap: DataMap, table: TableMap, event: str, depth: int = 3) -> tuple[Reference, ...] | None:
    """Where ``table``'s rows find the date of ``event``: () for their own column, else the
    references to follow to the nearest table that has it (an order's ``relationship_end`` is
    its customer's); None when no table within ``depth`` hops has it.
    """
    if table.timestamp(event) is not None:
        return ()
    if depth == 0:
        return None
    tables = datamap.datasets[table.database].tables
    for reference in table.references.values():
        parent = tables.get(reference.target)
        if parent is None or parent is table:
            continue
        rest = event_path(datamap, parent, event, depth - 1)
        if rest is not None:
            return (reference, *rest)
    return None
