"""Locks that belong to the process holding them, so a killed holder never leaves a stale one.

Used by the retention sweep (one per store) and by request runs (one per
request). On PostgreSQL a session advisory lock on a connection held for the
block; on SQLite a lock file beside the store's database (:func:`store_file`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.store.driver import Rider, driver_rows, drop_riders, pipelines, ride_after_commit, ride_first

_RELEASE = "garde.locks.release"  # the connection's ``info``: the release of a riding lock, once taken


@contextmanager
def session_advisory_lock(store: Engine, key: int, busy: Callable[[sa.Connection], Exception], *,
                          holder_name: str | None = None, shared: bool = False,
                          riding: bool = False) -> Iterator[sa.Connection]:
    """Hold PostgreSQL's session advisory lock ``key`` for the block, or raise ``busy(connection)``.
    The block gets the lock's connection (in autocommit), to read on without checking out another.
    ``shared``: held with other shared holders, refused while an exclusive holder has it.

    ``holder_name`` is set as the session's ``application_name`` while it holds the lock, so that
    a refused caller can say who holds it (``pg_stat_activity``).

    ``riding`` (an exclusive lock without a holder's name, through psycopg): the lock is taken with
    the block's first statement on the connection, not before (:func:`garde.store.driver.ride_first`:
    in the pipeline of a request run's first reads, no round trip of its own), and ``busy`` is raised
    there, before the block uses what those reads returned; a block that sends nothing on the
    connection takes nothing. :func:`release_with_commit` lets the release ride behind the COMMIT of
    the block's last transaction (else it is sent at the block's end, as without ``riding``).
    """
    # Autocommit: a session lock outlives transactions, so one around each statement would only add
    # a COMMIT round trip after taking the lock and another after releasing it.
    conn = store.connect().execution_options(isolation_level="AUTOCOMMIT")
    locked = released = False
    riders: int | None = None
    mode = "_shared" if shared else ""

    def taken(value: Any) -> None:
        nonlocal locked
        if not value:
            raise busy(conn)
        locked = True
        conn.info[_RELEASE] = Rider("SELECT pg_advisory_unlock(%s)", (key,), left)

    def left(value: Any) -> None:
        nonlocal released
        released = bool(value)

    try:
        if riding and holder_name is None and not shared and pipelines(conn):
            riders = ride_first(conn, Rider("SELECT pg_try_advisory_lock(%s)", (key,), taken))
        else:
            # on the driver (:mod:`garde.store.driver`): a request run takes and leaves its lock each
            # time, and SQLAlchemy's execution of the two statements cost twice the driver's (157 µs of
            # CPU a run)
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
        if riders is not None:
            drop_riders(riders)
            with suppress(sa.exc.SQLAlchemyError):  # a connection invalidated meanwhile has none
                conn.info.pop(_RELEASE, None)
        try:
            if locked and not released:
                driver_rows(conn, _statement(f"SELECT pg_advisory_unlock{mode}(:key)"), {"key": key})
            if holder_name is not None:
                conn.execute(sa.text("RESET application_name"))
            conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()  # never hand a connection that may still hold the lock back to the pool
        conn.close()


def release_with_commit(conn: sa.Connection) -> None:
    """Let the riding lock held on ``conn`` (:func:`session_advisory_lock`'s ``riding``) be released
    behind the COMMIT of the next transaction ended on it by :func:`garde.store.driver.driver_many`,
    in that round trip (a lock not taken, or not riding: nothing)."""
    release = conn.info.get(_RELEASE)
    if release is not None:
        ride_after_commit(conn, release)


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
