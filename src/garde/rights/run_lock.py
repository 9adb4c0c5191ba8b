"""One run of a request at a time.

``garde request run ID`` resumes a request left ``in_progress`` (a crash),
so the status alone cannot tell a resumed run from a second one started
while the first is still working: both would execute the request and the
loser would fail on completing it. The lock belongs to the process holding
it and goes with it, so a killed run never leaves a stale lock and the next
run resumes:

- PostgreSQL: a session advisory lock keyed by the request's id, on a
  connection held for the whole run;
- SQLite: an exclusive ``lockf`` on one byte of ``<database>.run-locks``
  beside the store's file, at an offset drawn from the request's id (one file
  for every request; byte-range locks beyond its end need no content), with
  a per-process set for threads of one process (``lockf`` locks belong to
  the process);
- an in-memory SQLite store lives in one process: the per-process set alone.

A rectification also holds its subject's lock (:func:`subject_rectification_lock`), waited for rather
than refused: from the moment it reads the subject's rows until its move of the subject's identities
in garde's store is committed, so that two rectifications of one subject (two requests, two new
addresses) are applied in turn.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.private_files import create_private
from garde.problems import GardeError
from garde.store.locks import session_advisory_lock, store_file
from garde.store.reads import reading

_HELD: set[tuple[str, str]] = set()
_GUARD = threading.Lock()


class RequestRunning(GardeError):
    """Another process is running the request."""

    status = 409


def _key(request_id: str, what: str = "request run") -> int:
    """A 63-bit number for the request's id (advisory lock key, byte offset)."""
    return int.from_bytes(hashlib.sha256(f"garde {what} {request_id}".encode()).digest()[:8],
                          "big") & 0x7FFF_FFFF_FFFF_FFFF


def _busy(request_id: str) -> RequestRunning:
    return RequestRunning(f"request {request_id} is being run by another process: wait for it to finish "
                          "(`garde request show`); if that process was killed, its lock went with it and "
                          "running the request again resumes it")


@contextmanager
def request_run_lock(store: Engine, request_id: str, *,
                     riding: bool = False) -> Iterator[sa.Connection | None]:
    """Hold the run lock of ``request_id`` (a full id) for the block, or raise :class:`RequestRunning`.

    On PostgreSQL the block gets the lock's own connection (in autocommit, held for the whole run):
    the run reads on it (:func:`garde.store.reads.reading`), and runs its transactions on it
    (:func:`garde.store.reads.transacting`), rather than check out, and ping, another.
    Elsewhere None.

    ``riding`` (a run, whose first statement on that connection reads the request): on PostgreSQL
    the lock is taken in the pipeline of that statement, not in a round trip of its own, and
    :class:`RequestRunning` is raised there, before the run uses what it read
    (:func:`garde.store.locks.session_advisory_lock`); the run may let its release ride behind its
    completion's COMMIT (:func:`garde.store.locks.release_with_commit`).
    """
    mine = (str(store.url), request_id)
    with _GUARD:
        if mine in _HELD:
            raise _busy(request_id)
        _HELD.add(mine)
    try:
        if store.dialect.name == "postgresql":
            with session_advisory_lock(store, _key(request_id), lambda _conn: _busy(request_id),
                                       riding=riding) as session:
                yield session
            return
        database = store_file(store)
        if database is None:
            yield None
            return
        with _byte_lock(database, request_id):
            yield None
    finally:
        with _GUARD:
            _HELD.discard(mine)


@contextmanager
def _byte_lock(database: Path, request_id: str, *, key: int | None = None) -> Iterator[None]:
    """``key``: wait for the byte of that key rather than refuse the request's when it is taken."""
    path = database.with_name(database.name + ".run-locks")
    create_private(path)
    offset = (_key(request_id) if key is None else key) >> 24  # 2^39 offsets: one shared is vanishingly rare
    mode = fcntl.LOCK_EX if key is not None else fcntl.LOCK_EX | fcntl.LOCK_NB
    with path.open("r+b") as handle:
        try:
            fcntl.lockf(handle, mode, 1, offset)
        except OSError:
            raise _busy(request_id) from None
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN, 1, offset)


# Threads of one process waiting for one subject's lock: ``lockf`` locks belong to the process.
_SUBJECTS: dict[tuple[str, int], tuple[threading.Lock, int]] = {}


@contextmanager
def subject_rectification_lock(store: Engine, subject_id: str | None,
                               session: sa.Connection | None = None) -> Iterator[None]:
    """Hold ``subject_id``'s rectification lock for the block, waiting while another run holds it.

    Two rectifications of one subject at once (two requests, each to its own new address) would each
    read the rows holding the old value, each write its new one and each link it in garde's store: the
    rows keep the last written, and the other address stays linked though no row of the subject holds
    it, so its holder could sign in and read the subject's records. Held from before the subject's rows
    are read until the move is committed, the second run reads what the first wrote. PostgreSQL: a
    session advisory lock on the run lock's connection (``session``: no transaction held open across
    the writes to the business databases); SQLite: the store's run-lock file, a byte of the subject's,
    and a lock per subject between the threads of this process. A request with no subject links
    nothing: no lock."""
    if subject_id is None:
        yield
        return
    key = _key(subject_id, "subject rectification")
    if store.dialect.name == "postgresql":
        with reading(store, session) as conn:
            conn.execute(sa.select(sa.func.pg_advisory_lock(key)))
            conn.commit()
            try:
                yield
            finally:
                try:
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    conn.commit()
                except sa.exc.DBAPIError:
                    conn.invalidate()  # never hand a connection that may still hold the lock back to the pool
        return
    mine = (str(store.url), key)
    with _GUARD:
        lock, waiting = _SUBJECTS.get(mine, (threading.Lock(), 0))
        _SUBJECTS[mine] = (lock, waiting + 1)
    try:
        with lock:
            database = store_file(store)
            if database is None:
                yield
            else:
                with _byte_lock(database, subject_id, key=key):
                    yield
    finally:
        with _GUARD:
            lock, waiting = _SUBJECTS[mine]
            if waiting == 1:
                del _SUBJECTS[mine]
            else:
                _SUBJECTS[mine] = (lock, waiting - 1)
