"""Bulk inserts and look-ups straight to the driver, for the engine's hot paths.

SQLAlchemy's ``conn.execute(table.insert(), [dict, ...])`` builds and
processes every row's parameters in Python; for tens of thousands of rows
that costs as much as the database's own work. :func:`insert_rows` writes
the INSERT once per table, columns and dialect (with the driver's own
positional marks, so rows go as they are), converts only the columns
whose type needs it on this dialect (date-times on SQLite), using each
type's public ``bind_processor``, and hands plain tuples to the driver.
:func:`rows_where_in` does the same for ``WHERE key IN (...)`` look-ups of
thousands of keys, which SQLAlchemy would expand and bind one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

# (table, columns, dialect) -> (the INSERT's SQL, each column's converter or None)
_Plan = tuple[str, "tuple[Callable[[Any], Any] | None, ...]"]
_PLANS: dict[tuple[str, tuple[str, ...], str], _Plan] = {}


def _mark(conn: sa.Connection) -> str:
    """The driver's positional parameter mark: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_plan(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...]) -> _Plan:
    """The INSERT of ``columns`` of ``table`` in the driver's own SQL, and each column's converter
    on this dialect (None where the driver takes the value as it is)."""
    return _plan(conn, table, columns)


def _plan(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...]) -> _Plan:
    key = (table.name, columns, conn.dialect.name)
    plan = _PLANS.get(key)
    if plan is None:
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[c].name) for c in columns)}) "
               f"VALUES ({', '.join([_mark(conn)] * len(columns))})")
        converters = tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                           for name in columns)
        plan = _PLANS[key] = (sql, converters)
    return plan


def insert_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (one value per name in ``columns``, in that order) with one ``executemany``."""
    if not rows:
        return
    sql, converters = _plan(conn, table, tuple(columns))
    if any(converters):
        conn.exec_driver_sql(sql, _converted(rows, converters))
    else:
        conn.exec_driver_sql(sql, [row if type(row) is tuple else tuple(row) for row in rows])


def _converted(rows: Sequence[Sequence[Any]],
               converters: tuple[Callable[[Any], Any] | None, ...]) -> list[tuple[Any, ...]]:
    """The rows with the columns that need it converted; a batch's repeated values (a timestamp
    shared by every row) are converted once. Equal date-times of different zones are kept apart:
    SQLite's converter writes the wall-clock time."""
    columns: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (index, convert, {}) for index, convert in enumerate(converters) if convert is not None]
    converted = []
    for row in rows:
        values = list(row)
        for index, convert, seen in columns:
            value = values[index]
            if value is not None:
                key = (value, getattr(value, "tzinfo", None))
                done = seen.get(key)
                if done is None:
                    done = seen[key] = convert(value)
                values[index] = done
        converted.append(tuple(values))
    return converted


_IN_CHUNK = 10_000  # well under SQLite's (32,766) and PostgreSQL's (65,535) bound parameters


def rows_where_in(conn: sa.Connection, table: sa.Table, columns: Sequence[str], key: str,
                  values: Sequence[Any], **equal: Any) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE <name = value for equal> AND key IN (values)``, for text
    and integer columns (values are not converted)."""
    quote, mark = conn.dialect.identifier_preparer.quote, _mark(conn)
    head = (f"SELECT {', '.join(quote(table.c[c].name) for c in columns)} FROM {quote(table.name)} "
            f"WHERE {''.join(f'{quote(table.c[name].name)} = {mark} AND ' for name in equal)}"
            f"{quote(table.c[key].name)} IN ")
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = tuple(values[start:start + _IN_CHUNK])
        sql = f"{head}({', '.join([mark] * len(chunk))})"
        found.extend(tuple(row) for row in conn.exec_driver_sql(sql, (*equal.values(), *chunk)).all())
    return found
