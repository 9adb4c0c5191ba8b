"""``upgrade``: bring a store to the latest schema, garde's and (on PostgreSQL) the job queue's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from garde.store import open_store, safe_url


@dataclass(frozen=True)
class Upgrade:
    """What ``garde db upgrade`` did: the schema revision before and after, and the queue's schema."""

    database: str
    before: str | None
    after: str | None
    queue_schema: str | None  # the newest procrastinate migration the store has; None on SQLite

    def to_data(self) -> dict[str, Any]:
        return {"database": self.database, "before": self.before, "after": self.after,
                "queue_schema": self.queue_schema}


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url: str) -> Upgrade:
    """Apply every migration the store at ``url`` lacks (creating a SQLite file if needed)."""
    from garde.jobs.schema import applied
    from garde.store import connect

    probe = connect(url, create=True)
    try:
        before = _revision(probe)
    finally:
        probe.dispose()
    engine = open_store(url)
    try:
        after = _revision(engine)
        queue = None
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                queue = applied(connection)
    finally:
        engine.dispose()
    return Upgrade(safe_url(url), before, after, queue)
