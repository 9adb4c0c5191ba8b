"""A pooled PostgreSQL connection checked for liveness without a round trip when it was just used.

SQLAlchemy's ``pool_pre_ping`` sends an empty query before handing out each connection: a round trip
for every ``connect()`` (an access request opens several: the run lock's session, the store, each
business database). The check is kept where it can find something:

- a connection the server wrote to while it sat in the pool (a terminated backend sends its ``FATAL``
  message, a server that stops closes the socket): its socket is readable, seen without a round trip;
- a connection idle for more than :data:`QUIET_SECONDS` (a firewall or NAT may have dropped it without
  a word): the empty query, as before.

A connection that fails the check is discarded and another taken, as the pool's own check does.
:func:`garde.store.connect` sets every PostgreSQL engine so; the worker's queue pool
(:mod:`garde.jobs.pool`) uses the same test.
"""

from __future__ import annotations

import select
import weakref
from time import monotonic
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:  # psycopg is loaded by a PostgreSQL engine's first connection, not by every CLI start
    import psycopg

# A connection taken from the pool within this many seconds of its previous use is trusted unless the
# server wrote to it meanwhile; beyond, it is checked with a round trip.
QUIET_SECONDS = 5.0


def usable(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether ``connection`` is open, its server session fine and outside any transaction."""
    from psycopg.pq import ConnStatus, TransactionStatus

    return not (connection.broken or connection.closed or connection.pgconn.status != ConnStatus.OK
                or connection.pgconn.transaction_status != TransactionStatus.IDLE)


def trusted(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], used: float | None,
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
        if usable(connection) and trusted(connection, _last_returned.get(connection), monotonic()):
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
