"""The connection pool a worker's queue statements go through: procrastinate's, minus two round trips
a statement.

procrastinate's own pool (``psycopg_pool.AsyncConnectionPool``) sends, for each of its statements
(take a job, end it, the heartbeat), a liveness check before handing a connection out (an empty
query: a round trip), then the statement, then a ``COMMIT`` (another). Each of procrastinate's
statements is one call of one of its functions, atomic by itself: in autocommit it is the same
transaction without the ``COMMIT``. And the liveness check is kept where it can find something:

- a connection the server wrote to while it sat in the pool (a terminated backend sends its ``FATAL``
  message, a server that stops closes the socket): its socket is readable, seen without a round trip;
- a connection idle for more than :data:`QUIET_SECONDS` (a firewall or NAT may have dropped it without
  a word): the empty query, as before.

A connection that fails the check is discarded and another taken, as procrastinate's check does.

The same check serves every SQLAlchemy engine garde opens on PostgreSQL (:mod:`garde.store.liveness`).
"""

from __future__ import annotations

import weakref
from time import monotonic
from typing import Any

import psycopg
import psycopg_pool

from garde.store.liveness import QUIET_SECONDS, ping_when_quiet, trusted, usable

__all__ = ["QUIET_SECONDS", "ping_when_quiet", "still_open", "worker_pool"]

_last_taken: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = weakref.WeakKeyDictionary()


def worker_pool(**arguments: Any) -> psycopg_pool.AsyncConnectionPool:
    """procrastinate's pool (``pool_factory`` of its ``PsycopgConnector``), its connections in autocommit
    and checked by :func:`still_open`."""
    return psycopg_pool.AsyncConnectionPool(**{**arguments, "check": still_open, "configure": _autocommit})


async def _autocommit(connection: psycopg.AsyncConnection[Any]) -> None:
    await connection.set_autocommit(True)


async def still_open(connection: psycopg.AsyncConnection[Any]) -> None:
    """Raise unless ``connection`` can be handed out (see the module): a round trip only for one idle
    for a while, or one the server wrote to while it sat in the pool."""
    now = monotonic()
    if not usable(connection):
        raise psycopg.OperationalError("the connection is closed or not idle")
    if not trusted(connection, _last_taken.get(connection), now):
        await psycopg_pool.AsyncConnectionPool.check_connection(connection)
    _last_taken[connection] = now
