"""The tamper-evident audit log: append-only, hash-chained.

Every decision, consent event, request step, retention action and register
change is an entry. Each entry's hash is SHA-256 over a canonical
serialisation of its fields and the previous entry's hash, so changing,
deleting, inserting or reordering any entry breaks the chain from that point,
and :func:`verify` names the first bad entry. ``audit_head`` holds the last
sequence number and hash: cutting entries off the end is detected too, and
the head row's lock serialises concurrent writers on PostgreSQL.

Entries are written inside the caller's transaction (:func:`record`), so a
destructive step and its audit entry commit together or not at all.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from garde.store import is_postgres, metadata

GENESIS = "0" * 64

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject_id", sa.String(36)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class Event:
    """An entry to append: what happened, to whom, by whom, with details."""

    kind: str
    payload: Mapping[str, Any]
    subject_id: str | None = None
    actor: str = "garde"


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None


# Built once: ``json.dumps`` with options builds a new encoder on every call, which
# costs more than the encoding itself on the audit's hot path. Same bytes out.
_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
_ENTRY_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_payload(payload: Mapping[str, Any]) -> str:
    return _PAYLOAD_ENCODER.encode(payload)


def entry_hash(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
               prev_hash: str) -> str:
    """SHA-256 over the canonical serialisation of one entry and its predecessor's hash."""
    body = _ENTRY_ENCODER.encode([seq, at, kind, subject_id, actor, payload, prev_hash])
    return hashlib.sha256(body.encode()).hexdigest()


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(conn: sa.Connection) -> tuple[int, str]:
    query = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if is_postgres(conn):
        query = query.with_for_update()
    else:
        # SQLite has no SELECT ... FOR UPDATE and the driver opens the transaction at the first
        # write: a no-op write takes the database's write lock first, so two connections (the
        # AuditWriter's thread and a record() elsewhere) never read the same head.
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
    row = conn.execute(query).first()
    if row is None:
        if is_postgres(conn):
            conn.execute(sa.text("LOCK TABLE audit_head IN EXCLUSIVE MODE"))
            row = conn.execute(query).first()
        if row is None:
            conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS))
            return 0, GENESIS
    return int(row.seq), str(row.hash)


def record_many(conn: sa.Connection, events: Sequence[Event]) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last seq."""
    seq, prev = _lock_head(conn)
    if not events:
        return seq
    rows = []
    at = _timestamp()
    for event in events:
        seq += 1
        payload = canonical_payload(event.payload)
        digest = entry_hash(seq, at, event.kind, event.subject_id, event.actor, payload, prev)
        rows.append((seq, at, event.kind, event.subject_id, event.actor, payload, prev, digest))
        prev = digest
    _insert_entries(conn, rows)
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return seq


_ENTRY_COLUMNS = ("seq", "at", "kind", "subject_id", "actor", "payload", "prev_hash", "hash")
_INSERTS: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def _insert_entries(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    """One ``executemany`` straight to the driver: every value is already a str or an int,
    so SQLAlchemy's per-row bind processing would only add time (about half a flush)."""
    cached = _INSERTS.get(conn.dialect.name)
    if cached is None:
        compiled = audit_log.insert().values({c: sa.bindparam(c) for c in _ENTRY_COLUMNS}).compile(
            dialect=conn.dialect)
        positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        cached = _INSERTS[conn.dialect.name] = (compiled.string, positions)
    sql, positions = cached
    if positions is None:
        conn.exec_driver_sql(sql, [dict(zip(_ENTRY_COLUMNS, row, strict=True)) for row in rows])
    else:
        index = [_ENTRY_COLUMNS.index(name) for name in positions]
        conn.exec_driver_sql(sql, [tuple(row[i] for i in index) for row in rows])


def record(conn: sa.Connection, kind: str, payload: Mapping[str, Any], *, subject_id: str | None = None,
           actor: str = "garde") -> int:
    """Append one entry inside the caller's transaction; returns its seq."""
    return record_many(conn, [Event(kind, payload, subject_id, actor)])


