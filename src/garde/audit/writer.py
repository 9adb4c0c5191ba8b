"""The in-process batched writer: :class:`AuditWriter`, its writer thread, and the sinks
(:class:`_Sink`, :class:`_ConnectionSink`) its batches are appended through."""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from garde.audit import Event, _append, _Item
from garde.audit.keys import configured_keyring
from garde.store.commits import not_counted
from garde.store.transactions import retried


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
        self._buffer: list[_Item] = []
        self._buffered_at = 0.0  # monotonic time of the buffer's first entry
        self._queue: deque[list[_Item]] = deque()  # full batches, oldest first, for the writer
        self._writing = 0  # entries of the batch being written
        self._added = 0
        # the Condition's own lock, held directly on the hot path (add_entry): entering it through
        # the Condition costs a Python-level call each way
        self._mutex = threading.RLock()
        self._state = threading.Condition(self._mutex)
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
        self.add_entry(event.kind, event.payload, event.subject_id, event.actor)

    def add_entry(self, kind: str, payload: Mapping[str, Any] | str | tuple[str, datetime | str | float, str],
                  subject_id: str | None, actor: str) -> None:
        """:meth:`add` of the event with these fields, without building it (the decisions' path).
        A str ``payload`` is taken as the payload's canonical JSON (:func:`canonical_payload`'s
        bytes) and appended as it is; a tuple ``(head, time, tail)`` is that JSON in parts,
        ``head + JSON string of time.isoformat() + tail`` (a str time as it is, a float as the UTC
        time of those POSIX seconds: :meth:`datetime.timestamp` of a UTC datetime), formatted and
        joined by whoever writes the batch (:func:`garde.audit.payload_text`): the caller only
        queues it (≈ 0.4 µs)."""
        with self._mutex:
            if self._error is not None:
                self._raise_error()
            if self._closed:
                raise RuntimeError("this AuditWriter is closed")
            buffer = self._buffer
            if not buffer:
                self._buffered_at = time.monotonic()
                if self._thread is not None:
                    self._state.notify_all()  # the writer times the partial batch from now
            buffer.append((kind, payload, subject_id, actor))
            self._added += 1
            if len(buffer) < self.batch_size:
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

    def add_entries(self, items: Sequence[_Item]) -> None:
        """:meth:`add_entry` of each ``(kind, payload, subject_id, actor)``, in order, under one
        lock (:meth:`garde.decide.DecisionPoint.decide_many`'s path): the same entries, in the
        same batches of ``batch_size``, with the same back-pressure."""
        if not items:
            return
        with self._mutex:
            if self._error is not None:
                self._raise_error()
            if self._closed:
                raise RuntimeError("this AuditWriter is closed")
            buffer, size, threaded = self._buffer, self.batch_size, self._thread is not None
            if not buffer:
                self._buffered_at = time.monotonic()
                if threaded:
                    self._state.notify_all()  # the writer times the partial batch from now
            self._added += len(items)
            start, full = 0, False
            while True:
                buffer = self._buffer
                if len(buffer) < size:
                    taken = items[start:start + size - len(buffer)]
                    buffer.extend(taken)
                    start += len(taken)
                    if len(buffer) < size:
                        break  # every item is in
                if threaded:
                    while len(self._queue) >= self.max_queued:  # back-pressure: wait for the writer
                        self._raise_error()
                        self._state.wait(0.1)
                    if self._buffer is not buffer:  # another caller queued it while this one waited
                        continue
                    self._state.notify_all()
                self._queue.append(buffer)
                self._buffer, full = [], True
                if start >= len(items):
                    break
                self._buffered_at = time.monotonic()
            if threaded or not full:
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

    def _take(self) -> list[_Item] | None:
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

    def _write(self, sink: _Sink, batch: list[_Item]) -> None:
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

    def write(self, batch: list[_Item]) -> None: ...  # appended and committed, or raises

    def close(self) -> None: ...

    def discard(self) -> None: ...  # after a failed write: not to be used again


class _ConnectionSink:
    """Batches appended by this process, on a connection of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        from garde.settings import get_settings

        self.batched = get_settings().audit_batch_rows  # decisions in batch rows (garde.audit.batches)
        self.conn = engine.connect()
        not_counted(self.conn.connection.dbapi_connection)  # appends move no decision's facts

    def write(self, batch: list[_Item]) -> None:
        # record_many()'s append: sealed with the configured audit key; run again, whole, on a deadlock
        key = configured_keyring().current
        batched = self.batched
        retried(self.conn, lambda conn: _append(conn, batch, key, batched=batched),
                what=f"audit append of {len(batch)} entries")

    def close(self) -> None:
        self.conn.close()

    def discard(self) -> None:
        self.conn.invalidate()
        self.conn.close()
