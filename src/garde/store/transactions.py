"""The store's shared write path: a write transaction runs again, whole, when PostgreSQL aborted it
to break a deadlock or a conflict.

PostgreSQL breaks a deadlock by aborting one of the transactions in it (SQLSTATE ``40P01``), and
a serializable transaction that conflicts with another (``40001``): neither says the work was
wrong, only that it met another at the wrong moment, and the same work run again, once the other
has committed, succeeds. :func:`retried` runs a transaction's work again in a new transaction,
a bounded number of times, each time logged; any other error is raised at once.

Every write transaction of the store that can meet another one goes through it: the consent ledger
(recorded choices, GPC signals, imports' batches), requests' state changes (a run's start, its
completion, its failure, an extension, a rejection), erasure parts, retention sweeps' batches and
their journal, and the audit log's appends (their head row is what every writer meets last).

The work is a function of the connection, holding the WHOLE transaction: the aborted attempt rolled
back everything it wrote, and the next one starts from the top (reads again what it reads, so it
decides again on what the other transaction committed). So the work only writes through the
connection it is given, and keeps nothing from an attempt to the next. What it does elsewhere must
be idempotent: an erasure part's statements in a business database skip what is already erased,
and a mail it sends goes through the outbox (:mod:`garde.rights.outbox`) with the Message-ID
committed before, so an attempt run again sends the same message.

The bucket counters decisions read no longer deadlock (migration 0024 counts them at commit, in
order); what remains is the writers' own rows, e.g. a request's row and the audit head, taken in
the other order by another transaction.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: deadlock_detected, serialization_failure: the transaction may run again as it was.
RETRIED = frozenset({"40P01", "40001"})
#: unique_violation: two transactions creating the same new row (a subject's identity) at once; the
#: one that waited fails, and run again it finds the row the other committed (``races_to_create``).
UNIQUE_RACE = "23505"
ATTEMPTS = 5
#: seconds a caller is told to wait (HTTP Retry-After) when the attempts ran out
RETRY_AFTER = 1


def conflicted(error: BaseException) -> bool:
    """Whether ``error`` is the database aborting a transaction that met another (what
    :func:`retried` runs again): once the attempts ran out, the caller may try again later."""
    return isinstance(error, sa.exc.DBAPIError) and sqlstate(error) in RETRIED


def sqlstate(error: sa.exc.DBAPIError) -> str | None:
    """The SQLSTATE the driver gave (psycopg), None when it gives none (sqlite3)."""
    return getattr(error.orig, "sqlstate", None)


def _sqlite_unique(error: sa.exc.DBAPIError) -> bool:
    """SQLite's unique or primary-key violation (it gives no SQLSTATE)."""
    return getattr(error.orig, "sqlite_errorname", None) in ("SQLITE_CONSTRAINT_UNIQUE",
                                                             "SQLITE_CONSTRAINT_PRIMARYKEY")


def retried(store: sa.Engine | sa.Connection, work: Callable[[sa.Connection], T], *, what: str,
            attempts: int | None = None, races_to_create: bool = False) -> T:
    """``work(conn)`` in a transaction of its own, committed; run again in a new one (after a short
    random pause, growing with each attempt) when the database aborted it with a deadlock or a
    serialization failure, up to ``attempts`` times in all; ``what`` names it in the log.

    ``store``: the engine (a connection of its pool for each attempt), or a connection held for many
    transactions, with none begun (the audit writer's). ``races_to_create``: the work creates rows
    that another transaction may be creating at the same moment (a subject and its identities,
    :func:`garde.subjects.ensure_subject`; a request by its sender's id): a unique violation then
    means the other got there first, and the work run again finds what it committed."""
    attempts = attempts or ATTEMPTS
    again = RETRIED | {UNIQUE_RACE} if races_to_create else RETRIED
    for attempt in range(1, attempts + 1):
        try:
            if isinstance(store, sa.Connection):
                with store.begin():
                    return work(store)
            with store.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as error:
            state = sqlstate(error) or (UNIQUE_RACE if _sqlite_unique(error) else None)
            if state not in again or attempt == attempts:
                raise
            logger.warning("%s: aborted by the database (SQLSTATE %s), attempt %d of %d; running it again",
                           what, state, attempt, attempts)
            time.sleep(random.uniform(0, 0.02 * attempt))  # a pause that parts the two: not a secret
    raise AssertionError("unreachable")  # the loop returns or raises
