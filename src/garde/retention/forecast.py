"""When rows become due in the coming days: the plan's day-by-day counts, from the rows' own dates.

The plan counts what is due today with the sweep's own predicate. For the
next ``N`` days it does not run one ``COUNT`` per day: it fetches only the
rows whose status changes within the window — due by the last day and not
today — with just their event dates (a parent's date through a scalar
subquery), and computes each row's due day in Python with
:meth:`Period.after` (Reg. 1182/71 month ends), which the predicate
inverts exactly. Per table operation that is two statements, whatever ``N``.

A row's day follows the policy's structure (:mod:`.policy`): a limit is
reached on the earliest day of its periods, a column or a row on the latest
day of its limits. A row is deleted once it and every personal child row
pointing at it are due: children are forecast first (deletion order), and a
parent's day is the latest of its own and its window children's (children
outside the window are already due today, or the parent would not be in
it). A row is masked from the day a still-unmasked column is due until the
day it is deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from garde.datasets import TableMap, TableRef, sql_table
from garde.retention.policy import Limit, RetentionPolicy, TablePolicy, event_path
from garde.retention.predicate import Predicates
from garde.retention_rule import RetentionPeriod

#: A row's due day under a rule, per event: None when the event has no date (never due).
Events = Mapping[str, date | None]
#: Per row whose status changes in the window: counted from the first day until the second (None: never).
Spans = list[tuple[date | None, date | None]]


def day_of(value: Any) -> date | None:
    """The calendar day of a DATE, TIMESTAMP or ISO text value (what SQLite returns)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def rule_day(period: RetentionPeriod, event: date | None) -> date | None:
    """The first day ``period`` is due for an event on ``event``."""
    if event is None:
        return None
    return event if period.period is None else period.period.after(event)


def limits_day(limits: tuple[Limit, ...], events: Events) -> date | None:
    """The first day every limit has an expired period (None: never, some date is missing; an event
    absent from ``events`` has no date here, as ``archiving`` on a live table)."""
    latest: date | None = None
    for limit in limits:
        days = [d for d in (rule_day(p, events.get(p.event)) for p in limit) if d is not None]
        if not days:
            return None
        latest = min(days) if latest is None else max(latest, min(days))
    return latest


def by_day(today: date, days: int, base: int, changes: Spans) -> list[int]:
    """Rows counted on each of the next ``days`` days: ``base`` today, plus each row counted
    from its first day (inclusive) until its second (exclusive); None is "never"."""
    def counted(day: date, span: tuple[date | None, date | None]) -> bool:
        start, end = span
        return start is not None and start <= day and (end is None or day < end)

    today_in = sum(counted(today, s) for s in changes)
    out = []
    for offset in range(1, days + 1):
        day = today + timedelta(days=offset)
        out.append(base - today_in + sum(counted(day, s) for s in changes))
    return out


