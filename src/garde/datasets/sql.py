"""SQL over annotated tables: connections, lightweight table objects, masking expressions.

Annotations name only some columns of a table, so statements are built on
``sa.table()`` clauses made from the annotations, never on reflection: they
work on any database the annotations describe, SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
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
    # Read through a memory map of the file rather than a read() into the connection's page cache for
    # every page a statement meets (a subject's rows are pages nobody read before): discovery's reads
    # took ≈ 0.4 ms less CPU a request on the 1 M shop (docs/performance.md, acc31). SQLite caps the
    # size at its build's maximum (2 GB); the pages beyond are read as before; writes are unchanged.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA mmap_size = {SQLITE_MAP_BYTES}")
    finally:
        cursor.close()


#: How much of a business SQLite database a connection maps into memory (``PRAGMA mmap_size``).
SQLITE_MAP_BYTES = 1 << 31


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

#: Reads one combined statement holds at most (SQLite allows 500 branches in a compound SELECT).
UNION_READS = 100


def rows_in_all(reads: Sequence[Read]) -> list[list[tuple[Any, ...]]]:
    """The rows of each read (as :func:`rows_in` finds them), in order.

    On PostgreSQL the reads of one connection are sent as one statement (:func:`_combined`):
    each read a branch of a ``UNION ALL``, its rows tagged with its place, so a hop of discovery
    (up to a dozen independent reads per database) costs the driver one statement per database
    instead of one per table; the statements of several connections are sent together, one
    pipeline per connection, and the answers come back in one round trip per database. Reads
    that are not combined (SQLite's, a column whose type PostgreSQL does not report, a driver
    other than psycopg) are sent one by one, pipelined on PostgreSQL. A driver error is raised
    as :func:`rows_in` raises it: the reads are run again one by one.
    """
    if len(reads) < 2 or not any(sent_as_written(conn.dialect) for conn, *_ in reads):
        return [rows_in(*read) for read in reads]  # SQLite's: no statement built for nothing
    sent = _statements(reads)
    out: list[list[tuple[Any, ...]]] = [[] for _ in reads]
    pipelined = len(sent) > 1 and all(s.conn.dialect.name == "postgresql" for s in sent)
    raws: dict[int, Any] = {}
    cursors: list[Any] = []
    try:
        with ExitStack() as pipelines:
            for one in sent:
                raw: Any = one.conn.connection.dbapi_connection
                if pipelined and id(raw) not in raws:
                    raws[id(raw)] = raw
                    pipelines.enter_context(raw.pipeline())
                cursor = raw_cursor(raw) if one.picks else raw.cursor()  # combined: PostgreSQL's $n marks
                cursors.append(cursor)
                cursor.execute(one.sql, one.parameters)
                if not pipelined:
                    one.take(cursor.fetchall(), out)
        if pipelined:
            for one, cursor in zip(sent, cursors, strict=True):
                one.take(cursor.fetchall(), out)
        return out
    except reads[0][0].dialect.loaded_dbapi.Error:
        for read in reads:  # each transaction is aborted on PostgreSQL: start again, one statement at a time
            raw = read[0].connection.dbapi_connection
            if read[0].dialect.name == "postgresql" and id(raw) not in raws:
                raws[id(raw)] = raw
        for raw in raws.values():
            raw.rollback()
        return [rows_in(*read) for read in reads]
    finally:
        for cursor in cursors:
            cursor.close()


@dataclass(frozen=True)
class _Statement:
    """One statement sent for some reads: their places in the reads, and where each finds its
    columns in a row of the result (``picks``; empty for a read sent alone)."""

    conn: sa.Connection
    sql: str
    parameters: list[Any]
    places: tuple[int, ...]
    picks: tuple[Callable[[Sequence[Any]], tuple[Any, ...]], ...] = ()

    def take(self, rows: Sequence[tuple[Any, ...]], out: list[list[tuple[Any, ...]]]) -> None:
        """Each row to the read that asked for it."""
        if not self.picks:
            out[self.places[0]] = rows if isinstance(rows, list) else list(rows)
            return
        for row in rows:
            tag = row[0]
            out[self.places[tag]].append(self.picks[tag](row))


def _statements(reads: Sequence[Read]) -> list[_Statement]:
    """The statements sending ``reads``: per connection, its reads combined (in batches of at most
    :data:`CHUNK` values and :data:`UNION_READS` reads), or one statement per read."""
    by_connection: dict[int, list[int]] = {}
    for place, (conn, *_) in enumerate(reads):
        by_connection.setdefault(id(conn), []).append(place)
    sent: list[_Statement] = []
    for places in by_connection.values():
        batch: list[int] = []
        values = 0
        for place in places:
            count = sum(len(v) for v in reads[place][3].values())
            if batch and (values + count > CHUNK or len(batch) >= UNION_READS):
                sent.extend(_combined(reads, batch))
                batch, values = [], 0
            batch.append(place)
            values += count
        sent.extend(_combined(reads, batch))
    return sent


def _alone(read: Read, place: int) -> _Statement:
    conn, table, columns, conditions = read
    sql = _select_in_sql(conn.dialect, table, columns, tuple((c, len(v)) for c, v in conditions.items()))
    return _Statement(conn, sql, [value for values in conditions.values() for value in values], (place,))


def _combined(reads: Sequence[Read], places: Sequence[int]) -> list[_Statement]:
    """One ``UNION ALL`` for the reads at ``places`` (all on one connection), or each alone when
    there is one, or when they cannot be combined.

    Combined on PostgreSQL through psycopg only: there each statement costs the client psycopg's
    work (a discovery's client instructions −35 %). On SQLite a statement costs ≈ 20 µs and no round
    trip, and the combined statements counted more instructions, not fewer (4.05 → 4.28 M a
    discovery on the 1 M shop, pg29)."""
    conn = reads[places[0]][0]
    dialect = conn.dialect
    if len(places) < 2 or not sent_as_written(dialect):
        return [_alone(reads[place], place) for place in places]
    engine = conn.engine
    if any((engine, reads[p][1]) not in _TYPES for p in places):
        postgres_types(conn, list(dict.fromkeys(reads[p][1] for p in places)))  # one query for all
    # A list of values searched in several reads is sent once (discovery's children of one customer
    # all search its id); on PostgreSQL only where the columns share a type, which the server gives
    # the parameter.
    lists: dict[tuple[str, tuple[Any, ...], tuple[type, ...]], int] = {}
    parameters: list[Any] = []
    shape = []
    for place in places:
        _, table, columns, conditions = reads[place]
        typed = _read_types(engine, table, columns, tuple(conditions))
        if typed is None:
            return [_alone(reads[place], place) for place in places]
        searched = []
        for (column, values), kind in zip(conditions.items(), typed[1], strict=True):
            key = (kind, tuple(values), tuple(map(type, values)))
            if key not in lists:
                lists[key] = len(parameters) + 1
                parameters.extend(values)
            searched.append((column, lists[key], len(values)))
        shape.append((table, columns, tuple(searched), typed[0]))
    sql, picks = _union_sql(tuple(shape))
    return [_Statement(conn, sql, parameters, tuple(places), picks)]


_READ_TYPES: dict[tuple[Engine, str, tuple[str, ...], tuple[str, ...]],
                  tuple[tuple[str, ...], tuple[str, ...]] | None] = {}


def _read_types(engine: Engine, table: str, columns: tuple[str, ...],
                searched: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The PostgreSQL types of a read's ``columns`` and of the columns it ``searched``, worked out
    once per engine and read shape; None when PostgreSQL did not report one of them."""
    key = (engine, table, columns, searched)
    if key not in _READ_TYPES:
        if len(_READ_TYPES) >= 4096:
            _READ_TYPES.clear()
        known = _TYPES.get((engine, table), {})
        if known.keys() >= {*columns, *searched}:
            _READ_TYPES[key] = (tuple(known[c] for c in columns), tuple(known[c] for c in searched))
        else:
            return None  # asked again next time: a table created since is then known
    return _READ_TYPES[key]


#: A read's part of a combined statement: its table, its columns, the columns it searches (each with
#: its first parameter's number and its number of values), its columns' types.
_ReadShape = tuple[str, tuple[str, ...], tuple[tuple[str, int, int], ...], tuple[str, ...]]
#: What takes a read's columns from a row of a combined statement.
_Pick = Callable[[Sequence[Any]], tuple[Any, ...]]


@lru_cache(maxsize=512)
def _union_sql(shape: tuple[_ReadShape, ...]) -> tuple[str, tuple[_Pick, ...]]:
    """The ``UNION ALL`` of reads of ``shape`` (per read: its table, its columns, the columns it
    searches with the first mark and the number of its values, its columns' types), and for each
    read what takes its columns from a row of the result.

    A row is its read's place, then slots: a slot per column type and rank (a table's second text
    column goes to the second text slot), so a row is as wide as the widest read per type. The
    first branch's empty slots are NULLs cast to their type, which the ``UNION`` gives every later
    NULL; a length (``varchar(200)``) changes no value read, and is left out. PostgreSQL's form only
    (:func:`_combined` combines no other database's reads)."""
    slots: dict[tuple[str, int], int] = {}
    placed = []
    for *_, types in shape:
        ranks: dict[str, int] = defaultdict(int)
        mine = []
        for kind in types:
            mine.append(slots.setdefault((kind, ranks[kind]), len(slots)))
            ranks[kind] += 1
        placed.append(mine)
    branches = []
    for tag, ((table, columns, searched, _), mine) in enumerate(zip(shape, placed, strict=True)):
        values = [f"CAST(NULL AS {kind})" if tag == 0 else "NULL" for kind, _ in slots]
        for column, at in zip(columns, mine, strict=True):
            values[at] = quoted(column)
        wheres = [f"{quoted(column)} IN ({', '.join(f'${n}' for n in range(first, first + count))})"
                  if count else "1 = 0" for column, first, count in searched]
        branches.append(f"SELECT {tag}, {', '.join(values)} FROM {quoted(table)} WHERE {' OR '.join(wheres)}")
    picks = tuple(_picker([1 + at for at in mine]) for mine in placed)
    return " UNION ALL ".join(branches), picks


def _picker(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """What takes ``positions`` of a row, as a tuple (``itemgetter`` of one position gives the value)."""
    if len(positions) == 1:
        at = positions[0]
        return lambda row: (row[at],)
    return itemgetter(*positions)


def quoted(name: str) -> str:
    """A PostgreSQL identifier, always quoted (the same name as unquoted when it is lower case)."""
    return '"' + name.replace('"', '""') + '"'


def sent_as_written(dialect: sa.Dialect) -> bool:
    """PostgreSQL through psycopg: statements written with ``$n`` marks, sent by :func:`_raw_cursor`."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def raw_cursor(raw: Any) -> Any:
    """A psycopg cursor sending a statement as written, its marks PostgreSQL's own ``$n``."""
    import psycopg  # only with a PostgreSQL database (SQLite-only use does not load the driver)

    return psycopg.RawCursor(raw)


_TYPES: dict[tuple[Engine, str], dict[str, str]] = {}


def postgres_types(conn: sa.Connection, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """``{table: {column: its SQL type, no length}}`` of PostgreSQL tables, for the typed slots of
    combined statements, read on ``conn`` (no transaction of its own) and kept once found: a table
    missing now is asked again next time."""
    missing = [t for t in tables if (conn.engine, t) not in _TYPES]
    if missing:
        quote = conn.dialect.identifier_preparer.quote
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for table, name, kind in conn.exec_driver_sql(
                "SELECT c.relname, a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE a.attrelid IN (SELECT to_regclass(n) FROM unnest(%(t)s::text[]) AS n) "
                "AND a.attnum > 0 AND NOT a.attisdropped",
                {"t": [quote(t) for t in missing]}):
            found[str(table)][str(name)] = str(kind)
        if len(_TYPES) >= 1024:
            _TYPES.clear()
        _TYPES.update(((conn.engine, t), types) for t, types in found.items())
    return {t: _TYPES.get((conn.engine, t), {}) for t in tables}


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
