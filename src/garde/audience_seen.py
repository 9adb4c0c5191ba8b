"""The addresses an audience stream has already written: a stream writes each address once.

A stream may reach millions of rows, so what it wrote is kept on disk, in a SQLite file, not in
memory. The file holds no address, only a keyed digest of each (BLAKE2b keyed with 32 random bytes
drawn when the stream starts and kept in the process's memory alone): a digest cannot be checked
against a list of likely addresses without the key, and a killed process takes its key with it, so
what it leaves behind is useless to whoever reads it.

The file lives in a hidden folder of garde's own exports folder (``.audience-<pid>-<host>-<random>``,
``0700``), never the system's temporary folder; the stream holds the folder's lock (``flock``) while
it runs and removes the folder when it ends or is closed. A folder left by a killed process (its
owner's pid gone, its lock free) is removed by the next stream and at the start of ``garde serve``
and ``garde worker`` (:func:`sweep`): docs/security.md, *An audience stream leaves nothing usable*.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from garde.datasets.sql import chunks
from garde.private_files import private_folder

PREFIX = ".audience-"


class Seen:
    """The keyed digests of the addresses a stream wrote, in a SQLite file of a folder of its own
    under ``exports`` (see the module's doc); :meth:`close` removes the folder."""

    def __init__(self, exports: Path) -> None:
        private_folder(exports)
        sweep(exports)
        self._key = secrets.token_bytes(32)
        self._folder = exports / f"{PREFIX}{os.getpid()}-{_host()}-{secrets.token_hex(8)}"
        self._folder.mkdir(mode=0o700)
        os.chmod(self._folder, 0o700)  # whatever the umask
        self._descriptor = os.open(self._folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # held while the stream runs (a network folder may refuse it)
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        try:
            # A scratch file, removed at the end: no journal, no flush to the disk; each batch's marks
            # committed together (kept in the file, not in memory, whatever the stream's size).
            self._db = sqlite3.connect(self._folder / "seen.db", isolation_level=None)
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE seen (mark BLOB PRIMARY KEY) WITHOUT ROWID")
        except BaseException:
            self.close()
            raise

    @property
    def folder(self) -> Path:
        return self._folder

    def mark(self, channel: str, address: Mapping[str, str]) -> bytes:
        """The keyed digest of ``address`` on ``channel`` (the same address, however its case)."""
        text = "\x1f".join([channel, *address.values()]).lower().encode()
        return hashlib.blake2b(text, key=self._key, digest_size=32).digest()

    def new(self, marks: list[bytes]) -> set[bytes]:
        """The marks of ``marks`` not added before."""
        fresh: set[bytes] = set()
        for part in chunks(list(dict.fromkeys(marks)), 900):
            places = ",".join("?" * len(part))
            old = {m for (m,) in self._db.execute(f"SELECT mark FROM seen WHERE mark IN ({places})", part)}
            fresh.update(m for m in part if m not in old)
        return fresh

    def add(self, marks: Iterable[bytes]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(m,) for m in marks])
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Remove the folder and what it holds (twice is nothing)."""
        if getattr(self, "_db", None) is not None:
            self._db.close()
            self._db = None  # type: ignore[assignment]
        if self._descriptor >= 0:
            shutil.rmtree(self._folder, ignore_errors=True)
            os.close(self._descriptor)
            self._descriptor = -1


def sweep(exports: Path) -> list[Path]:
    """Remove the stream folders of ``exports`` whose owner is gone (its pid no longer runs and
    nothing holds the folder's lock); return them. A live stream's folder is left, whoever owns it."""
    if not exports.is_dir():
        return []
    removed = []
    for folder in exports.glob(f"{PREFIX}*"):
        if folder.is_symlink() or not folder.is_dir() or _running(folder.name):
            continue
        try:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a process the owner forked still runs the stream
            os.close(descriptor)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        os.close(descriptor)
        removed.append(folder)
    return removed


def _host() -> str:
    """This machine, as the names of its streams' folders carry it (an exports folder may be shared)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _running(name: str) -> bool:
    """Whether the process whose pid the folder's name carries still runs; a folder another machine's
    process made, or a name garde did not give, counts as running: it is not this process's to remove."""
    pid, _, rest = name.removeprefix(PREFIX).partition("-")
    if not pid.isdigit() or rest.partition("-")[0] != _host():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
