"""Readers: an input file (text, Markdown, HTML, DOCX, PDF) made into a
:class:`~garde.analyse.document.Document`.

Input is bounded: only a regular file is read (never a device, a pipe or a folder), a file larger
than :data:`MAX_BYTES` is refused before it is read, a DOCX whose
parts would unpack to more than :data:`MAX_UNPACKED` (or one part to more than :data:`MAX_PART`) is
refused before it is unpacked, and nothing
is fetched (no network, no external entity, no linked resource). Every refusal is a
:class:`~garde.problems.GardeError` naming the file (``garde analyse`` exits 2 with it).
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

from garde.analyse.document import Document, from_text
from garde.problems import GardeError

MAX_BYTES = 20 * 1024 * 1024  # a notice is a few hundred kilobytes; a 50-page PDF a few megabytes
MAX_UNPACKED = 100 * 1024 * 1024  # a DOCX unpacked (a zip bomb is refused before it is inflated)
# One part of a DOCX: python-docx holds a parsed XML part at about 25 times its size (a notice's
# document part is a few megabytes at most).
MAX_PART = 16 * 1024 * 1024
# Paragraphs and table cells of one document: a notice of fifty pages has a few thousand.
MAX_BLOCKS = 20_000

SUFFIXES = (".txt", ".md", ".markdown", ".tsv", ".tab", ".html", ".htm", ".docx", ".pdf")


def read(path: Path, max_bytes: int = MAX_BYTES) -> Document:
    """The document in ``path``, read by the reader its suffix names."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GardeError(f"{path}: cannot read {suffix or 'a file without a suffix'}; "
                         f"garde analyse reads {', '.join(SUFFIXES)}")
    try:
        _regular(path, path.stat(), max_bytes)  # a device is never opened (opening one can act)
        # O_NONBLOCK: a FIFO put in the file's place meanwhile does not block the open
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY), "rb") as handle:
            _regular(path, os.fstat(handle.fileno()), max_bytes)
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise GardeError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew since
        raise GardeError(f"{path}: more than garde analyse reads ({max_bytes:,} bytes)")
    return read_bytes(data, suffix, str(path))


def _regular(path: Path, status: os.stat_result, max_bytes: int) -> None:
    """Refuse what is not a regular file (``/dev/zero`` says its size is 0 and never ends; a FIFO
    blocks its reader), or is larger than ``max_bytes``."""
    if not stat.S_ISREG(status.st_mode):
        raise GardeError(f"{path}: not a regular file (a folder, a device or a pipe); garde analyse reads "
                         "documents")
    if status.st_size > max_bytes:
        raise GardeError(f"{path}: {status.st_size:,} bytes is more than garde analyse reads ({max_bytes:,})")


def read_bytes(data: bytes, suffix: str, source: str) -> Document:
    """The document in ``data``, as a file with ``suffix`` (``source`` names it in messages)."""
    readers: dict[str, Callable[[bytes, str], Document]] = {
        ".html": _html, ".htm": _html, ".docx": _docx, ".pdf": _pdf,
    }
    reader = readers.get(suffix.lower(), _text)
    document = reader(data, source)
    # The analysis takes about 0.1 ms a block: 200,000 one-letter paragraphs (600 kB of text) took 30 s.
    if len(document.blocks) > MAX_BLOCKS:
        raise GardeError(f"{source}: {len(document.blocks):,} paragraphs and cells, more than garde analyse "
                         f"reads in a notice ({MAX_BLOCKS:,})")
    return document


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data[:4096]:
        raise GardeError(f"{source}: a binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GardeError(f"{source}: the text is neither UTF-8 nor Windows-1252")


def _text(data: bytes, source: str) -> Document:
    return from_text(_decode(data, source).replace("\r\n", "\n"), source)


def _html(data: bytes, source: str) -> Document:
    from garde.analyse.readers.html_reader import read_html

    return read_html(_decode(data, source), source)


def _docx(data: bytes, source: str) -> Document:
    from garde.analyse.readers.docx_reader import read_docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = package.infolist()
    except zipfile.BadZipFile:
        raise GardeError(f"{source}: not a DOCX file (not a zip package)") from None
    # A part's size as the package declares it bounds what is inflated: zipfile stops there.
    unpacked = sum(info.file_size for info in parts)
    if unpacked > MAX_UNPACKED:
        raise GardeError(f"{source}: the DOCX unpacks to {unpacked:,} bytes, more than garde analyse "
                         f"reads ({MAX_UNPACKED:,})")
    largest = max(parts, key=lambda info: info.file_size, default=None)
    if largest is not None and largest.file_size > MAX_PART:
        raise GardeError(f"{source}: its part {largest.filename} unpacks to {largest.file_size:,} bytes, "
                         f"more than garde analyse reads in one part ({MAX_PART:,})")
    try:
        return read_docx(data, source)
    # SyntaxError: lxml's refusals of the XML (a tag never closed, a text over its 10 MB limit)
    except (KeyError, ValueError, SyntaxError, zipfile.BadZipFile) as exc:
        raise GardeError(f"{source}: not a readable DOCX file ({exc})") from None


def _pdf(data: bytes, source: str) -> Document:
    from garde.analyse.readers.pdf_reader import read_pdf

    return read_pdf(data, source)

