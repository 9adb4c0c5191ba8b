"""The data map against the live databases: does every mask fit the column it writes?

Erasure and retention write each column's mask (``erase:``) into the
business database. SQLite stores whatever it is given; PostgreSQL refuses a
value longer than ``VARCHAR(n)``, a NULL in a NOT NULL column, text in a
number. Such a refusal in the middle of an erasure used to leave the request
``in_progress`` for ever, so the map is checked against the real schema
(SQLAlchemy's inspector, any database) before anything is written:

- ``hash`` writes 64 hexadecimal characters: a text column of 64 or more;
- ``fixed`` and ``anonymise`` with a ``value`` write that value: it must fit
  the column's type and length (``anonymise`` without one writes
  ``anonymised``); ``keep`` cuts text (a text column); ``generalise``
  truncates a date (a date or timestamp column);
- ``null`` (and ``delete`` on a row that may stay, because another table
  points at it or one of its columns is masked rather than deleted) writes
  NULL; a NOT NULL text column takes the per-row placeholder
  ``erased:<database>.<table>:<key>`` (it must fit); a NOT NULL column of
  another type has no neutral value;
- every column the map names exists, and every table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets.model import DataMap, Masking, TableMap, TableRef
from garde.datasets.sql import ANONYMISED, connect_dataset
from garde.problems import InputError, Problem
from garde.yamlsource import FieldPath, SourceMap, load_yaml

HASH_LENGTH = 64  # a SHA-256 in hexadecimal
#: The placeholder's fixed part, ``erased:`` (retention writes ``expired:``, as long).
PLACEHOLDER_PREFIX = len("erased:")


@dataclass(frozen=True)
class ColumnType:
    """What the database says about one column."""

    kind: str  # text, integer, number, boolean, date, datetime, other
    length: int | None  # of a text column; None: unlimited
    nullable: bool
    sql: str  # as the database names it, for messages

    @property
    def text(self) -> bool:
        return self.kind == "text"


def column_type(info: Mapping[str, Any]) -> ColumnType:
    """A reflected column (``Inspector.get_columns()``) as a :class:`ColumnType`."""
    kind_of = info["type"]
    kind = "other"
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "text")):
        try:
            if issubclass(kind_of.python_type, python):
                kind = name
                break
        except NotImplementedError:
            break
    if isinstance(kind_of, sa.Numeric) and not isinstance(kind_of, sa.Integer):
        kind = "number"
    if isinstance(kind_of, sa.DateTime):
        kind = "datetime"
    elif isinstance(kind_of, sa.Date):
        kind = "date"
    length = getattr(kind_of, "length", None) if kind == "text" else None
    try:
        sql = str(kind_of)
    except Exception:  # a dialect-specific type without a generic spelling
        sql = type(kind_of).__name__
    return ColumnType(kind, length, bool(info.get("nullable", True)), sql)


@lru_cache(maxsize=256)
def reflect_table(engine: Engine, table: str) -> dict[str, ColumnType] | None:
    """``{column: ColumnType}`` of ``table`` (once per table and engine), None if there is no such table."""
    try:
        columns = sa.inspect(engine).get_columns(table)
    except sa.exc.NoSuchTableError:
        return None
    return {str(info["name"]): column_type(info) for info in columns}


def key_length(key: ColumnType | None) -> int:
    """The longest text a primary key can take (a 32-bit integer: 11 characters with its sign)."""
    if key is None or key.kind == "integer":
        return 20 if key is not None and "BIG" in key.sql.upper() else 11
    return key.length or 36


def placeholder_length(table: TableMap, key: ColumnType | None) -> int:
    """Length of ``erased:<database>.<table>:<key>`` at its longest."""
    return PLACEHOLDER_PREFIX + len(f"{table.database}.{table.name}:") + key_length(key)


def may_stay(datamap: DataMap, table: TableMap) -> bool:
    """Whether a row of ``table`` may stay after erasure or retention, its columns masked.

    It does when another table points at it (a kept child pins it) or when
    one of its columns is masked rather than deleted.
    """
    return bool(datamap.referencing(table)) or not table.deletes_rows() or any(
        c.erase.strategy != "delete" for c in table.columns.values())


def _writes(value: Any, column: ColumnType) -> str | None:
    """Why writing the literal ``value`` into ``column`` fails, or None."""
    if value is None:
        return None if column.nullable else f"writes NULL but the column is {column.sql} NOT NULL"
    if isinstance(value, bool):
        ok = column.kind in ("boolean", "integer")
    elif isinstance(value, int | float):
        ok = column.kind in ("integer", "number") or (column.text and _fits(str(value), column))
    elif isinstance(value, date):
        ok = column.kind in ("date", "datetime")
    elif column.kind in ("date", "datetime"):
        ok = _iso_date(str(value))
    else:
        ok = column.text
    if not ok:
        return f"writes {value!r} but the column is {column.sql}"
    if column.text and not _fits(str(value), column):
        return f"writes {str(value)!r} ({len(str(value))} characters) but the column is {column.sql}"
    return None


def _fits(text: str, column: ColumnType) -> bool:
    return column.length is None or len(text) <= column.length


def _iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def mask_problem(masking: Masking, column: ColumnType, *, stays: bool = True,
                 placeholder: int = 0) -> str | None:
    """Why ``masking`` cannot be written into ``column``, or None when it fits.

    ``stays``: a row with this column may stay (else ``delete`` only drops
    rows); ``placeholder``: the length of the NOT NULL text placeholder.
    """
    strategy = masking.strategy
    if strategy == "delete" and not stays:
        return None
    if strategy in ("delete", "null") or (strategy == "fixed" and masking.value is None):
        if column.nullable:
            return None
        if not column.text:
            return (f"is {column.sql} NOT NULL: a row that stays cannot have it nulled; make the column "
                    "nullable or declare `erase: {strategy: fixed, value: ...}`")
        if column.length is not None and column.length < placeholder:
            return (f"is {column.sql} NOT NULL: a row that stays gets the placeholder "
                    f"`erased:<database>.<table>:<key>` (up to {placeholder} characters), which does not fit")
        return None
    if strategy == "hash":
        if not column.text or (column.length is not None and column.length < HASH_LENGTH):
            return (f"`hash` writes {HASH_LENGTH} characters but the column is {column.sql}; widen it, or "
                    "choose `null` (a hash of a short identifier is reversed by trying them all)")
        return None
    if strategy == "fixed":
        problem = _writes(masking.value, column)
        return None if problem is None else f"`fixed` {problem}"
    # anonymise
    if masking.generalise is not None:
        if column.kind not in ("date", "datetime"):
            return (f"`anonymise` generalises a date to its {masking.generalise} but the column is "
                    f"{column.sql}")
        return None
    if masking.keep is not None:
        return None if column.text else (f"`anonymise` keeps the first characters of a text but the column "
                                         f"is {column.sql}")
    problem = _writes(ANONYMISED if masking.value is None else masking.value, column)
    return None if problem is None else f"`anonymise` {problem}"


def check_live(datamap: DataMap, engines: Mapping[str, Engine],
               progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Every table, column and mask of the map checked against the databases; the problems found.

    ``progress(1)`` is called after each table checked."""
    problems: list[Problem] = []
    for name, dataset in datamap.datasets.items():
        source = _source(dataset.file)
        engine = engines[name]
        try:
            existing = set(sa.inspect(engine).get_table_names())
        except sa.exc.SQLAlchemyError as exc:
            problems.append(Problem(dataset.file, source.line(("database",)), "database",
                                    f"cannot read database {name!r}: {exc.__class__.__name__}: "
                                    f"{str(exc).splitlines()[0]}"))
            continue
        for table in dataset.tables.values():
            at: FieldPath = ("tables", table.name)
            if table.name not in existing:
                problems.append(source.problem(at, f"database {name!r} has no table {table.name!r}"))
                continue
            columns = reflect_table(engine, table.name) or {}
            problems += table_problems(datamap, table, columns, source)
            if table.archive is not None and table.archive.table in existing:
                archived = reflect_table(engine, table.archive.table) or {}
                for missing in sorted(set(columns) - set(archived)):
                    problems.append(source.problem((*at, "archive"), f"archive table {table.archive.table} "
                                                   f"of {name!r} has no column {missing!r}: an archived row "
                                                   f"keeps every column of {table.name}"))
            if progress is not None:
                progress(1)
    return problems


