"""Locks that belong to the process holding them, so a killed holder never leaves a stale one.

Used by the retention sweep (one per store) and by request runs (one per
request). On PostgreSQL a session advisory lock on a connection held for the
block; on SQLite a lock file beside the store's database (:func:`store_file`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.store.driver import driver_rows


@contextmanager
def session_advisory_lock(store: Engine, key: int, busy: Callable[[sa.Connection], Exception], *,
                          holder_name: str | None = None, shared: bool = False) -> Iterator[sa.Connection]:
    """Hold PostgreSQL's session advisory lock ``key`` for the block, or raise ``busy(connection)``.
    The block gets the lock's connection (in autocommit), to read on without checking out another.
    ``shared``: held with other shared holders, refused while an exclusive holder has it.

    ``holder_name`` is set as the session's ``application_name`` while it holds the lock, so that
    a refused caller can say who holds it (``pg_stat_activity``).
    """
    # Autocommit: a session lock outlives transactions, so one around each statement would only add
    # a COMMIT round trip after taking the lock and another after releasing it.
    conn = store.connect().execution_options(isolation_level="AUTOCOMMIT")
    locked = False
    mode = "_shared" if shared else ""
    try:
        # on the driver (:mod:`garde.store.driver`): a request run takes and leaves its lock each time,
        # and SQLAlchemy's execution of the two statements cost twice the driver's (157 µs of CPU a run)
        if holder_name is None:
            locked = bool(driver_rows(conn, _statement(f"SELECT pg_try_advisory_lock{mode}(:key)"),
                                      {"key": key})[0][0])
        else:
            locked = bool(driver_rows(conn, _statement(
                f"SELECT pg_try_advisory_lock{mode}(:key), set_config('application_name', :name, false)"),
                {"key": key, "name": holder_name[:63]})[0][0])
        conn.commit()
        if not locked:
            raise busy(conn)
        yield conn
    finally:
        try:
            if locked:
                driver_rows(conn, _statement(f"SELECT pg_advisory_unlock{mode}(:key)"), {"key": key})
            if holder_name is not None:
                conn.execute(sa.text("RESET application_name"))
            conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()  # never hand a connection that may still hold the lock back to the pool
        conn.close()


@lru_cache(maxsize=16)
def _statement(sql: str) -> sa.TextClause:
    """``sql`` as a statement made once: the driver path keeps a statement's compiled shape by its
    identity (:func:`garde.store.driver.driver_rows`)."""
    return sa.text(sql)


def store_file(store: Engine) -> Path | None:
    """The SQLite store's database file, or None for PostgreSQL or a store in memory."""
    database = store.url.database
    if (store.dialect.name != "sqlite" or not database or database == ":memory:"
            or store.url.query.get("mode") == "memory"):
        return None
    return Path(database.removeprefix("file:").split("?")[0])