def verify(conn: sa.Connection, batch: int = 10_000) -> Verification:
    """Recompute the chain; name the first entry that was changed, removed, added or moved."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    result = conn.execution_options(yield_per=batch).execute(
        sa.select(audit_log.c.seq, audit_log.c.at, audit_log.c.kind, audit_log.c.subject_id,
                  audit_log.c.actor, audit_log.c.payload, audit_log.c.prev_hash, audit_log.c.hash)
        .order_by(audit_log.c.seq))
    with result:
        for seq, at, kind, subject_id, actor, payload, prev_hash, digest in result:
            if seq != expected_seq:
                what = "missing" if seq > expected_seq else "duplicated"
                return Verification(False, checked, expected_seq, f"entry {expected_seq} is {what}")
            if prev_hash != prev:
                return Verification(False, checked, seq, f"entry {seq} does not follow entry {seq - 1}")
            if entry_hash(seq, at, kind, subject_id, actor, payload, prev_hash) != digest:
                return Verification(False, checked, seq, f"entry {seq} was modified")
            prev = digest
            expected_seq += 1
            checked += 1
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    head_seq, head_hash = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
    if (head_seq, head_hash) != (checked, prev):
        return Verification(False, checked, checked + 1,
                            f"the log ends at entry {checked} but the head says {head_seq}: entries removed")
    return Verification(True, checked)


def entries(conn: sa.Connection, since: str | None = None, subject_id: str | None = None,
            kind: str | None = None) -> Iterator[dict[str, Any]]:
    """Entries in order, as plain data (``payload`` decoded); ``since`` is an ISO timestamp."""
    query = sa.select(audit_log).order_by(audit_log.c.seq)
    if since:
        query = query.where(audit_log.c.at >= since)
    if subject_id:
        query = query.where(audit_log.c.subject_id == subject_id)
    if kind:
        query = query.where(audit_log.c.kind == kind)
    with conn.execution_options(yield_per=5000).execute(query) as result:
        for row in result:
            data = dict(row._mapping)
            data["payload"] = json.loads(data["payload"])
            yield data


class AuditWriter:
    """Buffers entries and appends them in batches, so auditing every decision stays cheap.

    Entries are appended in the order they were added, ``batch_size`` at a
    time (the ``audit_batch_size`` setting). With ``max_delay`` set (the
    default, 1 s), a **background writer thread** with its own connection
    does every write: :meth:`add` only appends to a list and, when the batch
    is full, hands it to the writer's queue, so the caller never waits for a
    write. The writer appends the queued batches one after the other (one
    writer: the hash chain keeps the order of :meth:`add`), and a partial
    batch ``max_delay`` seconds after its first entry. On SQLite (WAL) the
    decisions' reads go on while it writes; on PostgreSQL the head row's lock
    orders it with :func:`record` in other transactions.

    Back-pressure: at most ``max_queued`` full batches wait for the writer;
    :meth:`add` blocks when the queue is full, so memory stays bounded
    (``(max_queued + 2) * batch_size`` entries: the buffer, the queue and the
    batch being written) however slow the database.

    :meth:`flush` returns once everything added before it is committed;
    :meth:`close` (or leaving a ``with`` block, or a normal interpreter exit)
    stops the writer and writes what is left. A failed write keeps its
    entries, in order, for the next attempt (every ``max_delay``) and the
    error is raised by the next :meth:`add`, :meth:`flush` or :meth:`close`:
    nothing is dropped silently.

    With ``max_delay=None`` there is no thread: a full batch is written on
    the caller's thread by the :meth:`add` that fills it, and its error
    raised there (deterministic: tests, scripts).

    The window: until a write commits, entries live only in this process's
    memory. A hard crash (SIGKILL, power loss) loses at most the buffered and
    queued entries (``(max_queued + 2) * batch_size``, or ``max_delay``
    seconds of them). Use ``batch_size=1, max_delay=None`` where that is not
    acceptable; consent events, request steps and retention actions are
    never buffered: they call :func:`record` inside their own transaction.
    """

    def __init__(self, engine: sa.Engine, batch_size: int | None = None, max_delay: float | None = 1.0,
                 flush_at_exit: bool = True, max_queued: int = 4) -> None:
        if batch_size is None:
            from garde.settings import get_settings

            batch_size = get_settings().audit_batch_size
        self.engine = engine
        self.batch_size = max(1, batch_size)
        self.max_delay = max_delay
        self.max_queued = max(1, max_queued)
        self.written = 0
        self._buffer: list[Event] = []
        self._buffered_at = 0.0  # monotonic time of the buffer's first entry
        self._queue: deque[list[Event]] = deque()  # full batches, oldest first, for the writer
        self._writing = 0  # entries of the batch being written
        self._added = 0
        self._state = threading.Condition()
        self._io = threading.Lock()  # one writer at a time: the chain's order
        self._closed = False
        self._stopping = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._flush_at_exit = flush_at_exit
        if flush_at_exit:
            atexit.register(self.close)
        if max_delay is not None:
            self._thread = threading.Thread(target=self._run, name="garde-audit-writer", daemon=True)
            self._thread.start()

    @property
    def pending(self) -> int:
        """Entries added and not yet committed (buffered, queued or being written)."""
        with self._state:
            return len(self._buffer) + sum(len(b) for b in self._queue) + self._writing

    def add(self, event: Event) -> None:
        """Buffer one entry; a full batch goes to the writer (or is written now, without a thread)."""
        with self._state:
            self._raise_error()
            if self._closed:
                raise RuntimeError("this AuditWriter is closed")
            if not self._buffer:
                self._buffered_at = time.monotonic()
                if self._thread is not None:
                    self._state.notify_all()  # the writer times the partial batch from now
            self._buffer.append(event)
            self._added += 1
            if len(self._buffer) < self.batch_size:
                return
            if self._thread is None:
                batch, self._buffer = self._buffer, []
                self._queue.append(batch)
            else:
                while len(self._queue) >= self.max_queued:  # back-pressure: wait for the writer
                    self._raise_error()
                    self._state.wait(0.1)
                self._queue.append(self._buffer)
                self._buffer = []
                self._state.notify_all()
                return
        self._write_queued()

    def flush(self) -> int:
        """Append everything added so far; returns how many entries this call saw committed."""
        with self._state:
            self._raise_error()
            if self._buffer:
                self._queue.append(self._buffer)
                self._buffer = []
            before = self.written
            target = self._added
            if self._thread is not None and not self._stopping:
                self._state.notify_all()
                while self.written < target:
                    self._raise_error()
                    self._state.wait(0.1)
                return self.written - before
        self._write_queued()
        return self.written - before

    def close(self) -> None:
        """Stop the writer and append what is left; raises a write error not yet reported."""
        with self._state:
            if self._closed:
                return
            self._closed = self._stopping = True
            self._state.notify_all()
        if self._thread is not None:
            self._thread.join()
        if self._flush_at_exit:
            atexit.unregister(self.close)
        with self._state:
            if self._buffer:
                self._queue.append(self._buffer)
                self._buffer = []
            error, self._error = self._error, None
        self._write_queued()
        if error is not None:
            raise error

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------
    def _raise_error(self) -> None:
        """Raise (once) the writer thread's last error; the caller holds ``_state``."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _take(self) -> list[Event] | None:
        with self._state:
            if not self._queue:
                return None
            batch = self._queue.popleft()
            self._writing = len(batch)
            return batch

    def _write(self, conn: sa.Connection, batch: list[Event]) -> None:
        try:
            with conn.begin():
                record_many(conn, batch)
        except BaseException:
            with self._state:  # back to the front: the order of add() is kept
                self._queue.appendleft(batch)
                self._writing = 0
            raise
        with self._state:
            self.written += len(batch)
            self._writing = 0
            self._state.notify_all()

    def _write_queued(self) -> None:
        """Write every queued batch on the calling thread (no writer thread, or after close)."""
        with self._io:
            conn = self.engine.connect()
            try:
                while (batch := self._take()) is not None:
                    self._write(conn, batch)
            finally:
                conn.close()

    def _run(self) -> None:
        """The writer thread: queued batches as they come, a partial batch after ``max_delay``."""
        assert self.max_delay is not None
        delay = self.max_delay
        conn: sa.Connection | None = None
        retry_at = 0.0
        try:
            while True:
                with self._state:
                    while not self._stopping:
                        moment = time.monotonic()
                        if moment >= retry_at:
                            if self._queue:
                                break
                            if self._buffer and moment - self._buffered_at >= delay:
                                self._queue.append(self._buffer)
                                self._buffer = []
                                break
                        wake = max(retry_at, self._buffered_at + delay) if self._buffer else retry_at
                        self._state.wait(max(0.001, wake - moment) if wake > moment else None)
                    if self._stopping:
                        return  # close() writes the rest on its own thread
                with self._io:
                    try:
                        if conn is None:
                            conn = self.engine.connect()
                        while (batch := self._take()) is not None:
                            self._write(conn, batch)
                    except Exception as exc:  # kept for the caller: the entries stay queued
                        with self._state:
                            self._error = exc
                            self._state.notify_all()
                        retry_at = time.monotonic() + delay
                        if conn is not None:
                            conn.invalidate()
                            conn = None
        finally:
            if conn is not None:
                conn.close()
