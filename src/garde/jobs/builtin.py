"""The job kinds of the queue itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from garde.jobs.kinds import job


@job("garde.ping")
def ping(store: Engine, message: str = "pong") -> dict[str, Any]:
    """A job that does nothing but answer: proves a worker takes jobs from this store."""
    return {"message": message, "database": store.dialect.name}