def table_problems(datamap: DataMap, table: TableMap, columns: Mapping[str, ColumnType],
                   source: SourceMap | None = None,
                   only: Mapping[str, Masking] | None = None) -> list[Problem]:
    """The problems of one table's annotations against its reflected ``columns``.

    ``only``: check just these columns with these maskings (an erasure plan's).
    """
    source = source or SourceMap(datamap.datasets[table.database].file)
    at: FieldPath = ("tables", table.name)
    out: list[Problem] = []
    if only is None:
        for missing in sorted(table.known_columns() - set(columns)):
            out.append(source.problem(at, f"{table.database}.{table.name} has no column {missing!r}"))
    if only is None:
        for name, reference in table.references.items():
            facts = columns.get(name)
            if not reference.cascades and facts is not None and not facts.nullable:
                out.append(source.problem((*at, "references", name), unlink_problem(table, name, facts)))
    placeholder = placeholder_length(table, columns.get(table.primary_key))
    stays = may_stay(datamap, table)
    maskings = {c.name: c.erase for c in table.columns.values()} if only is None else only
    for name, masking in maskings.items():
        facts = columns.get(name)
        if facts is None:
            continue
        problem = mask_problem(masking, facts, stays=stays, placeholder=placeholder)
        if problem is not None:
            where = (*at, "columns", name, "erase")
            out.append(source.problem(where, f"{table.database}.{table.name}.{name} {problem}"
                                      if problem.startswith("is ") else
                                      f"{table.database}.{table.name}.{name}: {problem}"))
    return out


