"""Retention rules as SQL predicates (SQLAlchemy Core), evaluated against one day.

``<period> after <event>`` is due on ``today`` when ``event + period <= today``,
which :meth:`Period.before` turns, exactly, into ``event <= period.before(today)``
(months and years end per Reg. 1182/71). Comparing with the *next* day,
``event < period.before(today) + 1 day``, makes the same predicate right for
``DATE`` and ``TIMESTAMP`` columns, and for ISO text on SQLite. ``until
<event>`` is due once the event's column is set and not in the future. A
missing date is never due: nothing can be proven expired. A column is due when each activity using
it has one of its rules expired: an ``AND`` over activities of an ``OR`` over
each activity's rules (:meth:`ColumnPolicy.limits`).

Per table two operations come out of the rules:

- **delete** — every annotated column is due, every governing rule deletes,
  no legal hold covers the row, and no row of a personal child table that
  stays still references it (children go first, so a parent kept by an
  invoice keeps its row, and only its expired columns are masked);
- **mask** — a column is due, its value is not already masked, and the row
  is not deleted: the column takes its masked value (the column's ``erase``
  strategy, ``null`` where that says ``delete``). Every masked value is a
  fixed point of its masking, so "already masked" is ``value = mask(value)``
  and applying a batch twice changes nothing.

- **archive** — (a table whose rules archive, :mod:`garde.retention.archive`)
  every column has reached its archiving limit, none its final one (those
  rows are deleted), no legal hold covers the row, and no row of another
  table points at it: the row moves to the archive table.

Predicates are built against a FROM clause given by the caller (the target
table of a statement, or a fresh alias inside a correlated ``EXISTS``), so
they can be nested without ambiguity.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from garde.datasets import Masking, TableMap, TableRef, sql_table
from garde.datasets.sql import is_masked, masked_once
from garde.retention.columns import PLACEHOLDER
from garde.retention.policy import ColumnPolicy, Limit, RetentionPolicy, TablePolicy, event_path
from garde.retention_rule import RetentionPeriod

Clause = sa.FromClause
Condition = sa.ColumnElement[bool]
#: Prefix of hashed values: a hashed value is recognisable, so it is never hashed twice.


def bound(period: RetentionPeriod, today: date) -> date:
    """Events strictly before this day make ``period`` due on ``today``. Near the calendar's ends
    (a ``today`` asked for in year 1 or 9999) the day is clamped: nothing is older than year 1."""
    try:
        last = today if period.period is None else period.period.before(today)
    except (ValueError, OverflowError):  # the period reaches before year 1: nothing is that old
        return date.min
    return last + timedelta(days=1) if last < date.max else date.max


def masked_value(masking: Masking, column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """The value a column takes when its retention expires; masking it again is a no-op."""
    return masked_once(masking, column, dialect)


def unmasked(masking: Masking, column: sa.ColumnElement[Any], dialect: str) -> Condition:
    """The column still holds something its masking would change (NULL holds nothing)."""
    return sa.not_(is_masked(masking, column, dialect))


class Predicates:
    """The due predicates of a policy on ``today``, minus what legal holds keep.

    ``held_keys`` are the primary keys subject-scope holds keep, per table.
    """

    def __init__(self, policy: RetentionPolicy, today: date, dialect: str,
                 held_keys: Mapping[TableRef, Collection[Any]] | None = None) -> None:
        self.policy = policy
        self.today = today
        self.dialect = dialect
        self.held_keys = held_keys or {}

    def alias(self, table: TableMap) -> Clause:
        return sql_table(table).alias()

    # -- one rule ---------------------------------------------------------------------------------------

    def rule_due(self, period: RetentionPeriod, table: TableMap, t: Clause) -> Condition:
        path = event_path(self.policy.datamap, table, period.event)
        if path is None:
            return sa.false()
        limit = sa.literal(bound(period, self.today), sa.Date)
        return self._event_before(table, t, period.event, path, limit)

    def _event_before(self, table: TableMap, t: Clause, event: str, path: tuple[Any, ...],
                      limit: sa.ColumnElement[Any]) -> Condition:
        if not path:
            column = t.c[table.timestamps[event]]
            return sa.and_(column.is_not(None), column < limit)
        reference, rest = path[0], path[1:]
        parent = self.policy.datamap.datasets[table.database].tables[reference.target]
        p = self.alias(parent)
        return sa.exists().where(p.c[reference.target_column] == t.c[reference.column],
                                 self._event_before(parent, p, event, rest, limit))

    # -- columns and rows -------------------------------------------------------------------------------

    def limits_due(self, limits: tuple[Limit, ...], table: TableMap, t: Clause) -> Condition:
        """Each limit has an expired period: ``AND`` over limits of ``OR`` over their periods."""
        return sa.and_(*(sa.or_(*(self.rule_due(p, table, t) for p in limit)) for limit in limits))

    def column_due(self, table: TablePolicy, column: ColumnPolicy, t: Clause) -> Condition:
        """Every activity using the column has one of its rules expired (see :mod:`.policy`)."""
        if not column.sweepable or table.held_by:
            return sa.false()
        return self.limits_due(column.limits(), table.table, t)

    def row_due(self, table: TablePolicy, t: Clause) -> Condition:
        if not table.deletes_rows or table.held_by:
            return sa.false()
        return self.limits_due(table.row_limits(), table.table, t)

    def not_held(self, table: TableMap, t: Clause) -> Condition:
        keys = self.held_keys.get(table.ref)
        return t.c[table.primary_key].not_in(sorted(keys)) if keys else sa.true()

    def delete_due(self, table: TablePolicy, t: Clause, path: frozenset[TableRef] = frozenset()) -> Condition:
        """Rows to delete: due, not held, and no personal child row that stays points at them."""
        if not table.deletes_rows or table.held_by:
            return sa.false()
        parts = [self.row_due(table, t), self.not_held(table.table, t)]
        for child, reference in self.policy.datamap.referencing(table.table):
            child_policy = self.policy.tables.get(child.ref)
            if child_policy is None:
                continue  # rows without personal data go with their parent (see cascades())
            c = self.alias(child)
            stays: Condition = sa.true()
            if child.ref not in path and child.ref != table.ref:
                stays = sa.not_(self.delete_due(child_policy, c, path | {table.ref}))
            parts.append(sa.not_(sa.exists().where(c.c[reference.column] == t.c[reference.target_column],
                                                   stays)))
        return sa.and_(*parts)

    def archive_due(self, table: TablePolicy, t: Clause) -> Condition:
        """Rows to move to the archive: past their archiving limits, not their final ones, not held,
        and no row of another table points at them (a personal one that stays, or any other)."""
        if not table.archives_rows or table.held_by:
            return sa.false()
        parts = [self.limits_due(table.archive_limits(), table.table, t), sa.not_(self.row_due(table, t)),
                 self.not_held(table.table, t)]
        for child, reference in self.policy.datamap.referencing(table.table):
            child_policy = self.policy.tables.get(child.ref)
            c = self.alias(child)
            stays = sa.true() if child_policy is None else sa.not_(self.delete_due(child_policy, c))
            parts.append(sa.not_(sa.exists().where(c.c[reference.column] == t.c[reference.target_column],
                                                   stays)))
        return sa.and_(*parts)

    def masked(self, table: TablePolicy, column: ColumnPolicy, t: Clause) -> sa.ColumnElement[Any]:
        """The value ``column`` takes: its masking's, or for a NOT NULL text column the row's placeholder."""
        if column.placeholder:
            prefix = PLACEHOLDER.format(table=table.ref, key="")
            return sa.literal(prefix) + sa.cast(t.c[table.table.primary_key], sa.Text)
        return masked_value(column.column.erase, t.c[column.column.name], self.dialect)

    def unmasked(self, table: TablePolicy, column: ColumnPolicy, t: Clause) -> Condition:
        """The column still holds something its mask would change (NULL holds nothing)."""
        value = t.c[column.column.name]
        if column.placeholder:
            return sa.and_(value.is_not(None), value != self.masked(table, column, t))
        return unmasked(column.column.erase, value, self.dialect)

    def shared_due(self, table: TablePolicy, t: Clause) -> Condition | None:
        """When every maskable column falls due under the same limits (one rule over the table, the
        usual case), that one condition: the statements then test it once per row, not per column."""
        columns = table.maskable()
        if not columns or table.held_by or len({c.limits() for c in columns}) != 1:
            return None
        return self.column_due(table, columns[0], t)

    def mask_due(self, table: TablePolicy, t: Clause) -> Condition:
        """Rows with a due column still unmasked, that are not deleted."""
        columns = table.maskable()
        if not columns or table.held_by:
            return sa.false()
        shared = self.shared_due(table, t)
        if shared is not None:
            due = sa.and_(shared, sa.or_(*(self.unmasked(table, c, t) for c in columns)))
        else:
            due = sa.or_(*(sa.and_(self.column_due(table, c, t), self.unmasked(table, c, t))
                           for c in columns))
        return sa.and_(due, self.not_held(table.table, t), sa.not_(self.delete_due(table, t)),
                       sa.not_(self.archive_due(table, t)))

    def mask_values(self, table: TablePolicy, t: Clause) -> dict[str, sa.ColumnElement[Any]]:
        """``SET`` clauses: each due column takes its masked value, the others keep theirs (with a
        shared due condition, every column of a row :meth:`mask_due` selects is due)."""
        shared = self.shared_due(table, t) is not None
        out: dict[str, sa.ColumnElement[Any]] = {}
        for c in table.maskable():
            masked = self.masked(table, c, t)
            out[c.column.name] = masked if shared else sa.case((self.column_due(table, c, t), masked),
                                                              else_=t.c[c.column.name])
        return out

    def cascades(self, table: TablePolicy) -> list[tuple[TableMap, str, str]]:
        """Child tables without personal data deleted with their parent: (child, column, parent column)."""
        children = self.policy.datamap.referencing(table.table)
        return [(child, r.column, r.target_column) for child, r in children
                if child.ref not in self.policy.tables and child.ref != table.ref]
