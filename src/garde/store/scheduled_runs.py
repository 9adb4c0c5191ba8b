"""What scheduled work has done, so that running it again does not do it twice.

Scheduled work (deadline reminders to the DPO, the audit head's export) runs from cron, by hand
or on the queue's workers, sometimes twice on the same day and sometimes at the same time on two
machines. Each run *claims* what it is about to do, ``(work, day, state)``, in the transaction
that does it: the claim's primary key lets one run in; another run with the same claim waits for
the first to commit (PostgreSQL) or for the database's write lock (SQLite), then finds the claim
taken and does nothing. A run that fails rolls its claim back with the rest, so the next run does
the work. ``state`` is a digest of what the work acts on (the list of requests a mail names, the
head exported): a different state the same day is different work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde.store import is_postgres, metadata
from garde.subjects import now

scheduled_runs = sa.Table(
    "scheduled_runs",
    metadata,
    sa.Column("work", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),  # what the run did, as JSON (no personal data)
)


def claim(conn: sa.Connection, work: str, day: date, state: str, summary: Mapping[str, Any]) -> bool:
    """Claim ``work`` on ``day`` for ``state`` in the caller's transaction: True when this run is the
    first (it must then do the work before committing), False when it was done already."""
    values = {"work": work, "day": day, "state": state, "done_at": now(),
              "summary": json.dumps(summary, sort_keys=True, default=str)}
    if is_postgres(conn):
        statement: Any = postgresql.insert(scheduled_runs).values(values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(scheduled_runs).values(values).on_conflict_do_nothing()
    # RETURNING, not rowcount: a driver may report -1 for an insert that did nothing
    return conn.execute(statement.returning(scheduled_runs.c.work)).first() is not None


def claimed(conn: sa.Connection, work: str, day: date, state: str) -> bool:
    """Whether ``work`` was done on ``day`` for ``state`` (a dry run's question; no lock taken)."""
    query = sa.select(sa.literal(1)).where(scheduled_runs.c.work == work, scheduled_runs.c.day == day,
                                           scheduled_runs.c.state == state)
    return conn.execute(query).first() is not None
