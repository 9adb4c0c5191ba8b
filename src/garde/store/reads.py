"""Connections that only read: no transaction on PostgreSQL, where one would buy nothing.

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
    if (conn.dialect.name == "postgresql" and getattr(conn.dialect, "isolation_level", None) is None
            and conn.default_isolation_level == "READ COMMITTED"):  # the server's default, not set here
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


@contextmanager
def reading(engine: Engine) -> Iterator[sa.Connection]:
    """A connection of ``engine`` for reads only (:func:`autocommit_reads`)."""
    with engine.connect() as conn:
        yield autocommit_reads(conn)
