"""Spreadsheet cells that cannot run: what every CSV and XLSX garde writes goes through here.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or with a tab or a
carriage return) is a formula to Excel and LibreOffice: a register's activity
name, a customer's street or a name in a portability file could call
``HYPERLINK`` to leak the sheet or DDE (``=cmd|' /C calc'!A0``) to run a
program on the DPO's computer ("CSV injection", OWASP). Such text is written
with a leading ``'`` (OWASP's advice): the cell shows the text, and a reader
drops the quote to get it back (:func:`from_spreadsheet_text`).

- Text that only starts with spaces or line breaks before the ``=`` is quoted
  too: some spreadsheets trim cells on import. Any Unicode space counts, and the
  invisible format characters (zero-width space, joiners, byte order mark).
- A look-alike of a sign counts as the sign: any character whose Unicode compatibility form
  (NFKC) is ``=``, ``+``, ``-`` or ``@`` — the fullwidth ``＝ ＋ － ＠`` (U+FF1D, FF0B, FF0D,
  FF20), the small ``﹦ ﹢ ﹣ ﹫`` (U+FE66, FE62, FE63, FE6B), the superscript and subscript
  ``⁼ ⁺ ₌ ₊``, ``⩵``. LibreOffice 7.4 evaluates none of them (docs/security.md), but a
  spreadsheet or an input method that folds widths, as East Asian ones do, would make them the
  ASCII sign, and a leading ``'`` costs nothing.
- A plain number written as text in ASCII (``-12.50``, ``+33612345678``) is left as it
  is: a spreadsheet reads it as a number, nothing runs, and a phone number in
  an SMS audience stays usable.
- Values that are not text (numbers, dates, ``None``) are left to the writer:
  in XLSX a number stays a numeric cell, negative ones included.
- In the files staff open (audiences, decisions), text's bidirectional controls and invisible
  characters are written as visible escapes (``\\u202e``, :mod:`garde.unseen`); a subject's
  portability file and a register's documents keep their text as written (``as_held``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from garde.unseen import shown_text

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

QUOTE = "'"
FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = frozenset("\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _first_seen(text: str) -> str:
    """The first character of ``text`` that is neither a space nor an invisible format character."""
    for character in text:
        if not character.isspace() and unicodedata.category(character) != "Cf":
            return character
    return ""


def is_formula_sign(character: str) -> bool:
    """Whether ``character`` is ``=``, ``+``, ``-`` or ``@``, or folds into one (NFKC: ``＝``, ``﹦``)."""
    return character in FORMULA_STARTS or (
        not character.isascii() and unicodedata.normalize("NFKC", character)[:1] in FORMULA_STARTS)


def _would_run(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` (after any quotes garde added) as a formula."""
    text = text.lstrip(QUOTE)
    if text[:1] in CONTROL_STARTS:
        return True
    return is_formula_sign(_first_seen(text)) and not _NUMBER.fullmatch(text)


def spreadsheet_text(text: str) -> str:
    """``text``, with a leading ``'`` when a spreadsheet would run it.

    Text already starting with quotes before a formula gets one more, so that
    :func:`from_spreadsheet_text` gives back exactly what was written.
    """
    return QUOTE + text if text and _would_run(text) else text


def from_spreadsheet_text(text: str) -> str:
    """The text :func:`spreadsheet_text` was given (for files garde, or a tool doing the same, wrote)."""
    return text[1:] if text.startswith(QUOTE) and _would_run(text[1:]) else text


def spreadsheet_cell(value: Any) -> Any:
    """A value ready for a CSV or XLSX cell: text made inert, any other value unchanged."""
    return spreadsheet_text(value) if isinstance(value, str) else value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    """A row of :func:`spreadsheet_cell` values."""
    return [spreadsheet_cell(value) for value in values]


def staff_cell(value: Any) -> Any:
    """:func:`spreadsheet_cell` for a file staff open: text's bidirectional controls and invisible
    characters written as visible escapes first (:func:`garde.unseen.shown_text`), so a cell cannot
    read as another value (an address shown reversed, an amount moved)."""
    return spreadsheet_text(shown_text(value)) if isinstance(value, str) else value


class CsvWriter:
    """:func:`csv.writer` whose every cell goes through :func:`staff_cell`, or :func:`spreadsheet_cell`
    with ``as_held=True`` (a subject's own portability data, the DPO's register: text as written).

    garde writes CSV only through this (a test holds every module to it).
    """

    def __init__(self, handle: SupportsWrite[str], *, as_held: bool = False, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)
        self._cell = spreadsheet_cell if as_held else staff_cell

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow([self._cell(value) for value in values])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def csv_chunks(rows: Iterable[Iterable[Any]], size: int = 64 * 1024) -> Iterator[str]:
    """``rows`` as CSV text through :class:`CsvWriter` (cells made inert), in pieces of about
    ``size`` characters: what a streamed HTTP answer sends, without holding the whole file."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    for values in rows:
        writer.writerow(values)
        if buffer.tell() >= size:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
