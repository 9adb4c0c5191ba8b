"""The writer whose batches are hashed and written by a child process: :class:`ProcessAuditWriter`,
and the child's protocol (its program, the pipe's frames, :func:`_serve_writes`)."""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from garde.audit import _append, _Item, payload_text
from garde.audit.keys import AuditKey, configured_keyring
from garde.audit.writer import AuditWriter, _ConnectionSink, _Sink
from garde.store.commits import not_counted
from garde.store.transactions import retried


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
from garde.audit.process import _serve_writes
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
            [sys.executable, "-c", _CHILD, str(Path(__file__).resolve().parent.parent)],  # garde/
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.used = False
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_child: IO[bytes] = self.process.stdin
        self.from_child: IO[bytes] = self.process.stdout
        try:  # ready once it has imported what it needs (≈ 0.2 s): none of it overlaps the decisions
            key = configured_keyring().current  # the child reads no settings: its key comes down the pipe
            _send(self.to_child, url.encode())
            _send(self.to_child, b"" if key is None else key.secret)
            if _receive(self.from_child) is None:
                raise RuntimeError(f"it exited with code {self.process.wait(5)}")
        except BaseException:
            self.discard()
            raise

    def write(self, batch: list[_Item]) -> None:
        self.used = True
        items = batch
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
        return pickle.dumps((True, [(k, payload_text(p), s, a) for k, p, s, a in items]),
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


def _appending(items: list[_Item], key: AuditKey | None, encoded: bool,
               batched: bool = True) -> Callable[[sa.Connection], int]:
    """The append of one batch, as a transaction's work (run again, whole, on a deadlock); ``batched``:
    its decisions in batch rows (the ``audit_batch_rows`` setting)."""
    return lambda conn: _append(conn, items, key, encoded, batched=batched)


def _serve_writes() -> None:
    """The writer process: append each batch read from stdin, reply on stdout; exit at its end."""
    if hasattr(os, "nice"):
        os.nice(WRITER_NICENESS)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() goes to stderr, not into the replies
    requests = sys.stdin.buffer
    url = _receive(requests)
    secret = _receive(requests)
    if url is None or secret is None:
        return
    key = AuditKey.from_secret(secret) if secret else None
    from garde.store import connect

    engine = connect(url.decode(), create=True)
    from garde.settings import get_settings

    batched = get_settings().audit_batch_rows
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
                    not_counted(conn.connection.dbapi_connection)  # appends move no decision's facts
                seq = retried(conn, _appending(items, key, encoded, batched),
                              what=f"audit append of {len(items)} entries")
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
