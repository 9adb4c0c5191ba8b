"""A SQLite store's commits, counted in a small shared-memory file beside it, so a reader can tell
that nothing was committed without opening a read transaction.

A decision point keeping facts must know, before each decision, that no write to them committed
since it read them (:mod:`garde.decide.freshness`). Asking SQLite costs a read transaction
(≈ 3 µs: two ``fcntl`` locks on the ``-shm`` file), more than the rest of a kept decision. This
file, ``<database>-commits``, holds one 8-byte word that every connection garde opens on the
store moves around each commit that changed rows: its version (the high bits) goes up by one
and its count of commits in flight (the low 16 bits) goes up before the commit and down after
it, both under an exclusive ``flock`` of the file. A reader maps the file and reads the word,
one aligned 8-byte load (≈ 0.1 µs):

- it may trust what it checked against the database after reading a word whose count in
  flight was 0, for as long as the word has not changed. A commit it missed (its snapshot began
  before the commit) moved the word after the reader read it, or was still in flight then
  (count > 0: the reader keeps nothing on that word);
- a process killed inside the few microseconds around a commit leaves the count above 0: readers
  then check the database every time, which is always right, until the file is removed.

Writes that do not go through a connection of :func:`garde.store.connect` (the ``sqlite3``
shell, another program) do not move the word: a reader relying on it must also look at the
database itself now and then (:class:`garde.decide.DecisionPoint`'s ``outside_writes_within``).
So do writes made in autocommit mode (no transaction, no ``commit()``), which garde does not use
for the tables a decision reads. Only on one host: the file is shared memory, as SQLite's own
``-shm`` file is in WAL mode.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

IN_FLIGHT = 0xFFFF  # the word's low 16 bits: commits between their two moves
_ONE_VERSION = IN_FLIGHT + 1
_SIZE = 8


class CommitCounter:
    """The word of one store's commits file (:func:`counter_for`), mapped in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # owner-only, as the database file
        try:
            if os.fstat(fd).st_size < _SIZE:
                with _locked(fd):
                    if os.fstat(fd).st_size < _SIZE:
                        os.ftruncate(fd, _SIZE)  # zeros: version 0, nothing in flight
            self._map = mmap.mmap(fd, _SIZE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._words = memoryview(self._map).cast("Q")  # native, aligned: one load, one store
        self.word = self._words.__getitem__  # word(0): the current word, no lock

    def begin(self) -> None:
        """Before a commit that changed rows: a new version, one more commit in flight."""
        with _locked(self._fd):
            self._words[0] = self._words[0] + _ONE_VERSION + 1

    def end(self) -> None:
        """After it (committed or not): a new version, one fewer in flight."""
        with _locked(self._fd):
            word = self._words[0]
            self._words[0] = word + _ONE_VERSION - (1 if word & IN_FLIGHT else 0)


@contextlib.contextmanager
def _locked(fd: int) -> Any:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


_COUNTERS: dict[Path, CommitCounter] = {}
_COUNTERS_LOCK = threading.Lock()


def counter_for(database: str | Path) -> CommitCounter | None:
    """The counter beside the SQLite file ``database`` (one per file and process); None where
    there is none to share (the file's folder is not writable)."""
    path = Path(str(database) + "-commits").absolute()
    with _COUNTERS_LOCK:
        counter = _COUNTERS.get(path)
        if counter is None:
            try:
                counter = _COUNTERS[path] = CommitCounter(path)
            except OSError:
                return None
        return counter


class CountedConnection(sqlite3.Connection):
    """A SQLite connection whose commits that changed rows move its store's commit counter
    (``counted``: the database file, set when garde opens it; None: counts nothing, as the
    audit writers' own connections, whose appends no decision reads). The counter's file is
    made at the first such commit."""

    counted: Path | None = None
    _changes = 0  # total_changes at the end of the last transaction

    def commit(self) -> None:
        if self.counted is None or self.total_changes == self._changes:
            super().commit()
            self._changes = self.total_changes
            return
        counter = counter_for(self.counted)
        if counter is None:
            super().commit()
            self._changes = self.total_changes
            return
        counter.begin()
        try:
            super().commit()
        finally:
            counter.end()
            self._changes = self.total_changes

    def rollback(self) -> None:
        super().rollback()
        self._changes = self.total_changes


def not_counted(dbapi_connection: Any) -> None:
    """Stop counting this connection's commits (the audit writers': a decision reads no audit)."""
    if isinstance(dbapi_connection, CountedConnection):
        dbapi_connection.counted = None
