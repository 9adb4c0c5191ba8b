"""Files that hold personal data, created readable by their owner only, whatever the umask.

The store's SQLite file, request results, the outbox of mail and the live
results of the demo hold personal data: on a shared machine a umask of 022
would let every local account read them (GDPR Art. 32(1)(b): confidentiality
of processing systems). Folders garde creates for them are ``0700``, files
``0600``; a folder that already exists is left as the operator set it. A file's name that is a
symbolic link is refused, not followed.
"""

from __future__ import annotations

import os
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


def _tighten(descriptor: int, path: str | Path) -> None:
    """``0600`` on the open file (by its descriptor where the platform allows: no race on the name)."""
    os.chmod(descriptor if os.chmod in os.supports_fd else path, PRIVATE_FILE)


def open_private(path: Path, *, newline: str | None = None) -> TextIO:
    """``path`` opened to write UTF-8 text owner-only (``0600``), its folder created owner-only."""
    private_folder(path.parent)
    return open(path, "w", encoding="utf-8", newline=newline, opener=_private_opener)


def open_private_binary(path: Path) -> BinaryIO:
    """``path`` opened to write bytes owner-only (``0600``), its folder created owner-only."""
    private_folder(path.parent)
    return open(path, "wb", opener=_private_opener)


def write_private(path: Path, content: bytes | str) -> Path:
    """Write ``content`` (text in UTF-8) to ``path`` owner-only (``0600``); return ``path``."""
    with open_private_binary(path) as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def create_private(path: Path) -> None:
    """Create ``path`` empty and owner-only unless it exists (which is left as it is)."""
    private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    _tighten(descriptor, path)
    os.close(descriptor)