def unlink_problem(table: TableMap, column: str, facts: ColumnType) -> str:
    return (f"{table.database}.{table.name}.{column} is {facts.sql} NOT NULL but `on_erase: nullify` sets it "
            "to NULL when the person it points at is erased; make the column nullable")


def plan_problems(datamap: DataMap, engines: Mapping[str, Engine],
                  maskings: Mapping[TableRef, Mapping[str, Masking]]) -> list[Problem]:
    """The problems of masking these columns of these tables (an erasure's plan), against the databases."""
    out: list[Problem] = []
    for ref, chosen in maskings.items():
        table = datamap.table(ref)
        file = datamap.datasets[ref.database].file
        columns = reflect_table(engines[ref.database], table.name)
        if columns is None:
            out.append(Problem(file, None, f"tables.{table.name}",
                               f"database {ref.database!r} has no table {table.name!r}"))
            continue
        found = table_problems(datamap, table, columns, None, chosen)
        if found:  # read the file's line numbers only to report
            found = table_problems(datamap, table, columns, _source(file), chosen)
        out += found
    return out


def _source(file: str) -> SourceMap:
    """The file's line numbers, when it is a file (maps parsed from text have none)."""
    path = Path(file)
    if not path.is_file():
        return SourceMap(file)
    try:
        return load_yaml(path)[1]
    except InputError:
        return SourceMap(file)



def check_databases(datamap: DataMap, urls: Mapping[str, str] | None = None,
                    progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Connect to every database of the map and :func:`check_live` it (``urls`` overrides some).

    ``progress(1)`` is called after each table checked.

    A SQLite file that does not exist is a problem, not created empty.
    """
    urls = urls or {}
    problems: list[Problem] = []
    engines: dict[str, Engine] = {}
    try:
        for name, dataset in datamap.datasets.items():
            try:
                url = sa.make_url(urls.get(name) or dataset.resolved_url())
            except sa.exc.ArgumentError:  # connect_dataset says so, as every other command does
                connect_dataset(dataset, urls.get(name) or dataset.resolved_url())
                raise
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
                    and not Path(str(url.database)).exists():
                problems.append(Problem(dataset.file, _source(dataset.file).line(("database",)), "database",
                                        f"database {name!r}: file {url.database} does not exist; fill it "
                                        "(`garde shop generate` for the reference shop) or check with "
                                        "--offline"))
                continue
            engines[name] = connect_dataset(dataset, url.render_as_string(hide_password=False))
        live = DataMap({name: datamap.datasets[name] for name in engines})
        return problems + check_live(live, engines, progress)
    finally:
        for engine in engines.values():
            engine.dispose()
