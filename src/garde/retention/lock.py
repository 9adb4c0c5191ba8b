"""One retention sweep at a time per store.

Two sweeps at once would both "resume" the same unfinished run and journal
the same batches twice. The lock belongs to the process holding it and goes
with it, so a killed sweep never leaves a stale lock and the next sweep
resumes its run:

- PostgreSQL: a session advisory lock, taken on a connection held for the
  whole sweep; the holder is named in ``application_name``, which the second
  sweep reads from ``pg_stat_activity``;
- SQLite: an exclusive ``flock`` on ``<database>.sweep-lock`` beside the
  store's file, holding a line that says who took it and when;
- an in-memory SQLite store lives in one process: a process-wide lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.private_files import create_private
from garde.problems import GardeError
from garde.retention import journal
from garde.store.locks import session_advisory_lock, store_file

#: The advisory lock's key: a fixed 63-bit number, "garde retention sweep" in ASCII.
ADVISORY_KEY = int.from_bytes(b"garde-rs", "big") & 0x7FFF_FFFF_FFFF_FFFF
_IN_MEMORY = threading.Lock()


class SweepRunning(GardeError):
    """Another sweep holds the lock; the message says which run and who runs it."""

    status = 409


def holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": datetime.now(UTC).isoformat(
        timespec="seconds")}


@contextmanager
def sweep_lock(store: Engine) -> Iterator[None]:
    """Hold the store's sweep lock for the block; raise :class:`SweepRunning` if another holds it."""
    if store.dialect.name == "postgresql":
        who = holder()
        with session_advisory_lock(store, ADVISORY_KEY, lambda conn: _running(store, _advisory_holder(conn)),
                                   holder_name=f"garde retention sweep, {who['host']} pid {who['pid']}"):
            yield
        return
    database = store_file(store)
    if database is None:
        if not _IN_MEMORY.acquire(blocking=False):
            raise _running(store, "another sweep in this process")
        try:
            yield
        finally:
            _IN_MEMORY.release()
        return
    with _file_lock(store, database):
        yield


@contextmanager
def part_lock(store: Engine, run_id: str, part: str) -> Iterator[None]:
    """Hold the lock of one part of a split sweep (PostgreSQL): two workers never run the same part."""
    with _shared_sweep_lock(store, f"{run_id}:{part}",
                            f"part {part} of run {run_id[:8]} is already being swept by another worker"):
        yield


@contextmanager
def coordinator_lock(store: Engine) -> Iterator[None]:
    """Hold the lock of the job that starts (or resumes) a split sweep and plans its parts: one at a time."""
    with _shared_sweep_lock(store, "coordinator", "another worker is starting a retention sweep"):
        yield


@contextmanager
def _shared_sweep_lock(store: Engine, name: str, busy: str) -> Iterator[None]:
    """The store's sweep lock shared with the other parts of a split sweep (a whole sweep, which holds it
    alone, is refused meanwhile), and the lock ``name``, exclusive."""
    who = holder()
    digest = hashlib.sha256(f"garde retention:{name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
    with session_advisory_lock(store, ADVISORY_KEY, lambda conn: _running(store, _advisory_holder(conn)),
                               holder_name=f"garde retention part, {who['host']} pid {who['pid']}",
                               shared=True), \
         session_advisory_lock(store, key, lambda conn: SweepRunning(busy)):
        yield


def _advisory_holder(conn: sa.Connection) -> str:
    row = conn.execute(sa.text(
        "SELECT a.application_name, a.client_addr, a.query_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid::bigint = :high AND l.objid::bigint = :low AND l.objsubid = 1"),
        {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFF_FFFF}).first()
    conn.rollback()
    if row is None:
        return "another session"
    client = f" from {row.client_addr}" if row.client_addr else ""
    since = f" since {_utc(row.query_start)}" if row.query_start else ""
    return f"{row.application_name or 'another session'}{client}{since}"


@contextmanager
def _file_lock(store: Engine, database: Path) -> Iterator[None]:
    path = database.with_name(database.name + ".sweep-lock")
    create_private(path)  # beside the store, like it owner-only
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise _running(store, _file_holder(handle.read())) from None
        try:
            handle.truncate(0)
            handle.write(json.dumps(holder()) + "\n")
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _file_holder(text: str) -> str:
    try:
        who = json.loads(text)
        return f"{who['host']} pid {who['pid']} since {who['since']}"
    except (ValueError, KeyError, TypeError):
        return "another process"


def _running(store: Engine, who: str) -> SweepRunning:
    with store.connect() as conn:
        run = journal.unfinished_run(conn)
    what = f"run {run.id[:8]} as of {run.today.isoformat()}, started {_utc(run.started_at)}, " if run else ""
    return SweepRunning(f"a retention sweep is already running ({what}held by {who}): wait for it to "
                        "finish; if it was killed, the lock went with it and the next sweep resumes its run")


def _utc(at: datetime) -> str:
    """``at`` in UTC to the second (SQLite gives back naive datetimes, written in UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")