class Forecast:
    """Due days of the rows whose status changes between ``today`` and ``end``, per table."""

    def __init__(self, policy: RetentionPolicy, today: date, end: date, dialect: str,
                 held_keys: Mapping[TableRef, Collection[Any]]) -> None:
        self.policy = policy
        self.now = Predicates(policy, today, dialect, held_keys)
        self.end = Predicates(policy, end, dialect, held_keys)
        #: rows whose delete becomes due in the window: key -> (day, their reference columns' values)
        self.deletes: dict[TableRef, dict[Any, tuple[date, dict[str, Any]]]] = {}

    def _event(self, table: TableMap, t: sa.FromClause, event: str,
               path: tuple[Any, ...]) -> sa.ColumnElement[Any]:
        """The event's date for each row: its column, or the earliest of the referenced rows'
        (what the predicate's ``EXISTS`` over the parents amounts to)."""
        if not path:
            return t.c[table.timestamps[event]]
        reference, rest = path[0], path[1:]
        parent = self.policy.datamap.datasets[table.database].tables[reference.target]
        p = sql_table(parent).alias()
        inner = self._event(parent, p, event, rest)
        return (sa.select(sa.func.min(inner)).where(p.c[reference.target_column] == t.c[reference.column])
                .scalar_subquery())

    def _events(self, table: TableMap, t: sa.FromClause, limits: tuple[Limit, ...]) -> dict[str, Any]:
        events = sorted({p.event for limit in limits for p in limit})
        out = {}
        for event in events:
            path = event_path(self.policy.datamap, table, event)
            if path is not None:
                out[event] = self._event(table, t, event, path)
        return out

    def deletions(self, conn: sa.Connection, table: TablePolicy) -> Spans | None:
        """``(day, None)`` per row whose delete becomes due in the window; None when a child
        table was not forecast first (a reference cycle): count day by day instead."""
        datamap = self.policy.datamap
        children = [(child, reference) for child, reference in datamap.referencing(table.table)
                    if child.ref in self.policy.tables and child.ref != table.ref]
        for child, _ in children:
            if child.ref not in self.deletes:
                child_policy = self.policy.tables[child.ref]
                if child_policy.deletes_rows and not child_policy.held_by:
                    return None
                self.deletes[child.ref] = {}  # its rows are never deleted: they keep their parent
        targets = sorted({reference.target_column for _, reference in children})
        references = sorted(table.table.references)
        t = sql_table(table.table, [*table.table.annotated_columns(), *targets])
        limits = table.row_limits()
        events = self._events(table.table, t, limits)
        pk = t.c[table.table.primary_key]
        query = sa.select(pk, *(t.c[c] for c in targets), *(t.c[c] for c in references), *events.values()) \
            .where(self.end.delete_due(table, t), sa.not_(self.now.delete_due(table, t)))
        # the latest window day of the child rows pointing at each parent value
        latest: dict[tuple[str, Any], date] = {}
        for child, reference in children:
            for day, values in self.deletes[child.ref].values():
                key = (reference.target_column, values[reference.column])
                latest[key] = max(day, latest.get(key, day))
        found: dict[Any, tuple[date, dict[str, Any]]] = {}
        for row in conn.execute(query):
            key, rest = row[0], list(row[1:])
            row_targets, rest = rest[:len(targets)], rest[len(targets):]
            values = dict(zip(references, rest[:len(references)], strict=True))
            dates = dict(zip(events, (day_of(v) for v in rest[len(references):]), strict=True))
            own = limits_day(limits, dates)
            if own is None:
                continue
            pairs = zip(targets, row_targets, strict=True)
            found[key] = (max([own, *(latest[p] for p in pairs if p in latest)]), values)
        self.deletes[table.ref] = found
        return [(day, None) for day, _ in found.values()]

    def maskings(self, conn: sa.Connection, table: TablePolicy) -> Spans | None:
        """``(from, until)`` per row whose mask status changes in the window: masked from the day a
        still-unmasked column is due until the day the row is deleted; None as for :meth:`deletions`."""
        if table.deletes_rows and table.ref not in self.deletes:
            return None
        columns = table.maskable()
        if not columns or table.held_by:
            return []  # held: nothing is masked today nor later
        t = sql_table(table.table)
        now, end = self.now, self.end

        def due_unmasked(predicates: Predicates) -> sa.ColumnElement[bool]:
            return sa.or_(*(sa.and_(predicates.column_due(table, c, t), now.unmasked(table, c, t))
                            for c in columns))

        deleted_end, deleted_now = end.delete_due(table, t), now.delete_due(table, t)
        changes = sa.or_(sa.not_(due_unmasked(now)), sa.and_(deleted_end, sa.not_(deleted_now)))
        limits = tuple(limit for c in columns for limit in c.limits())
        events = self._events(table.table, t, limits)
        flags = [sa.case((now.unmasked(table, c, t), 1), else_=0) for c in columns]
        query = sa.select(t.c[table.table.primary_key], *flags, *events.values()) \
            .where(now.not_held(table.table, t), due_unmasked(end), changes)
        deleted = self.deletes.get(table.ref, {})
        out: Spans = []
        for row in conn.execute(query):
            unmasked = row[1:1 + len(columns)]
            dates = dict(zip(events, (day_of(v) for v in row[1 + len(columns):]), strict=True))
            days = [limits_day(c.limits(), dates) for c, flag in zip(columns, unmasked, strict=True) if flag]
            first = min((d for d in days if d is not None), default=None)
            gone = deleted.get(row[0])
            out.append((first, gone[0] if gone else None))
        return out
