"""Rate limits kept in the store, so they hold across every server process and machine.

A limit is ``limit`` hits per ``window`` for one (scope, key): the scope names what is counted
(``session.start.address``), the key who (a client address, the keyed digest of an identity,
never a raw identity). Windows are fixed and aligned on the epoch: a caller gets at most
``limit`` hits in each window, so at most twice that across one window's edge.

Each hit is ONE conditional statement (an upsert whose update has a ``WHERE``), never a read
then a write: on SQLite and on PostgreSQL, parallel hits from any number of processes on the
same key accept exactly ``limit`` of them in a window::

    INSERT INTO rate_limits (scope, key, window_start, hits) VALUES (:scope, :key, :start, 1)
    ON CONFLICT (scope, key) DO UPDATE
      SET hits = CASE WHEN rate_limits.window_start = :start THEN rate_limits.hits + 1 ELSE 1 END,
          window_start = :start
      WHERE rate_limits.window_start <> :start OR rate_limits.hits < :limit
    RETURNING hits

A refused hit changes nothing and returns no row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde.problems import GardeError
from garde.store import metadata
from garde.subjects import now

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    # Start of the current window, in seconds since the epoch (UTC).
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
)


@dataclass(frozen=True)
class Limit:
    """``limit`` hits per ``window`` in the scope named ``scope``."""

    scope: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window.total_seconds() < 1:
            raise ValueError(f"rate limit {self.scope}: at least 1 hit per window of at least 1 second")


class RateLimited(GardeError):
    """Too many hits: try again after ``retry_after`` seconds (HTTP 429, ``Retry-After``)."""

    status = 429

    def __init__(self, limit: Limit, retry_after: int, *, what: str = "attempts") -> None:
        self.limit, self.retry_after = limit, retry_after
        seconds = int(limit.window.total_seconds())
        super().__init__(f"too many {what} ({limit.limit} per {_period(seconds)}); "
                         f"try again in {retry_after} s")


def _period(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} s"


def hit(conn: sa.Connection, limit: Limit, key: str, *, at: datetime | None = None) -> int:
    """Count one hit of ``key`` under ``limit``: the hits of the window so far (this one
    included), or :class:`RateLimited` when the window is full (nothing is counted then).

    The hit is written in ``conn``'s transaction: it counts once that commits. Count before
    the work that costs (mail, a code check), and commit even when the work is refused.
    """
    moment = (at or now()).timestamp()
    window = int(limit.window.total_seconds())
    start = int(moment // window) * window
    table = rate_limits
    insert = (postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table))
    current = table.c.window_start == start
    values = insert.values(scope=limit.scope, key=key[:128], window_start=start, hits=1)
    statement = values.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={"hits": sa.case((current, table.c.hits + 1), else_=sa.literal(1)), "window_start": start},
        where=sa.or_(~current, table.c.hits < limit.limit),
    ).returning(table.c.hits)
    counted = conn.execute(statement).scalar()
    if counted is None:
        raise RateLimited(limit, max(1, math.ceil(start + window - moment)))
    return int(counted)


def exhausted(conn: sa.Connection, limit: Limit, key: str, *, at: datetime | None = None) -> int | None:
    """Without counting: the seconds until ``key`` may hit ``limit`` again, or None when it may now
    (for limits that count failures only: check before the attempt, :func:`hit` after a failure)."""
    moment = (at or now()).timestamp()
    window = int(limit.window.total_seconds())
    start = int(moment // window) * window
    c = rate_limits.c
    hits = conn.execute(sa.select(c.hits).where(c.scope == limit.scope, c.key == key[:128],
                                                 c.window_start == start)).scalar()
    if hits is None or hits < limit.limit:
        return None
    return max(1, math.ceil(start + window - moment))


def forget_windows(conn: sa.Connection, *, before: datetime | None = None) -> int:
    """Delete the counters whose window ended before ``before`` (default now); how many.

    A counter of a past window is restarted by its next hit anyway: this only keeps the table
    small (a key per client address and identity digest seen)."""
    cutoff = int((before or now()).timestamp())
    # A window ends at its start plus its length; a day is the longest window garde uses.
    old = rate_limits.c.window_start < cutoff - 86400
    return conn.execute(rate_limits.delete().where(old)).rowcount or 0
