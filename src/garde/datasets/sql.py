"""SQL over annotated tables: connections, lightweight table objects, masking expressions.

Annotations name only some columns of a table, so statements are built on
``sa.table()`` clauses made from the annotations, never on reflection: they
work on any database the annotations describe, SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets.model import ColumnMap, DataMap, Dataset, Masking, TableMap
from garde.problems import GardeError
from garde.store import connect, safe_url, unreachable

#: Values per ``IN (...)`` list: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 5000
ANONYMISED = "anonymised"


def _sha256(value: Any) -> str | None:
    return None if value is None else hashlib.sha256(str(value).encode()).hexdigest()


def _lenient_text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _prepare_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLite has no SHA-256; PostgreSQL's sha256() is used there instead.
    dbapi_connection.create_function("garde_sha256", 1, _sha256, deterministic=True)
    # SQLite stores whatever bytes a program writes as TEXT: a customer's name the shop took in
    # Latin-1 made every read of their row fail, so their access, portability and erasure requests
    # could not complete. Bytes that are not UTF-8 read as U+FFFD (≈ 0.1 µs a text value more).
    dbapi_connection.text_factory = _lenient_text


def _json_or_text(data: bytes | str) -> Any:
    """A JSON or JSONB value as Python objects, or as its text when it nests deeper than Python's
    decoder goes (PostgreSQL keeps thousands of levels; the read failed with a RecursionError)."""
    try:
        return json.loads(data)
    except RecursionError:
        return data.decode() if isinstance(data, bytes) else data


def _prepare_postgresql(dbapi_connection: Any, _record: Any) -> None:
    from psycopg.types.json import set_json_loads  # only where a PostgreSQL database is mapped

    set_json_loads(_json_or_text, dbapi_connection)


def connect_dataset(dataset: Dataset, url: str | None = None, *, create: bool = False) -> Engine:
    """An engine for a dataset's database (``url`` overrides the file's URL), tried once.

    Raises :class:`GardeError` naming the dataset and its URL when the database
    cannot be reached or (SQLite) does not exist: never an empty database in its
    place, unless ``create`` (what fills a new database, such as the shop generator).
    """
    url = url or dataset.resolved_url()
    try:
        engine = connect(url, create=create)
    except GardeError as exc:
        raise GardeError(f"dataset {dataset.database!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _prepare_sqlite)
    elif engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _prepare_postgresql)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise GardeError(f"dataset {dataset.database!r}: cannot open {safe_url(url)}: "
                         f"{unreachable(exc)}") from None
    return engine


def connect_datamap(datamap: DataMap, urls: Mapping[str, str] | None = None, *,
                    create: bool = False) -> dict[str, Engine]:
    """One engine per database of the map; ``urls`` overrides some of them by database name."""
    urls = urls or {}
    return {name: connect_dataset(d, urls.get(name), create=create) for name, d in datamap.datasets.items()}


def sql_table(table: TableMap, columns: Iterable[str] | None = None) -> sa.TableClause:
    """A ``sa.table()`` for ``table`` with its annotated columns (or just ``columns``)."""
    names = table.annotated_columns() if columns is None else list(dict.fromkeys(columns))
    return sa.table(table.name, *(sa.column(name) for name in names))


@lru_cache(maxsize=1024)
def select_in(table: str, columns: tuple[str, ...], conditions: tuple[str, ...]) -> sa.Select[Any]:
    """``SELECT columns FROM table WHERE c0 IN :v0 OR c1 IN :v1 ...``, built once and reused.

    The value lists are expanding parameters (``{"v0": [...], ...}``), so the
    statement object, its cache key and its compiled form are the same for
    every subject: SQLAlchemy compiles it once per shape, not per execution.
    """
    clause = sa.table(table, *(sa.column(name) for name in dict.fromkeys([*columns, *conditions])))
    wheres = [clause.c[name].in_(sa.bindparam(f"v{i}", expanding=True)) for i, name in enumerate(conditions)]
    return sa.select(*(clause.c[name] for name in columns)).where(sa.or_(*wheres))


@lru_cache(maxsize=1024)
def _select_in_sql(dialect: sa.Dialect, table: str, columns: tuple[str, ...],
                   conditions: tuple[tuple[str, int], ...]) -> str:
    """The driver's SQL of :func:`select_in` for lists of these lengths, quoted for ``dialect``."""
    # The dialect's quoting doubles a % in a name where the driver's marks are %s.
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    wheres = [f"{quote(name)} IN ({', '.join([mark] * count)})" if count else "1 = 0"
              for name, count in conditions]
    return (f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} "
            f"WHERE {' OR '.join(wheres)}")


