"""Write transactions run again when PostgreSQL aborted them to break a deadlock or a conflict.

PostgreSQL breaks a deadlock by aborting one of the transactions in it (SQLSTATE ``40P01``), and
a serializable transaction that conflicts with another (``40001``): neither says the work was
wrong, only that it met another at the wrong moment, and the same work run again, once the other
has committed, succeeds. :func:`retried` runs a transaction's work again in a new transaction,
a bounded number of times, each time logged. The work must only write through the connection it
is given (everything it wrote went with the rollback) and may not have sent anything elsewhere.

The bucket counters decisions read no longer deadlock (migration 0024 counts them at commit, in
order); what remains is the writers' own rows, e.g. two imports creating the same new people in
opposite orders, each waiting for the other's new identifiers.
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
ATTEMPTS = 5


def sqlstate(error: sa.exc.DBAPIError) -> str | None:
    """The SQLSTATE the driver gave (psycopg), None when it gives none (sqlite3)."""
    return getattr(error.orig, "sqlstate", None)


def retried(store: sa.Engine, work: Callable[[sa.Connection], T], *, what: str,
            attempts: int = ATTEMPTS) -> T:
    """``work(conn)`` in a transaction of its own, committed; run again in a new one (after a short
    random pause, growing with each attempt) when the database aborted it with a deadlock or a
    serialization failure, up to ``attempts`` times in all; ``what`` names it in the log."""
    for attempt in range(1, attempts + 1):
        try:
            with store.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as error:
            state = sqlstate(error)
            if state not in RETRIED or attempt == attempts:
                raise
            logger.warning("%s: aborted by the database (SQLSTATE %s), attempt %d of %d; running it again",
                           what, state, attempt, attempts)
            time.sleep(random.uniform(0, 0.02 * attempt))  # a pause that parts the two: not a secret
    raise AssertionError("unreachable")  # the loop returns or raises
