"""Files that hold personal data, created readable by their owner only, whatever the umask.

The store's SQLite file, request results, the outbox of mail and the live
results of the demo hold personal data: on a shared machine a umask of 022
would let every local account read them (GDPR Art. 32(1)(b): confidentiality
of processing systems). Folders garde creates for them are ``0700``, files
``0600``; a folder that already exists is left as the operator set it. A file's name that is a
symbolic link is refused, not followed; so is, for a file written ``within`` a folder garde owns
(a request's answers under the results folder), any folder between that one and the file: each is
opened relative to its parent's descriptor with ``O_NOFOLLOW``, so a link planted as a request's
answer folder cannot send the subject's data elsewhere, even if it appears after a check.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, TextIO

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` and its missing parents owner-only (``0700``); return ``path``."""
    missing = []
    for folder in (path, *path.parents):  # up to the first that exists: its own parents do
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # created meanwhile by another process: theirs to set
            continue
        os.chmod(folder, PRIVATE_FOLDER)  # mkdir's mode goes through the umask
    return path


def _private_opener(path: str, flags: int) -> int:
    # O_NOFOLLOW: a link planted at the name (in a folder someone else can write) is refused, never
    # written through to a file of the linker's choosing or over one of garde's own
    descriptor = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    _tighten(descriptor, path)  # exact, and tightens a file written before
    return descriptor


def _opener_within(base: Path | None) -> Callable[[str, int], int]:
    """The opener of a file below ``base`` that follows no link from ``base`` down (``base`` itself is
    the operator's: it may be a link they made); without ``base``, :func:`_private_opener`."""
    if base is None:
        return _private_opener

    def opener(path: str, flags: int) -> int:
        parts = Path(path).relative_to(base).parts
        if not parts:
            raise IsADirectoryError(errno.EISDIR, "not a file", path)
        folder = _folder_below(base, parts[:-1])
        try:
            return _file_in(folder, parts[-1], flags, path)
        finally:
            os.close(folder)

    return opener


def _folder_below(base: Path, parts: tuple[str, ...], *, to_flush: list[int] | None = None) -> int:
    """The folder ``base/<parts>`` opened (its missing folders created owner-only), no link followed
    below ``base``; the caller closes the descriptor. ``to_flush``: the parent of each folder created
    is left open in it (its new name to be flushed with the rest: :func:`flush_together`), the caller
    closes them."""
    folder = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    shown = base
    try:  # each descriptor closed once: the loop swaps a folder for its child
        for part in parts:
            shown = shown / part
            child, created = _child_folder(folder, part, shown)
            if created and to_flush is not None:
                to_flush.append(folder)
            else:
                os.close(folder)
            folder = child
    except BaseException:
        os.close(folder)
        raise
    return folder


def _file_in(folder: int, name: str, flags: int, shown: str) -> int:
    """The file ``name`` of the folder open as ``folder``, opened with ``flags`` owner-only, not
    through a link."""
    descriptor = _no_link(lambda: os.open(name, flags | os.O_NOFOLLOW, PRIVATE_FILE, dir_fd=folder), shown)
    _tighten(descriptor, shown)
    return descriptor


def _child_folder(parent: int, name: str, shown: Path) -> tuple[int, bool]:
    """The folder ``name`` of the folder open as ``parent`` (created owner-only if missing), opened
    without following a link; and whether it was created now."""
    try:
        os.mkdir(name, PRIVATE_FOLDER, dir_fd=parent)
        created = True
    except FileExistsError:
        created = False
    child = _no_link(lambda: os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent),
                     str(shown))
    if created:
        try:
            os.chmod(child, PRIVATE_FOLDER)  # mkdir's mode goes through the umask
        except OSError:
            os.close(child)
            raise
    return child, created


def _no_link(opening: Callable[[], int], shown: str) -> int:
    try:
        return opening()
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OSError(error.errno, f"{shown} is a symbolic link (or not a folder): refused, not "
                          "followed") from None
        raise


def _tighten(descriptor: int, path: str | Path) -> None:
    """``0600`` on the open file (by its descriptor where the platform allows: no race on the name)."""
    os.chmod(descriptor if os.chmod in os.supports_fd else path, PRIVATE_FILE)


def open_private(path: Path, *, newline: str | None = None, within: Path | None = None) -> TextIO:
    """``path`` opened to write UTF-8 text owner-only (``0600``), its folder created owner-only
    (``within``: a folder above it, below which no link is followed)."""
    _folder_of(path, within)
    return open(path, "w", encoding="utf-8", newline=newline, opener=_opener_within(within))


def open_private_binary(path: Path, *, within: Path | None = None) -> BinaryIO:
    """``path`` opened to write bytes owner-only (``0600``), its folder created owner-only
    (``within``: a folder above it, below which no link is followed)."""
    _folder_of(path, within)
    return open(path, "wb", opener=_opener_within(within))


def _folder_of(path: Path, within: Path | None) -> None:
    # Below ``within`` the opener makes the folders, following no link; above it, the operator's.
    private_folder(path.parent if within is None else within)


