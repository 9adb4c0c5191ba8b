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
import contextlib
import hashlib
import json
import json.encoder
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde.store import is_postgres, metadata
from garde.store.bulk import insert_rows

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
_quote = json.encoder.encode_basestring  # what both encoders use for a str (ensure_ascii=False)


def _one_shot_encoder() -> Any:
    """The C encoder ``_PAYLOAD_ENCODER.encode`` builds on every call, built once.

    ``JSONEncoder.encode`` of a dict is ``"".join(c_make_encoder(...)(o, 0))``
    with the encoder's own settings; this is that very object, minus the
    circular-reference bookkeeping (an audit payload is a tree). ``None``
    when the C accelerator is missing or does not give the same bytes.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    encoder = _PAYLOAD_ENCODER
    try:
        built = make(None, encoder.default, _quote, encoder.indent, encoder.key_separator,
                     encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
        sample = {"b": [1, 2.5, None, True], "a": "é\"\\\n", "c": {"z": 1, "y": datetime(2020, 1, 1)}}
        if "".join(built(sample, 0)) != encoder.encode(sample):
            return None
    except Exception:  # another Python's signature: the plain path
        return None
    return built


_PAYLOAD_C = _one_shot_encoder()


def canonical_payload(payload: Mapping[str, Any]) -> str:
    if _PAYLOAD_C is not None and type(payload) is dict:
        return "".join(_PAYLOAD_C(payload, 0))
    return _PAYLOAD_ENCODER.encode(payload)


def _entry_body(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
                prev_hash: str) -> str:
    """``_ENTRY_ENCODER.encode([seq, at, kind, subject_id, actor, payload, prev_hash])``, the same
    bytes, written out for the usual types (an int and strings; ``None`` for no subject)."""
    if (type(seq) is int and type(at) is str and type(kind) is str and type(actor) is str
            and type(payload) is str and type(prev_hash) is str
            and (subject_id is None or type(subject_id) is str)):
        subject = "null" if subject_id is None else _quote(subject_id)
        return (f"[{int.__repr__(seq)},{_quote(at)},{_quote(kind)},{subject},{_quote(actor)},"
                f"{_quote(payload)},{_quote(prev_hash)}]")
    return _ENTRY_ENCODER.encode([seq, at, kind, subject_id, actor, payload, prev_hash])


def entry_hash(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
               prev_hash: str) -> str:
    """SHA-256 over the canonical serialisation of one entry and its predecessor's hash."""
    return _sha256(_entry_body(seq, at, kind, subject_id, actor, payload, prev_hash).encode()).hexdigest()


