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

The same check serves the worker's SQLAlchemy engines (the store, the data map's databases:
:func:`ping_when_quiet`): their pool pings each connection it hands out (``pool_pre_ping``), four
round trips a request job (the run lock's session, the mail's intent, a business database each).
"""

from __future__ import annotations

import select
import weakref
from time import monotonic
from typing import Any

import psycopg
import psycopg_pool
import sqlalchemy as sa
from psycopg.pq import ConnStatus, TransactionStatus

# A connection taken from the pool within this many seconds of its previous use is trusted unless the
# server wrote to it meanwhile; beyond, it is checked with a round trip.
QUIET_SECONDS = 5.0

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
    if not _usable(connection):
        raise psycopg.OperationalError("the connection is closed or not idle")
    if not _trusted(connection, _last_taken.get(connection), now):
        await psycopg_pool.AsyncConnectionPool.check_connection(connection)
    _last_taken[connection] = now


def _usable(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    return not (connection.broken or connection.closed or connection.pgconn.status != ConnStatus.OK
                or connection.pgconn.transaction_status != TransactionStatus.IDLE)


def _trusted(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], used: float | None,
             now: float) -> bool:
    """Whether a usable connection last used at ``used`` may be handed out without a round trip."""
    return used is not None and now - used <= QUIET_SECONDS and not _readable(connection.pgconn.socket)


_last_returned: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()


def ping_when_quiet(engine: sa.Engine) -> sa.Engine:
    """``engine`` (PostgreSQL through psycopg, pinging what its pool hands out) set to ping a
    connection only when it is not trusted (see the module): returned to the pool more than
    :data:`QUIET_SECONDS` ago, or written to by the server meanwhile. A connection whose ping fails is
    replaced by the pool, as before. Other engines are returned as they are."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg" \
            or sa.event.contains(engine, "checkin", _returned):
        return engine
    dialect = engine.dialect  # an engine's own: create_engine makes one per engine
    ping = dialect.do_ping

    def do_ping(connection: Any) -> bool:  # a psycopg.Connection
        if _usable(connection) and _trusted(connection, _last_returned.get(connection), monotonic()):
            return True
        return ping(connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign, assignment]
    sa.event.listen(engine, "checkin", _returned)
    return engine


def _returned(connection: psycopg.Connection[Any] | None, _record: Any) -> None:
    if connection is not None:
        _last_returned[connection] = monotonic()


def _readable(socket: int) -> bool:
    """Whether the server sent something on an idle connection (or closed it): nothing is expected."""
    try:
        readable, _, _ = select.select([socket], [], [], 0)
    except (OSError, ValueError):  # a descriptor select() cannot watch: say yes, the round trip decides
        return True
    return bool(readable)
