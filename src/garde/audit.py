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

import hashlib
import json
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
    time (the ``audit_batch_size`` setting), and at the latest ``max_delay``
    seconds after the first one was buffered (a background thread flushes),
    on :meth:`flush`, on :meth:`close` / leaving a ``with`` block, and when
    the interpreter exits normally. A failed write keeps the entries in the
    buffer and raises — on the flushing call, or on the next call after a
    background failure — so nothing is dropped silently.

    The window: until a flush commits, buffered entries live only in this
    process's memory. A hard crash (SIGKILL, power loss) loses at most
    ``batch_size`` entries or ``max_delay`` seconds of them. Use
    ``batch_size=1`` where that is not acceptable; consent events, request
    steps and retention actions are never buffered: they call :func:`record`
    inside their own transaction.
    """

    def __init__(self, engine: sa.Engine, batch_size: int | None = None, max_delay: float | None = 1.0,
                 flush_at_exit: bool = True) -> None:
        import threading

        if batch_size is None:
            from garde.settings import get_settings

            batch_size = get_settings().audit_batch_size
        self.engine = engine
        self.batch_size = max(1, batch_size)
        self.max_delay = max_delay
        self.written = 0
        self._buffer: list[Event] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._flush_at_exit = flush_at_exit
        if flush_at_exit:
            import atexit

            atexit.register(self.close)
        if max_delay is not None:
            self._thread = threading.Thread(target=self._flush_periodically, name="garde-audit-writer",
                                            daemon=True)
            self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def add(self, event: Event) -> None:
        """Buffer one entry; writes the batch when it is full."""
        self._raise_background_error()
        if self._closed:
            raise RuntimeError("this AuditWriter is closed")
        with self._lock:
            self._buffer.append(event)
            full = len(self._buffer) >= self.batch_size
        if full:
            self.flush()
        elif self._thread is not None:
            self._wake.set()

    def flush(self) -> int:
        """Append everything buffered; returns how many entries were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            try:
                with self.engine.begin() as conn:
                    record_many(conn, batch)
            except BaseException:
                with self._lock:
                    self._buffer = batch + self._buffer
                raise
            self.written += len(batch)
            return len(batch)

    def close(self) -> None:
        """Flush what is left and stop the background thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join()
        if self._flush_at_exit:
            import atexit

            atexit.unregister(self.close)
        self.flush()
        self._raise_background_error()

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _raise_background_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _flush_periodically(self) -> None:
        assert self.max_delay is not None
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            # let a batch gather: one write per max_delay at most; close() flushes the rest itself
            if self._stop.wait(self.max_delay):
                return
            try:
                self.flush()
            except Exception as exc:  # kept for the caller: the entries stay buffered
                self._error = exc