_sha256 = hashlib.sha256


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(conn: sa.Connection) -> tuple[int, str]:
    """Lock the log's head row for this transaction and read it; create it on first use.

    The head row is created with an insert that ignores a concurrent twin, then
    locked: no table lock, so two first writers cannot deadlock (each holding
    the row-share lock the other's table lock waits for).
    """
    query = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if is_postgres(conn):
        conn.execute(postgresql.insert(audit_head).values(id=1, seq=0, hash=GENESIS)
                     .on_conflict_do_nothing(index_elements=["id"]))
        query = query.with_for_update()
    else:
        # SQLite has no SELECT ... FOR UPDATE and the driver opens the transaction at the first
        # write: this write takes the database's write lock first, so two connections (the
        # AuditWriter's thread and a record() elsewhere) never read the same head.
        conn.execute(sqlite.insert(audit_head).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
    row = conn.execute(query).one()
    return int(row.seq), str(row.hash)


def record_many(conn: sa.Connection, events: Sequence[Event]) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last seq."""
    return _append(conn, [(e.kind, e.payload, e.subject_id, e.actor) for e in events])


# an entry to append, as plain data: (kind, payload, subject_id, actor); the payload a mapping,
# or already its canonical JSON when the writer process is sent it encoded
_Item = tuple[str, Any, "str | None", str]


def _append(conn: sa.Connection, items: Sequence[_Item], encoded: bool = False) -> int:
    seq, prev = _lock_head(conn)
    if not items:
        return seq
    rows = _chain(items, seq, prev, _timestamp(), encoded)
    _insert_entries(conn, rows)
    seq, prev = rows[-1][0], rows[-1][7]
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return int(seq)


def _chain(items: Sequence[_Item], seq: int, prev: str, at: str,
           encoded: bool = False) -> list[tuple[Any, ...]]:
    """The rows (seq, at, kind, subject_id, actor, payload, prev_hash, hash) that follow ``seq``,
    ``prev``: one timestamp per batch, each entry hashed with its predecessor's hash."""
    rows = []
    payload_of, body_of, sha256 = canonical_payload, _entry_body, _sha256
    for kind, data, subject_id, actor in items:
        seq += 1
        payload = data if encoded else payload_of(data)
        digest = sha256(body_of(seq, at, kind, subject_id, actor, payload, prev).encode()).hexdigest()
        rows.append((seq, at, kind, subject_id, actor, payload, prev, digest))
        prev = digest
    return rows


_ENTRY_COLUMNS = ("seq", "at", "kind", "subject_id", "actor", "payload", "prev_hash", "hash")


def _insert_entries(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    """One ``executemany`` straight to the driver: every value is already a str or an int,
    so SQLAlchemy's per-row bind processing would only add time (about half a flush)."""
    insert_rows(conn, audit_log, _ENTRY_COLUMNS, rows)


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
            self._ready = self._prepare()
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

    def _prepare(self) -> _Sink | None:
        """A sink for the writer thread, opened before the first batch (none here: it connects then)."""
        return None

    def _open(self) -> _Sink:
        """Where the writer thread's batches go: this process's own connection."""
        return _ConnectionSink(self.engine)

    def _write(self, sink: _Sink, batch: list[Event]) -> None:
        try:
            sink.write(batch)
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
            sink = _ConnectionSink(self.engine)
            try:
                while (batch := self._take()) is not None:
                    self._write(sink, batch)
            finally:
                sink.close()

    def _run(self) -> None:
        """The writer thread: queued batches as they come, a partial batch after ``max_delay``."""
        assert self.max_delay is not None
        delay = self.max_delay
        sink, self._ready = self._ready, None
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
                        if sink is None:
                            sink = self._open()
                        while (batch := self._take()) is not None:
                            self._write(sink, batch)
                    except Exception as exc:  # kept for the caller: the entries stay queued
                        with self._state:
                            self._error = exc
                            self._state.notify_all()
                        retry_at = time.monotonic() + delay
                        if sink is not None:
                            sink.discard()
                            sink = None
        finally:
            if sink is not None:
                sink.close()


class _Sink(Protocol):
    """Where a writer's batches are appended, one after the other."""

    def write(self, batch: list[Event]) -> None: ...  # appended and committed, or raises

    def close(self) -> None: ...

    def discard(self) -> None: ...  # after a failed write: not to be used again


class _ConnectionSink:
    """Batches appended by this process, on a connection of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        self.conn = engine.connect()

    def write(self, batch: list[Event]) -> None:
        with self.conn.begin():
            record_many(self.conn, batch)

    def close(self) -> None:
        self.conn.close()

    def discard(self) -> None:
        self.conn.invalidate()
        self.conn.close()


class ProcessAuditWriter(AuditWriter):
    """An :class:`AuditWriter` whose batches are hashed and written by a **child process**.

    Same arguments, same guarantees (order, back-pressure, :meth:`flush`,
    :meth:`close` and exit, errors raised by the next call, nothing dropped
    silently), same chain: the child appends each batch with
    :func:`record_many`'s code on its own connection, under the head row's
    lock. What changes is whose CPU and whose GIL pay for the hashing,
    the canonical JSON and the driver's binding: the child's. The writer
    thread here only pickles each full batch to the child's pipe and waits
    for its commit (``written`` counts it then), so the decisions' thread is
    not held up by a write in progress.

    The child (``python -c``, not :mod:`multiprocessing`: nothing of the
    caller's ``__main__`` is re-imported) is started with the writer, so
    its start-up overlaps the first batch; it is restarted after a failed
    write. It exits when its pipe closes, so it does not outlive the
    caller. With ``max_delay=None``, an in-memory SQLite database, or
    whatever :meth:`close` still finds queued, batches are written in this
    process as :class:`AuditWriter` does.
    """

    _in_process = True  # until a child process is started
    _child: _ChildSink | None = None  # the latest one

    def _prepare(self) -> _Sink | None:
        self._in_process = self._url is None
        if self._in_process:
            return None
        try:
            self._child = _ChildSink(str(self._url))
            return self._child
        except Exception as exc:  # cannot start a process here: the writer thread writes itself
            warnings.warn(f"garde: the audit writer process did not start ({exc}); "
                          "batches are written by a thread of this process", RuntimeWarning, stacklevel=4)
            self._in_process = True
            return None

    def _open(self) -> _Sink:
        if self._in_process:
            return _ConnectionSink(self.engine)
        self._child = _ChildSink(str(self._url))
        return self._child

    @property
    def _url(self) -> str | None:
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and (
                not url.database or url.database == ":memory:" or url.query.get("mode") == "memory"):
            return None  # another process would see another database
        return url.render_as_string(hide_password=False)


# The child imports garde's audit and store modules only, not the package (its __init__ imports
# everything: twice the start-up time, spent on the CPU the decisions run on).
# The writer process yields the CPU to the decisions when the machine is busy: on a saturated
# 2-vCPU VM, at the same priority it cost them p99 215 - 1,089 µs; at +10, 132 - 166 µs.
WRITER_NICENESS = 10
_CHILD = """
import sys, types
package = types.ModuleType("garde")
package.__path__ = [sys.argv[1]]
sys.modules["garde"] = package
from garde.audit import _serve_writes
_serve_writes()
"""
_FRAME = struct.Struct("!Q")


def _send(pipe: IO[bytes], data: bytes) -> None:
    pipe.write(_FRAME.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> bytes | None:
    """One frame, or ``None`` at the end of the pipe."""
    head = pipe.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    size = _FRAME.unpack(head)[0]
    data = pipe.read(size)
    return data if len(data) == size else None


class _ChildSink:
    """Batches appended by a child process: one frame per batch down its stdin, one reply up."""

    def __init__(self, url: str) -> None:
        paths = [p or os.getcwd() for p in sys.path]  # the caller's sqlalchemy, driver, ...
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(Path(__file__).resolve().parent)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.used = False
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_child: IO[bytes] = self.process.stdin
        self.from_child: IO[bytes] = self.process.stdout
        try:  # ready once it has imported what it needs (≈ 0.2 s): none of it overlaps the decisions
            _send(self.to_child, url.encode())
            if _receive(self.from_child) is None:
                raise RuntimeError(f"it exited with code {self.process.wait(5)}")
        except BaseException:
            self.discard()
            raise

    def write(self, batch: list[Event]) -> None:
        self.used = True
        items = [(e.kind, e.payload, e.subject_id, e.actor) for e in batch]
        try:
            data = pickle.dumps((False, items), pickle.HIGHEST_PROTOCOL)
        except Exception:  # a payload object that does not pickle: send its canonical JSON
            data = self._encoded(items)
        status, value = self._ask(data)
        if status == "unreadable":  # pickled here, not importable there: the same, as JSON
            status, value = self._ask(self._encoded(items))
        if status != "ok":
            raise value if isinstance(value, BaseException) else RuntimeError(str(value))

    @staticmethod
    def _encoded(items: list[_Item]) -> bytes:
        return pickle.dumps((True, [(k, canonical_payload(p), s, a) for k, p, s, a in items]),
                            pickle.HIGHEST_PROTOCOL)

    def _ask(self, data: bytes) -> tuple[str, Any]:
        _send(self.to_child, data)
        reply = _receive(self.from_child)
        if reply is None:
            code = self.process.wait(5)
            raise RuntimeError(f"the audit writer process exited (code {code}) before committing a batch")
        status, value = pickle.loads(reply)
        return str(status), value

    def close(self) -> None:
        """End the pipe: every batch sent was committed (its reply read), so the child has
        nothing left but to close its connection and exit; a daemon thread reaps it."""
        for pipe in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                pipe.close()
        if self.process.poll() is None:
            threading.Thread(target=self.process.wait, name="garde-audit-reaper", daemon=True).start()

    def discard(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                pipe.close()


def _serve_writes() -> None:
    """The writer process: append each batch read from stdin, reply on stdout; exit at its end."""
    if hasattr(os, "nice"):
        os.nice(WRITER_NICENESS)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() goes to stderr, not into the replies
    requests = sys.stdin.buffer
    url = _receive(requests)
    if url is None:
        return
    from garde.store import connect

    engine = connect(url.decode())
    _send(replies, pickle.dumps(("ready", os.getpid())))
    conn: sa.Connection | None = None
    try:
        while (data := _receive(requests)) is not None:
            try:
                encoded, items = pickle.loads(data)
            except Exception as exc:
                _send(replies, pickle.dumps(("unreadable", repr(exc))))
                continue
            try:
                if conn is None:
                    conn = engine.connect()
                with conn.begin():
                    seq = _append(conn, items, encoded)
                reply = pickle.dumps(("ok", seq))
            except Exception as exc:
                if conn is not None:
                    conn.invalidate()
                    conn.close()
                    conn = None
                try:
                    reply = pickle.dumps(("error", exc))
                    pickle.loads(reply)
                except Exception:
                    reply = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            _send(replies, reply)
    finally:
        if conn is not None:
            conn.close()
        engine.dispose()
