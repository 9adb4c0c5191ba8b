"""Readers: an input file (text, Markdown, HTML, DOCX, PDF) made into a
:class:`~garde.analyse.document.Document`.

Input is bounded: a file larger than :data:`MAX_BYTES` is refused before it is read, a DOCX whose
parts would unpack to more than :data:`MAX_UNPACKED` is refused before it is unpacked, and nothing
is fetched (no network, no external entity, no linked resource). Every refusal is a
:class:`~garde.problems.GardeError` naming the file (``garde analyse`` exits 2 with it).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from garde.analyse.document import Document, from_text
from garde.problems import GardeError

MAX_BYTES = 20 * 1024 * 1024  # a notice is a few hundred kilobytes; a 50-page PDF a few megabytes
MAX_UNPACKED = 100 * 1024 * 1024  # a DOCX unpacked (a zip bomb is refused before it is inflated)

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")


def read(path: Path, max_bytes: int = MAX_BYTES) -> Document:
    """The document in ``path``, read by the reader its suffix names."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GardeError(f"{path}: cannot read {suffix or 'a file without a suffix'}; "
                         f"garde analyse reads {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise GardeError(f"{path}: {size:,} bytes is more than garde analyse reads ({max_bytes:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise GardeError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return read_bytes(data, suffix, str(path))


def read_bytes(data: bytes, suffix: str, source: str) -> Document:
    """The document in ``data``, as a file with ``suffix`` (``source`` names it in messages)."""
    readers: dict[str, Callable[[bytes, str], Document]] = {
        ".html": _html, ".htm": _html, ".docx": _docx, ".pdf": _pdf,
    }
    reader = readers.get(suffix.lower(), _text)
    return reader(data, source)


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
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile:
        raise GardeError(f"{source}: not a DOCX file (not a zip package)") from None
    if unpacked > MAX_UNPACKED:
        raise GardeError(f"{source}: the DOCX unpacks to {unpacked:,} bytes, more than garde analyse "
                         f"reads ({MAX_UNPACKED:,})")
    try:
        return read_docx(data, source)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise GardeError(f"{source}: not a readable DOCX file ({exc})") from None


def _pdf(data: bytes, source: str) -> Document:
    from garde.analyse.readers.pdf_reader import read_pdf

    return read_pdf(data, source)