def rows_in(conn: sa.Connection, table: str, columns: tuple[str, ...],
            conditions: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The rows :func:`select_in` finds (``columns`` of ``table`` where any column of ``conditions``
    is in its list), read through the driver with SQL made once per shape.

    For discovery's hot path: SQLAlchemy's execution of a compiled statement costs about 25 µs
    more than the driver's (its columns are untyped, so it converts nothing either way). A
    driver error is raised as SQLAlchemy raises it: the statement is run again through it.
    """
    sql = _select_in_sql(conn.dialect, table, columns, tuple((c, len(v)) for c, v in conditions.items()))
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql, [value for values in conditions.values() for value in values])
        return cursor.fetchall()  # type: ignore[no-any-return]
    except conn.dialect.loaded_dbapi.Error:
        if conn.dialect.name == "postgresql":  # it refuses any statement after a failed one until then
            raw.rollback()  # (SQLite keeps the transaction: what the caller did in it stays)
        parameters = {f"v{i}": list(values) for i, values in enumerate(conditions.values())}
        conn.execute(select_in(table, columns, tuple(conditions)), parameters)
        raise
    finally:
        cursor.close()


#: One read of :func:`rows_in`: the connection, the table, the columns read and the conditions.
Read = tuple[sa.Connection, str, tuple[str, ...], Mapping[str, Sequence[Any]]]


def rows_in_all(reads: Sequence[Read]) -> list[list[tuple[Any, ...]]]:
    """The rows of each read (as :func:`rows_in` finds them), in order.

    On PostgreSQL the reads are sent together, one pipeline per connection, and
    the answers come back in one round trip per database instead of one per
    statement (a hop of discovery is up to a dozen independent statements; under
    load each round trip waits for both processes to be scheduled). Elsewhere,
    and for a single read, one after the other. A driver error is raised as
    :func:`rows_in` raises it: the reads are run again one by one.
    """
    if len(reads) < 2 or any(conn.dialect.name != "postgresql" for conn, *_ in reads):
        return [rows_in(*read) for read in reads]
    raws: dict[int, Any] = {}
    cursors = []
    try:
        with ExitStack() as pipelines:
            for conn, table, columns, conditions in reads:
                raw: Any = conn.connection.dbapi_connection
                if id(raw) not in raws:
                    raws[id(raw)] = raw
                    pipelines.enter_context(raw.pipeline())
                cursor = raw.cursor()
                cursors.append(cursor)
                sql = _select_in_sql(conn.dialect, table, columns,
                                     tuple((c, len(v)) for c, v in conditions.items()))
                cursor.execute(sql, [value for values in conditions.values() for value in values])
        return [cursor.fetchall() for cursor in cursors]
    except reads[0][0].dialect.loaded_dbapi.Error:
        for raw in raws.values():  # each transaction is aborted: start again, one statement at a time
            raw.rollback()
        return [rows_in(*read) for read in reads]
    finally:
        for cursor in cursors:
            cursor.close()


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def masking_expression(masking: Masking, column: sa.ColumnElement[Any],
                       dialect: str) -> sa.ColumnElement[Any]:
    """The value ``column`` takes when erased with ``masking`` (not for ``delete``: that drops the row).

    Every strategy has a fixed point: a hash is 64 lower-case hex digits (the length of a
    plain SHA-256, so it fits the columns it replaces), a generalised date or a kept
    prefix generalises to itself. :func:`is_masked` tells a masked value,
    and :func:`masked_once` masks only what is not masked yet.
    """
    if masking.strategy == "delete":
        raise ValueError("`delete` erases the whole row: use delete_statement()")
    if masking.strategy == "null":
        return sa.null()
    if masking.strategy == "fixed":
        return sa.literal(masking.value)
    if masking.strategy == "hash":
        if dialect == "postgresql":
            text = sa.cast(column, sa.Text)
            return sa.func.encode(sa.func.sha256(sa.func.convert_to(text, "UTF8")), "hex")
        return sa.func.garde_sha256(column)
    # anonymise: generalise what is left identifying, or replace it.
    if masking.generalise is not None:
        if dialect == "postgresql":
            return sa.func.date_trunc(masking.generalise, column)
        pattern = "%Y-01-01" if masking.generalise == "year" else "%Y-%m-01"
        return sa.func.strftime(pattern, column)
    if masking.keep is not None:
        return sa.func.substr(column, 1, masking.keep)
    return sa.literal(ANONYMISED if masking.value is None else masking.value)


def is_masked(masking: Masking, column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[bool]:
    """``column`` already holds what ``masking`` would put there (NULL counts as masked)."""
    if masking.strategy in ("delete", "null"):
        return column.is_(None)
    if masking.strategy == "hash":  # 64 lower-case hex digits: already a SHA-256
        text = sa.cast(column, sa.Text)
        if dialect == "postgresql":
            return sa.or_(column.is_(None), text.regexp_match("^[0-9a-f]{64}$"))
        return sa.or_(column.is_(None), sa.and_(sa.func.length(text) == 64,
                                                 text.op("NOT GLOB")("*[^0-9a-f]*")))
    return sa.or_(column.is_(None), column.is_not_distinct_from(masking_expression(masking, column, dialect)))


def masked_once(masking: Masking, column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """``CASE WHEN <masked> THEN column ELSE <masked value> END``: applying it twice changes nothing.

    ``delete`` masks a single column with NULL (on erasure it drops the whole row instead).
    """
    if masking.strategy in ("delete", "null"):
        return sa.null()
    return sa.case((is_masked(masking, column, dialect), column),
                   else_=masking_expression(masking, column, dialect))


def erase_statement(table: TableMap, keys: Sequence[Any], dialect: str,
                    columns: Iterable[ColumnMap] | None = None) -> sa.Executable | None:
    """The statement erasing ``columns`` (default: all annotated) of the rows with primary ``keys``.

    A ``DELETE`` when one of the columns says ``delete``, else an ``UPDATE``
    setting each column to its masking expression; None when there is nothing
    to do. For long key lists, call it per :func:`chunks` of keys.
    """
    chosen = list(table.columns.values() if columns is None else columns)
    if not chosen or not keys:
        return None
    clause = sql_table(table, [table.primary_key, *(c.name for c in chosen)])
    where = clause.c[table.primary_key].in_(list(keys))
    if any(c.erase.strategy == "delete" for c in chosen):
        return sa.delete(clause).where(where)
    values = {c.name: masking_expression(c.erase, clause.c[c.name], dialect) for c in chosen}
    return sa.update(clause).where(where).values(values)


def delete_statement(table: TableMap, keys: Sequence[Any]) -> sa.Delete:
    """``DELETE`` of the rows with primary ``keys`` (retention sweeps, erasure)."""
    clause = sql_table(table, [table.primary_key])
    return sa.delete(clause).where(clause.c[table.primary_key].in_(list(keys)))
