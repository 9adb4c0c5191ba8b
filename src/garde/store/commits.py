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
  then check the database every time, which is always right. Each commit in flight is also
  marked with its process (a slot after the word: its pid and its count, with the pid
  namespace's number); a reader that finds the count above 0 asks :meth:`CommitCounter.recover`
  (at most every ``RECOVER_EVERY`` seconds), which takes back the count of every mark whose
  process is gone and moves the version, so the word settles by itself. A process it cannot
  see (another pid namespace), a reused pid or a mark that did not fit (``SLOTS`` processes
  committing at once) keeps its count: the safe side, readers then ask the database.

Writes that do not go through a connection of :func:`garde.store.connect` (the ``sqlite3``
shell, another program) do not move the word: a reader relying on it must also look at the
database itself now and then (:class:`garde.decide.DecisionPoint`'s ``outside_writes_within``).
So do writes made in autocommit mode (no transaction, no ``commit()``), which garde does not use
for the tables a decision reads. Only on one host: the file is shared memory, as SQLite's own
``-shm`` file is in WAL mode.

Whoever can write the word can hide a commit from readers (put it back to a value they noted), so
garde uses the file only when it is its own: opened without following a link, a regular file of
this process's user, owner-only, with one name, 1,032 bytes long (or empty, just made, or the 8 bytes
of the word alone that earlier versions made, then extended), in a folder no
one else may write (or sticky). Anything else at that path (another user's or a world-writable
file, a link, a FIFO, a folder, a file of another size) is left alone, said once in the log, and
the store is read instead: no commit is counted and readers ask the store for every decision. A
file removed (or replaced) while garde runs is noticed by writers at their next commit and by
readers at their next look at the store (:meth:`CommitCounter.current`). Truncating the file while
processes map it kills them (SIGBUS): only its owner or root can, and should remove it instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import mmap
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

IN_FLIGHT = 0xFFFF  # the word's low 16 bits: commits between their two moves
_ONE_VERSION = IN_FLIGHT + 1
SLOTS = 64  # processes whose commits in flight are marked: two words each, (pid << 16 | count, namespace)
_OLD_SIZE = 8  # the word alone, as garde made the file before marks
_SIZE = 8 * (1 + 2 * SLOTS)  # an older file of the word alone grows to it (zeros: free slots)
RECOVER_EVERY = 0.1  # seconds between two looks of one process for marks whose process is gone


class CommitCounter:
    """The word of one store's commits file (:func:`counter_for`), mapped in this process."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = path = Path(str(database) + "-commits")
        self._name = str(path)
        # never through a link; a FIFO opens without waiting and is refused below
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)  # owner-only, as the database file
        try:
            _trust(os.fstat(fd))
            if os.fstat(fd).st_size < _SIZE:
                with _locked(fd):
                    if os.fstat(fd).st_size < _SIZE:
                        os.ftruncate(fd, _SIZE)  # zeros: version 0, nothing in flight
            self._map = mmap.mmap(fd, _SIZE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        opened = os.fstat(fd)
        self._identity = (opened.st_dev, opened.st_ino)
        self._words = memoryview(self._map).cast("Q")  # native, aligned: one load, one store
        self.word = self._words.__getitem__  # word(0): the current word, no lock
        self._recover_at = 0.0
        self._slot = self._slot_pid = 0  # this process's slot while it has commits in flight

    def current(self) -> bool:
        """Whether the file at the path is still the one mapped (not removed, replaced or cut
        short): one ``stat``, for writers before a commit and readers at each look at the store."""
        try:
            now = os.stat(self._name, follow_symlinks=False)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == self._identity and now.st_size == _SIZE

    def begin(self) -> None:
        """Before a commit that changed rows: a new version, one more commit in flight, marked
        with this process (the count first: killed in between, a count without a mark stays, as
        before marks, rather than a mark that would take back another process's count)."""
        with _locked(self._fd):
            self._words[0] = self._words[0] + _ONE_VERSION + 1
            self._mark(1)

    def end(self) -> None:
        """After it (committed or not): the mark taken back, then a new version, one fewer in flight."""
        with _locked(self._fd):
            word = self._words[0]
            if word & IN_FLIGHT:
                self._mark(-1)
            self._words[0] = word + _ONE_VERSION - (1 if word & IN_FLIGHT else 0)

    def recover(self) -> bool:
        """Take back the commits in flight of processes that are gone (killed between a commit's
        two moves), with a new version; True when the word changed. Looks at most every
        ``RECOVER_EVERY`` seconds (a reader calls it whenever it finds a commit in flight)."""
        moment = time.monotonic()
        if moment < self._recover_at:
            return False
        self._recover_at = moment + RECOVER_EVERY
        with _locked(self._fd):
            words, gone = self._words, 0
            for slot in range(1, len(words), 2):
                held = words[slot]
                if held and words[slot + 1] == _NAMESPACE and not _alive(held >> 16):
                    gone += held & IN_FLIGHT
                    words[slot] = words[slot + 1] = 0
            if gone:
                word = words[0]
                words[0] = word + _ONE_VERSION - min(gone, word & IN_FLIGHT)
            return gone > 0

    def _mark(self, step: int) -> None:
        """This process's slot counts ``step`` more commits in flight (freed at 0; the lock held).
        A process holds one slot while it has commits in flight, noted here; none otherwise."""
        words, me = self._words, os.getpid()
        slot = self._slot if self._slot_pid == me else 0
        if slot and words[slot] >> 16 == me and words[slot + 1] == _NAMESPACE:
            count = (words[slot] & IN_FLIGHT) + step
            words[slot + 1] = _NAMESPACE if count > 0 else 0
            words[slot] = me << 16 | count if count > 0 else 0
            return
        if step <= 0:
            return
        for slot in range(1, len(words), 2):
            if not words[slot]:
                words[slot + 1] = _NAMESPACE
                words[slot] = me << 16 | step
                self._slot, self._slot_pid = slot, me
                return
        # no free slot: the count stays unmarked (never taken back)


def _namespace() -> int:
    """This process's pid namespace (its inode; 1 where there is none): a mark is only judged by
    processes that see the same pids."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino & 0xFFFF_FFFF_FFFF_FFFF or 1
    except OSError:
        return 1


_NAMESPACE = _namespace()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still end its commit (a zombie cannot; unsure: alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


@contextlib.contextmanager
def _locked(fd: int) -> Any:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class Untrusted(OSError):
    """Something at the commits file's path that garde did not make for itself."""


def _trust(found: os.stat_result) -> None:
    if not stat.S_ISREG(found.st_mode):
        raise Untrusted("is not a regular file")
    if found.st_uid != os.geteuid():
        raise Untrusted(f"belongs to user {found.st_uid}, not to this process's {os.geteuid()}")
    if found.st_mode & 0o077:
        raise Untrusted(f"is not owner-only (mode {stat.S_IMODE(found.st_mode):o})")
    if found.st_nlink != 1:
        raise Untrusted(f"has {found.st_nlink} names")
    if found.st_size not in (0, _OLD_SIZE, _SIZE):  # an older file of the word alone is extended
        raise Untrusted(f"is {found.st_size} bytes long, not {_SIZE}")


def _trust_folder(folder: Path) -> None:
    """A folder others may write (without the sticky bit) lets them swap the file for their own."""
    found = os.stat(folder)
    if found.st_mode & 0o022 and not found.st_mode & stat.S_ISVTX:
        raise Untrusted(f"is in {folder}, which others may write (mode {stat.S_IMODE(found.st_mode):o})")
    if found.st_uid not in (os.geteuid(), 0):
        raise Untrusted(f"is in {folder}, which belongs to user {found.st_uid}")


_COUNTERS: dict[Path, CommitCounter] = {}  # by the file's absolute path
_BY_NAME: dict[str | Path, CommitCounter] = {}  # by the database's name as callers give it
_COUNTERS_LOCK = threading.Lock()
_SAID: set[Path] = set()
_log = logging.getLogger(__name__)


def counter_for(database: str | Path) -> CommitCounter | None:
    """The counter beside the SQLite file ``database`` (one per file and process, opened again when
    the file was removed or replaced); None where there is none to trust (the folder is not
    writable, or what is at the path is not garde's own: said once per path in the log). Called
    at every counted commit: a dictionary look-up by the name given and one ``stat``."""
    with _COUNTERS_LOCK:
        counter = _BY_NAME.get(database)
        if counter is not None and counter.current():
            return counter
        absolute = Path(database).absolute()
        path = Path(str(absolute) + "-commits")
        counter = _COUNTERS.get(path)
        if counter is None or not counter.current():
            _COUNTERS.pop(path, None)  # the old map stays open: readers may still hold it
            counter = _open(absolute, path)
            if counter is None:
                _BY_NAME.pop(database, None)
                return None
            _COUNTERS[path] = counter
        _BY_NAME[database] = counter
        return counter


def _open(database: Path, path: Path) -> CommitCounter | None:
    try:
        _trust_folder(path.parent)
        return CommitCounter(database)
    except Untrusted as exc:
        _say_once(path, str(exc))
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EROFS, errno.ENOENT):
            _say_once(path, exc.strerror or str(exc))  # a link (ELOOP), a folder (EISDIR)…
    return None


def _say_once(path: Path, reason: str) -> None:
    if path not in _SAID:
        _SAID.add(path)
        _log.warning("%s %s: garde does not use it, and reads the store for every decision on "
                     "kept facts instead", path, reason)


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
