"""A Core statement run on the connection's driver cursor: SQLAlchemy's SQL, without its execution path.

For the request path's hot statements (issue 14): SQLAlchemy's execution of a
compiled statement costs tens of microseconds of Python per statement (its
parameters processed and expanded, a cursor result built), more than SQLite takes
to run a small one. Here a statement is compiled by SQLAlchemy once per dialect
and shape (the lengths of its expanding lists), then run on the driver's cursor:
its parameters go through the bind processors SQLAlchemy would apply, its rows
through the result processors (SQLite's text dates read back as ``datetime``), so
the rows are those SQLAlchemy's execution gives. A driver error is raised as
SQLAlchemy raises it (its exception class, listeners, a lost connection invalidated).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

_MOST = 256


@dataclass(frozen=True)
class _Parameter:
    """Where a parameter of the driver's SQL comes from: a caller's (name, index in its list, or
    None for a scalar), else the statement's own value (a literal bound in it)."""

    name: str | None
    index: int | None
    value: Any
    processor: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Shape:
    """A statement compiled for one shape: the driver's SQL, where each of its parameters comes from,
    its columns' result processors; ``written``: the same SQL with PostgreSQL's own ``$n`` marks, for a
    long statement sent through psycopg as written (:func:`_as_written`), and the parameters' names in
    the order of their numbers."""

    sql: str
    positional: bool
    parameters: tuple[tuple[str, _Parameter], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    written: tuple[str, tuple[str, ...]] | None = None


# (the shape, and its statement: kept alive while cached, since its id is part of the key)
_SHAPES: dict[tuple[Any, ...], tuple[_Shape, sa.ClauseElement]] = {}


class _Placeholder:
    """A caller's parameter in the statement compiled once per shape."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int | None) -> None:
        self.name, self.index = name, index


def _shape(dialect: sa.Dialect, statement: sa.ClauseElement, parameters: Mapping[str, Any]) -> _Shape:
    lengths = tuple((name, len(value) if isinstance(value, list | tuple) else None)
                    for name, value in parameters.items())
    key = (dialect.name, dialect.paramstyle, id(statement), lengths)
    cached = _SHAPES.get(key)
    if cached is not None:
        return cached[0]
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    placeholders = {name: [_Placeholder(name, i) for i in range(length)] if length is not None
                    else _Placeholder(name, None) for name, length in lengths}
    expanded = compiled.construct_expanded_state(placeholders)
    # the expanded lists' processors, then the statement's other parameters'
    processors: dict[str, Any] = {**compiled._bind_processors, **expanded.processors}
    names = list(expanded.positiontup or ()) if compiled.positional else list(expanded.parameters)
    sources: list[tuple[str, _Parameter]] = []
    for name in names:
        value = expanded.parameters[name]
        processor = processors.get(name)
        if isinstance(value, _Placeholder):
            sources.append((name, _Parameter(value.name, value.index, None, processor)))
        else:
            sources.append((name, _Parameter(None, None, processor(value) if processor else value, None)))
    results = tuple(entry.type._cached_result_processor(dialect, None)  # as SQLAlchemy's result does
                    for entry in compiled._result_columns or ())
    written = _as_written(expanded.statement) if (dialect.driver == "psycopg" and not compiled.positional
                                                  and len(expanded.statement) >= _SPLIT_KEPT) else None
    shape = _Shape(expanded.statement, bool(compiled.positional), tuple(sources), results, written)
    if len(_SHAPES) >= _MOST:
        _SHAPES.clear()
    _SHAPES[key] = (shape, statement)
    return shape


# psycopg keeps the parsing of a statement's ``%(name)s`` marks for statements shorter than this
# (``psycopg._queries.MAX_CACHED_STATEMENT_LENGTH``); a longer one is parsed again at each execution:
# 78 µs for garde_held's 6.2 kB statement (2026-12-07), once a request.
_SPLIT_KEPT = 4096
_MARK = re.compile(r"%%|%\(([^)]+)\)s")


def _as_written(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` (psycopg's ``%(name)s`` marks, ``%%`` for a ``%``) with PostgreSQL's ``$n`` marks, one
    number per name however often it appears, and the names in the order of their numbers."""
    names: dict[str, int] = {}

    def mark(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    return _MARK.sub(mark, sql), tuple(names)


def _arguments(shape: _Shape, parameters: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    values = []
    for _, p in shape.parameters:
        if p.name is None:
            values.append(p.value)
            continue
        value = parameters[p.name] if p.index is None else parameters[p.name][p.index]
        values.append(p.processor(value) if p.processor is not None else value)
    if shape.positional:
        return values
    return {name: value for (name, _), value in zip(shape.parameters, values, strict=True)}


def driver_rows(conn: sa.Connection, statement: sa.ClauseElement,
                parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows ``statement`` (a SELECT, or a statement RETURNING rows) gives with ``parameters``
    (lists for its expanding parameters), as SQLAlchemy's execution gives them, as tuples.

    Meant for statements made once (a module's, or an ``lru_cache``'s): their shape is kept by
    their identity (with the statement, so that the identity stays theirs).
    """
    shape, rows, _ = _execute(conn, statement, parameters, fetch=True)
    return _processed(shape, rows)


def _processed(shape: _Shape, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``rows`` as tuples, through the statement's result processors (as SQLAlchemy's result)."""
    processors = [(i, p) for i, p in enumerate(shape.results) if p is not None]
    if not processors:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, processor in processors:
            values[i] = processor(values[i])
        out.append(tuple(values))
    return out


@dataclass(frozen=True)
class Rider:
    """A statement of the driver's own SQL (its marks, ``arguments``) that rides with another's round
    trip (:func:`ride_first`, :func:`ride_after_commit`); ``answered`` gets the first value of its row."""

    sql: str
    arguments: Sequence[Any]
    answered: Callable[[Any], None]


# Riders waiting, by the ``id`` of their driver connection: a module's dictionaries, so that the
# driver's every statement pays an empty dictionary's test, not SQLAlchemy's ``Connection.info``
# (≈ 0.4 µs a look-up: +0.6 % of an access request's instructions on SQLite). Each entry is removed
# by its holder (:func:`drop_riders`) before its connection can be closed and its ``id`` reused.
_FIRST: dict[int, Rider] = {}
_AFTER_COMMIT: dict[int, Rider] = {}


def ride_first(conn: sa.Connection, rider: Rider) -> int:
    """Send ``rider`` before the next statement this module sends on ``conn`` (a held connection of
    PostgreSQL through psycopg): in the same pipeline when that statement is one of
    :func:`driver_rows_together`'s (no round trip of its own), else on its own just before it. Only
    this module's statements send it (a listener on SQLAlchemy's execution, for every statement of
    the engine, cost ≈ 1 % of an access request's instructions): the holder's first statement on
    ``conn`` must be one of them. The run lock's take rides with the start's reads so
    (:func:`garde.store.locks.session_advisory_lock`). Returns the key :func:`drop_riders` takes."""
    key = id(conn.connection.dbapi_connection)
    _FIRST[key] = rider
    return key


def ride_after_commit(conn: sa.Connection, rider: Rider) -> int:
    """Send ``rider`` behind the ``COMMIT`` of the next transaction :func:`driver_many` ends on ``conn``
    (``commit=True``), in its pipeline: after the commit, in the same round trip. Not sent when that
    pipeline fails before it, nor when the transaction ends otherwise: ``answered`` is then never
    called (the run lock's release, sent alone by its holder then). Returns :func:`drop_riders`'s key."""
    key = id(conn.connection.dbapi_connection)
    _AFTER_COMMIT[key] = rider
    return key


def drop_riders(key: int) -> None:
    """Forget the riders not sent on the connection of ``key`` (its holder's block is over)."""
    _FIRST.pop(key, None)
    _AFTER_COMMIT.pop(key, None)


def _send_first(raw: Any) -> None:
    """A rider of :func:`ride_first` not taken by a pipeline, sent on its own before this module's
    next statement on ``raw`` (a driver connection)."""
    rider = _FIRST.pop(id(raw), None) if _FIRST else None
    if rider is not None:
        row = raw.execute(rider.sql, rider.arguments).fetchone()
        rider.answered(row[0] if row else None)


def driver_rows_together(conn: sa.Connection, reads: Sequence[tuple[sa.ClauseElement, Mapping[str, Any]]],
                         ) -> list[list[tuple[Any, ...]]]:
    """The rows of each of ``reads`` (statement, parameters), as :func:`driver_rows` gives them, the
    statements sent together: through psycopg in one pipeline, one round trip for all of them, where
    one each waited for the server's answer before the next was sent (psycopg still waits for the
    ``BEGIN`` of a transaction they open). Statements that do not depend on one another's rows only:
    reads, or a write returning rows (``RETURNING``) and what is sent behind it (the audit head's
    lock behind a request's move, :func:`garde.audit.record_many`'s ``along``); the server runs them
    in order, the first's error skips the others.
    Worth it for a few reads, not one: a pipeline of one statement cost ≈ 100 µs more client CPU
    than the statement sent plainly (psycopg 3.3, 2026-12-07); three cost the same either way."""
    if len(reads) < 2 or not _pipelines(conn):
        return [driver_rows(conn, statement, parameters) for statement, parameters in reads]
    shapes = [_shape(conn.dialect, statement, parameters) for statement, parameters in reads]
    calls = [(shape.sql, _arguments(shape, parameters))
             for shape, (_, parameters) in zip(shapes, reads, strict=True)]
    rider = _FIRST.pop(id(conn.connection.dbapi_connection), None) if _FIRST else None  # in the pipeline
    first = _cursor(conn)
    cursors = [first, *(first.connection.cursor() for _ in calls[1:])]
    ahead = first.connection.cursor() if rider is not None else None
    sql, arguments = calls[0]
    try:
        try:
            with first.connection.pipeline():
                if rider is not None and ahead is not None:
                    ahead.execute(rider.sql, rider.arguments)
                for cursor, (sql, arguments) in zip(cursors, calls, strict=True):
                    conn.dispatch.before_cursor_execute(conn, cursor, sql, arguments, None, False)
                    cursor.execute(sql, arguments)
        finally:
            if rider is not None and ahead is not None:
                _answer(conn, rider, ahead)
        return [_processed(shape, cursor.fetchall()) for shape, cursor in zip(shapes, cursors, strict=True)]
    except conn.dialect.loaded_dbapi.Error as error:
        _raise(conn, error, sql, arguments, first)
    finally:
        for cursor in cursors:
            cursor.close()
        if ahead is not None:
            ahead.close()


def _answer(conn: sa.Connection, rider: Rider, cursor: Any) -> None:
    """Give ``rider`` its answer if the server ran it (its cursor holds its rows); if not (the pipeline
    failed before it), put a first rider back for the next statement."""
    import psycopg

    result = cursor.pgresult
    if result is None or result.status != psycopg.pq.ExecStatus.TUPLES_OK:
        _FIRST.setdefault(id(cursor.connection), rider)
        return
    row = cursor.fetchone()
    rider.answered(row[0] if row else None)


def driver_execute(conn: sa.Connection, statement: sa.ClauseElement, parameters: Mapping[str, Any]) -> int:
    """Run ``statement`` (an INSERT, UPDATE or DELETE returning no rows); the rows it matched."""
    return _execute(conn, statement, parameters, fetch=False)[2]


def driver_many(conn: sa.Connection, sql: str, rows: Sequence[Sequence[Any]], *,
                commit: bool = False) -> None:
    """Run ``sql``, the driver's own (its positional marks), once per row of ``rows`` (values the
    driver takes as they are): one ``executemany``, a plain ``execute`` for one row.

    ``commit``: ``sql`` is the last statement of the caller's transaction. Through psycopg, one row's
    statement and the ``COMMIT`` go to the server together, in a pipeline: one wait instead of two,
    and whatever the statement locked is released as soon as the server has run it, not one round
    trip and the client's work later (:func:`committed_with`). The caller's own commit then finds
    nothing to commit (psycopg sends nothing for an idle connection). Elsewhere, the caller's commit
    ends the transaction as usual."""
    if not rows:
        return
    cursor = _cursor(conn)
    many = len(rows) > 1
    arguments: Any = list(rows) if many else rows[0]
    conn.dispatch.before_cursor_execute(conn, cursor, sql, arguments, None, many)
    try:
        if many:
            cursor.executemany(sql, arguments)
            if commit and committed_with(conn):
                cursor.connection.commit()
        elif commit and committed_with(conn):
            # The COMMIT queued behind the statement as a statement of the pipeline: its end's one
            # Sync covers both. (``connection.commit()`` in a pipeline sends a Sync of its own and
            # waits for it, then the pipeline's end sends another, empty, and waits again.) The
            # server then reports the connection idle; psycopg, told so, sends nothing at the caller's
            # commit. A failed statement skips the COMMIT and leaves the transaction to the caller's
            # rollback, as before.
            rider = _AFTER_COMMIT.pop(id(cursor.connection), None) if _AFTER_COMMIT else None
            behind = cursor.connection.cursor() if rider is not None else None
            try:
                with cursor.connection.pipeline():
                    cursor.execute(sql, arguments)
                    cursor.execute(_COMMIT)
                    if rider is not None and behind is not None:  # after the COMMIT: its own statement
                        behind.execute(rider.sql, rider.arguments)
            finally:
                if rider is not None and behind is not None:
                    _answer_after(rider, behind)
        else:
            cursor.execute(sql, arguments)
    except conn.dialect.loaded_dbapi.Error as error:
        _raise(conn, error, sql, arguments, cursor)
    finally:
        cursor.close()


_COMMIT = "COMMIT"


def _answer_after(rider: Rider, cursor: Any) -> None:
    """Give a rider sent behind a ``COMMIT`` its answer if the server ran it (else it is dropped)."""
    import psycopg

    result = cursor.pgresult
    if result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK:
        row = cursor.fetchone()
        rider.answered(row[0] if row else None)
    cursor.close()


def committed_with(conn: sa.Connection) -> bool:
    """Whether a statement's ``COMMIT`` can ride with it (:func:`driver_many`'s ``commit``): PostgreSQL
    through psycopg, with a libpq that has pipelines, in a transaction SQLAlchemy began (not a
    savepoint's, whose outer transaction must go on)."""
    return not conn.in_nested_transaction() and _pipelines(conn)


def pipelines(conn: sa.Connection) -> bool:
    """PostgreSQL through psycopg, with a libpq that has pipelines."""
    return _pipelines(conn)


def _pipelines(conn: sa.Connection) -> bool:
    """PostgreSQL through psycopg, with a libpq that has pipelines."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def driver_copy(conn: sa.Connection, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """``rows`` appended to ``table`` by PostgreSQL's ``COPY ... FROM STDIN`` through psycopg, in the
    connection's transaction: the rows go to the server as one stream, not one bound statement each.
    For the audit writer's batches: ≈ 2 µs of client CPU a row against ≈ 11.5 with ``executemany``
    (500 decision entries a batch, 2026-12-06), and about half the wall time. Values as psycopg
    dumps them (str, int, None); the table's triggers run as for an INSERT."""
    if not rows:
        return
    cursor = _cursor(conn)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    conn.dispatch.before_cursor_execute(conn, cursor, sql, rows, None, True)
    try:
        with cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except conn.dialect.loaded_dbapi.Error as error:
        _raise(conn, error, sql, rows, cursor)
    finally:
        cursor.close()


def _cursor(conn: sa.Connection) -> Any:
    """The connection's driver cursor, in a transaction begun as SQLAlchemy begins one (so that the
    caller's commit commits)."""
    if not conn.in_transaction():
        conn.begin()
    raw: Any = conn.connection.dbapi_connection
    _send_first(raw)
    return raw.cursor()


def _execute(conn: sa.Connection, statement: sa.ClauseElement, parameters: Mapping[str, Any], *,
             fetch: bool) -> tuple[_Shape, list[Any], int]:
    shape = _shape(conn.dialect, statement, parameters)
    cursor = _cursor(conn)
    sql, arguments = shape.sql, _arguments(shape, parameters)
    if shape.written is not None:  # a long statement: sent as written, its marks parsed once (_SPLIT_KEPT)
        import psycopg

        cursor.close()
        cursor = psycopg.RawCursor(cursor.connection)
        named = cast(dict[str, Any], arguments)
        sql, arguments = shape.written[0], [named[name] for name in shape.written[1]]
    # The statement is the connection's as any other: its listeners (statement counters) see it.
    conn.dispatch.before_cursor_execute(conn, cursor, sql, arguments, None, False)
    try:
        cursor.execute(sql, arguments)
        return shape, cursor.fetchall() if fetch else [], cursor.rowcount
    except conn.dialect.loaded_dbapi.Error as error:
        _raise(conn, error, sql, arguments, cursor)
    finally:
        cursor.close()


def _raise(conn: sa.Connection, error: BaseException, sql: str, arguments: Any, cursor: Any) -> NoReturn:
    """``error`` raised as SQLAlchemy's execution raises a driver's error: its exception class
    (``IntegrityError``, ``OperationalError``, ...) around it, the connection's ``handle_error``
    listeners run, a lost connection invalidated. The transaction is left as the error left it (the
    caller's rollback ends it), so the error is the one of the statement as it ran: running it
    again would not do (after a rollback, without what the transaction had set or locked, it may
    pass, and a deadlock would no longer be told apart for the store's retries)."""
    conn._handle_dbapi_exception(error, sql, arguments, cursor, None)
