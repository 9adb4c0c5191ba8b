"""Intermediate archiving: due rows move from a live table to its archive table, then go at its end.

A register rule ``3 years after invoice_date`` with ``action: archive`` and
``archive: {until: 10 years after invoice_date}`` gives the table two limits
(:mod:`.policy`): past the first, a sweep's ``archive`` step moves the row to
the archive table the data map names (``archive:`` on the table,
:mod:`garde.datasets.archive`); past the second, the archive table's
``delete`` step purges it (and a row still in the live table then, kept by a
hold in the meantime, is deleted there).

A move is one transaction of the business database per batch, journalled and
audited in the store before it commits (:mod:`.sweep`), like every batch:

- PostgreSQL: one statement, ``WITH moved AS (DELETE FROM live WHERE <batch>
  AND <due> RETURNING *), copied AS (INSERT INTO archive SELECT *,
  :archived_at FROM moved RETURNING pk) SELECT count(*) FROM copied``: the
  rows deleted are exactly the rows inserted;
- SQLite: ``INSERT INTO archive SELECT ... WHERE <batch> AND <due>`` then
  ``DELETE FROM live WHERE <batch> AND <due>``, in one transaction that holds
  SQLite's write lock from the first statement, so no other writer changes
  the rows in between. The two counts are compared all the same: if they
  differ, the transaction rolls back and the batch stays pending.

Applying a batch again changes nothing: moved rows are no longer in the live
table. A row whose key is already in the archive makes the database refuse
the batch (the archive's primary key): nothing is lost, the sweep stops and
says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from garde.datasets import DataMap, TableMap, sql_table
from garde.problems import GardeError
from garde.register import Register
from garde.retention.forecast import day_of, limits_day
from garde.retention.policy import Limit, TablePolicy, column_policy, minimal_limits
from garde.retention.predicate import Predicates

__all__ = ["archive_limits_of", "archive_of", "archived_until", "live_columns", "move_batch", "whole_table"]


def archive_of(predicates: Predicates, table: TablePolicy) -> TableMap:
    """The archive table's annotations (derived by the data map's loader from the live table's)."""
    archive = table.table.archive
    if archive is None:
        raise GardeError(f"{table.ref} names no archive table")
    return predicates.policy.datamap.datasets[table.ref.database].tables[archive.table]


def live_columns(business: sa.Connection, table: TableMap) -> list[str]:
    """Every column of the live table, as the database has it: an archived row is copied whole."""
    columns = [c["name"] for c in sa.inspect(business).get_columns(table.name)]
    if not columns:
        raise GardeError(f"database {table.database!r} has no table {table.name!r}")
    return columns


def archived_at() -> datetime:
    """When a batch is archived: naive UTC, as the reference shop's timestamps are."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def move_batch(business: sa.Connection, predicates: Predicates, table: TablePolicy,
               batch: sa.ColumnElement[bool], t: sa.TableClause) -> int:
    """Move the due rows of ``batch`` (a condition on ``t``, the live table with every column) to the
    archive table, in the caller's transaction; returns how many moved."""
    archive = archive_of(predicates, table)
    names = [c.name for c in t.columns]
    stamp = table.table.archive.archived_at if table.table.archive else "archived_at"
    target = sql_table(archive, [*names, stamp])
    due = predicates.archive_due(table, t)
    when = sa.literal(archived_at(), sa.DateTime)
    if business.dialect.name == "postgresql":
        moved = sa.delete(t).where(batch, due).returning(*(t.c[n] for n in names)).cte("moved")
        rows = sa.select(*(moved.c[n] for n in names), when)
        copied = (sa.insert(target).from_select([*names, stamp], rows)
                  .returning(target.c[table.table.primary_key]).cte("copied"))
        return int(business.execute(sa.select(sa.func.count()).select_from(copied)).scalar_one())
    inserted = business.execute(sa.insert(target).from_select(
        [*names, stamp], sa.select(*(t.c[n] for n in names), when).where(batch, due))).rowcount
    deleted = business.execute(sa.delete(t).where(batch, due)).rowcount
    if inserted != deleted:
        raise GardeError(f"{table.ref}: archiving copied {inserted} rows to {archive.name} but would delete "
                         f"{deleted}; the batch was rolled back and stays pending: run the sweep again")
    return int(deleted)


def whole_table(business: sa.Connection, table: TablePolicy) -> sa.TableClause:
    """The live table with every column its database has (what an archived row copies)."""
    return sql_table(table.table, [*table.table.annotated_columns(), *live_columns(business, table.table)])


def archive_limits_of(datamap: DataMap, register: Register, table: TableMap) -> tuple[Limit, ...] | None:
    """When rows of archive table ``table`` are purged, as the sweep decides (None: never, some
    column is kept: no rule, no end, an activity the register lacks)."""
    columns = [column_policy(datamap, table, c, register, {}) for c in table.columns.values()]
    if not columns or not all(c.sweepable for c in columns):
        return None
    return minimal_limits(limit for c in columns for limit in c.limits())


def archived_until(table: TableMap, limits: tuple[Limit, ...] | None, row: Mapping[str, Any]) -> date | None:
    """The day an archived ``row`` is purged: the first day its every limit has an expired period,
    from the row's own dates (None: never, or a date it takes from another table)."""
    if limits is None:
        return None
    events: dict[str, date | None] = {}
    for limit in limits:
        for period in limit:
            column = table.timestamp(period.event)
            if column is None:
                return None
            events[period.event] = day_of(row.get(column))
    return limits_day(limits, events)
