"""Connections that only read: no transaction on PostgreSQL, where one would buy nothing; and a
held connection lent to a caller's transactions (:func:`writing_on`, :func:`transacting`).

At PostgreSQL's READ COMMITTED (its default) each statement reads its own
snapshot, inside a transaction or not: a transaction around reads gives them
no common view, only a ``BEGIN`` and a ``ROLLBACK`` round trip (and psycopg
forgets its prepared statements at every ``ROLLBACK``, with a ``DEALLOCATE
ALL`` round trip of its own). Such reads run in autocommit. A server whose
default isolation is stricter, or an engine configured with its own level,
keeps its transactions; so does SQLite, where a read transaction is one
snapshot for all its reads and costs no round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def autocommit_reads(conn: sa.Connection) -> sa.Connection:
    """``conn`` (not begun yet) set to read in autocommit where that changes nothing but round trips."""
    if _reads_in_autocommit(conn):  # the server's default isolation, not set here
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


@contextmanager
def reading(engine: Engine, session: sa.Connection | None = None) -> Iterator[sa.Connection]:
    """A connection of ``engine`` for reads only (:func:`autocommit_reads`).

    ``session``: a connection of ``engine`` the caller holds in autocommit (a run lock's), read on
    when reads would be in autocommit anyway: no other connection is checked out (each checkout is
    a ping, a round trip, on PostgreSQL). It is left as it is.
    """
    if session is not None and session.get_execution_options().get("isolation_level") == "AUTOCOMMIT" \
            and _reads_in_autocommit(session):
        yield session
        return
    with engine.connect() as conn:
        yield autocommit_reads(conn)


def writing_on(engine: Engine, session: sa.Connection | None) -> Engine | sa.Connection:
    """Where the caller's transactions go (:func:`garde.store.transactions.retried` takes either):
    ``session``, a connection of ``engine`` held in autocommit (a run lock's), when :func:`transacting`
    may lend it; else ``engine``, whose every transaction checks out a connection (on PostgreSQL a
    ping, a round trip, each)."""
    if session is not None and session.engine is engine \
            and session.get_execution_options().get("isolation_level") == "AUTOCOMMIT" \
            and _reads_in_autocommit(session):
        return session
    return engine


@contextmanager
def transacting(target: Engine | sa.Connection) -> Iterator[Engine | sa.Connection]:
    """``target`` ready for transactions in the block: an engine as it is; a connection of
    :func:`writing_on` taken out of autocommit (to its engine's isolation level, so each
    ``begin()`` is a real transaction, committed or rolled back whole), and put back after."""
    if isinstance(target, Engine):
        yield target
        return
    if target.in_transaction():  # autocommit: only SQLAlchemy's marker, the server has none to end
        target.commit()
    target.execution_options(isolation_level=getattr(target.dialect, "isolation_level", None)
                             or target.default_isolation_level)
    try:
        yield target
    finally:
        if not target.invalidated:  # a lost connection is not set again: the caller's error stands
            if target.in_transaction():
                target.rollback()
            target.execution_options(isolation_level="AUTOCOMMIT")


def _reads_in_autocommit(conn: sa.Connection) -> bool:
    return (conn.dialect.name == "postgresql" and getattr(conn.dialect, "isolation_level", None) is None
            and conn.default_isolation_level == "READ COMMITTED")