def write_private(path: Path, content: bytes | str, *, within: Path | None = None) -> Path:
    """Write ``content`` (text in UTF-8) to ``path`` owner-only (``0600``); return ``path``
    (``within``: a folder above it, below which no link is followed)."""
    with open_private_binary(path, within=within) as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def write_private_files(folder: Path, contents: Mapping[str, bytes | str], *, within: Path,
                        durable: bool = False) -> list[Path]:
    """Write each of ``contents`` (file name -> text in UTF-8, or bytes) in ``folder``, a folder below
    ``within``, owner-only as :func:`write_private` writes one: the folder is reached (and created)
    once for all of them, where one call each walked it again (a request's answer files).

    ``durable``: on the disk when this returns (``fsync``): each file, ``folder`` (the files' names
    in it), and the parent of each folder created on the way (its name), so that a machine that stops
    after the caller commits finds them whole (an access answer: docs/requests.md). They are flushed
    together once all are written (:func:`flush_together`): one wait for the disk, not one each."""
    parts = folder.relative_to(within).parts
    private_folder(within)
    to_flush: list[int] = []
    written = []
    try:
        parent = _folder_below(within, parts, to_flush=to_flush if durable else None)
        to_flush.append(parent)
        for name, content in contents.items():
            path = folder / name
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC  # as open(path, "wb")
            descriptor = _file_in(parent, name, flags, str(path))
            to_flush.append(descriptor)
            with open(descriptor, "wb", closefd=False) as handle:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            written.append(path)
        if durable:
            flush_together(to_flush)
    finally:
        for descriptor in to_flush:
            os.close(descriptor)
    return written


_flushers: tuple[int, ThreadPoolExecutor] | None = None


def flush_together(descriptors: Sequence[int]) -> None:
    """``fsync`` each of ``descriptors`` at the same time; raise the first error once all are done.

    One after the other, each flush of a new file or folder waits for a commit of the file system's
    journal of its own (ext4: 3.5 – 19 ms for an answer's four at load 7 – 8, 2026-12-07); sent
    together, the kernel commits them in one (1.3 – 2.9 ms). Nothing is read between them, so their
    order does not matter: the caller goes on when all of them are on the disk."""
    if len(descriptors) < 2:
        for descriptor in descriptors:
            os.fsync(descriptor)
        return
    futures = []
    here = [descriptors[0]]
    for descriptor in descriptors[1:]:
        try:
            futures.append(_flusher().submit(os.fsync, descriptor))
        except RuntimeError:  # the interpreter is exiting (no new work for threads): flushed here
            here.append(descriptor)
    try:
        for descriptor in here:
            os.fsync(descriptor)
    finally:
        wait(futures)
    for future in futures:
        future.result()


def _flusher() -> ThreadPoolExecutor:
    """This process's threads that flush (made anew in a forked child: the parent's are not there)."""
    global _flushers
    if _flushers is None or _flushers[0] != os.getpid():
        _flushers = (os.getpid(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="garde-flush"))
    return _flushers[1]


class OpenFolder:
    """A folder below one garde owns, open by its descriptor: its files read, replaced and removed by
    name relative to it, no link followed (:func:`opened_within`)."""

    def __init__(self, descriptor: int, path: Path) -> None:
        self.descriptor, self.path = descriptor, path

    def read(self, name: str) -> bytes | None:
        """The bytes of the file ``name``; None when there is none (a link there is refused)."""
        try:
            descriptor = _no_link(lambda: os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                                  dir_fd=self.descriptor), str(self.path / name))
        except FileNotFoundError:
            return None
        with open(descriptor, "rb") as handle:
            return handle.read()

    def replace(self, name: str, content: bytes | str, *, durable: bool = False) -> None:
        """Write ``content`` as the file ``name``, owner-only, whole or not at all: written under a
        hidden name first, then renamed over ``name`` (a reader sees the old file or the new one, never
        a part; two writers at once leave one of their files). ``durable``: the file and its name on
        the disk (``fsync``) when this returns."""
        hidden = f".{name}.{secrets.token_hex(6)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            with open(_file_in(self.descriptor, hidden, flags, str(self.path / hidden)), "wb") as handle:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.rename(hidden, name, src_dir_fd=self.descriptor, dst_dir_fd=self.descriptor)
        except BaseException:  # a disk full, a write refused: no half-made file left (the old one is whole)
            self.remove(hidden)
            raise
        if durable:
            os.fsync(self.descriptor)

    def lock(self) -> None:
        """Wait for, then hold, the folder's exclusive lock (``flock`` on its descriptor) until the
        folder is closed: processes and threads opening the same folder take turns. On a local file
        system; a process killed holding it releases it."""
        fcntl.flock(self.descriptor, fcntl.LOCK_EX)

    def remove(self, name: str) -> None:
        """Remove the file ``name`` (one already gone is nothing)."""
        with suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.descriptor)


@contextmanager
def opened_within(folder: Path, within: Path) -> Iterator[OpenFolder]:
    """``folder``, an existing folder below ``within``, opened without following a link below
    ``within`` (:class:`OpenFolder`); closed when the block ends."""
    parts = folder.relative_to(within).parts
    descriptor = os.open(within, os.O_RDONLY | os.O_DIRECTORY)
    try:  # each descriptor closed once: the loop swaps a folder for its child
        for part in parts:
            child = _existing_folder(descriptor, part, str(folder))
            os.close(descriptor)
            descriptor = child
        yield OpenFolder(descriptor, folder)
    finally:
        os.close(descriptor)


def _existing_folder(parent: int, name: str, shown: str) -> int:
    """The existing folder ``name`` of the folder open as ``parent``, opened without following a link."""
    return _no_link(lambda: os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent), shown)


def create_private(path: Path) -> None:
    """Create ``path`` empty and owner-only unless it exists (which is left as it is)."""
    private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    _tighten(descriptor, path)
    os.close(descriptor)
