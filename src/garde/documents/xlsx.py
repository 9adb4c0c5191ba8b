"""The Art. 30 register as an Excel workbook a DPO opens and works in.

A cover sheet (controller, DPO, authority, date generated), then one sheet
per role: bold header row and first column frozen in place, autofilter,
wrapped text aligned to the top, column widths that fit the content, row
heights that show every line, cells with a gap shaded; then, as the CNIL
model register lays it out, one sheet per activity (a field a row). Every
sheet prints on A4, fit to the page's width, its header repeated on each page.
Every cell is written by :func:`append_row`: text is stored as text, never as
a formula, and what a spreadsheet would run starts with ``'`` (:mod:`.spreadsheet`); a control
character XML cannot carry (a register's ``"\\x01"``) is written as U+FFFD (:func:`xlsx_text`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from garde.documents.art30 import RegisterDocument, Sheet
from garde.documents.spreadsheet import spreadsheet_row
from garde.documents.wording import Cell

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
GAP_FILL = PatternFill("solid", fgColor="FFF2CC")
GAP_FONT = Font(color="9C5700", italic=True)
WRAP = Alignment(wrap_text=True, vertical="top")
# The C0 controls XML 1.0 cannot carry (all but tab, LF and CR): openpyxl refuses a cell holding one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(text: str) -> str:
    """``text`` with each character a workbook cannot hold shown as U+FFFD (seen, not dropped)."""
    return _NOT_XML.sub("\ufffd", text)


def to_xlsx(document: RegisterDocument) -> bytes:
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    _fill_cover(cover, document)
    for sheet in document.sheets:
        _fill_sheet(workbook.create_sheet(sheet.title), sheet)
    titles = {ws.title for ws in workbook.worksheets}
    for sheet in document.sheets:
        dates = sheet.dates or tuple(() for _ in sheet.rows)
        for activity_id, row, stated in zip(sheet.activity_ids, sheet.rows, dates, strict=True):
            title = _unique_title(activity_id, titles)
            _fill_activity(workbook.create_sheet(title), sheet, row, stated)
    # Fixed timestamps: the same register gives the same workbook on the same day.
    stamp = datetime.combine(document.generated, time())
    workbook.properties.created = workbook.properties.modified = stamp
    workbook.properties.creator = "garde"
    workbook.properties.title = xlsx_text(f"{document.title} — {document.controller}")
    workbook.properties.language = document.lang
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def append_row(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append a row: text inert and typed as text (openpyxl takes a text starting with ``=`` for a
    formula unless told), numbers, dates and empty cells as they are."""
    ws.append(spreadsheet_row(xlsx_text(v) if isinstance(v, str) else v for v in values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _fill_cover(ws: Worksheet, document: RegisterDocument) -> None:
    ws.title = document.cover_title
    append_row(ws, [document.title])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(ws, [])
    for label, value in document.cover:
        append_row(ws, [label, value.plain()])
        row = ws.max_row
        ws.cell(row, 1).font = Font(bold=True)
        for column in (1, 2):
            ws.cell(row, column).alignment = WRAP
        if value.gaps:
            ws.cell(row, 2).fill = GAP_FILL
            ws.cell(row, 2).font = GAP_FONT
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 80
    _print_setup(ws, landscape=False)


# A spreadsheet row is about 15 points per line of text at the default size; Excel caps it at 409.
LINE_HEIGHT, MAX_HEIGHT = 15, 409


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (a fair estimate)."""
    return sum(max(1, -(-len(line) // max(width, 1))) for line in text.split("\n")) if text else 1


def _fit_height(ws: Worksheet, row: int, texts_widths: Iterable[tuple[str, int]]) -> None:
    ws.row_dimensions[row].height = min(MAX_HEIGHT, LINE_HEIGHT * max(
        (_lines(text, width) for text, width in texts_widths), default=1))


def _print_setup(ws: Worksheet, landscape: bool) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _unique_title(activity_id: str, taken: set[str]) -> str:
    """A sheet title from the activity id (ids are [a-z0-9_-]): 31 characters at most, unique."""
    title, n = activity_id[:31], 2
    while title in taken:
        suffix = f"~{n}"
        title, n = activity_id[:31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def _fill_activity(ws: Worksheet, sheet: Sheet, row: dict[str, Cell],
                   dates: tuple[tuple[str, str], ...]) -> None:
    """The CNIL model's sheet of one activity: the role's heading, the record's dates the register
    states, then a field a row."""
    append_row(ws, [sheet.title, row["name"].plain()])
    for target in ws[1]:
        target.font = Font(bold=True, size=12)
        target.alignment = WRAP
    for label, day in dates:
        append_row(ws, [label, day])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    for column in sheet.columns:
        value = row[column.key]
        append_row(ws, [column.header, value.plain()])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for index in (1, 2):
            ws.cell(ws.max_row, index).alignment = WRAP
        if value.gaps:
            ws.cell(ws.max_row, 2).fill = GAP_FILL
            ws.cell(ws.max_row, 2).font = GAP_FONT
        _fit_height(ws, ws.max_row, [(column.header, 30), (value.plain(), 90)])
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 92
    _print_setup(ws, landscape=False)


def _fill_sheet(ws: Worksheet, sheet: Sheet) -> None:
    append_row(ws, [column.header for column in sheet.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
    for row in sheet.rows:
        append_row(ws, [row[column.key].plain() for column in sheet.columns])
        for index, column in enumerate(sheet.columns, start=1):
            target = ws.cell(ws.max_row, index)
            target.alignment = WRAP
            if row[column.key].gaps:
                target.fill = GAP_FILL
                target.font = GAP_FONT
        _fit_height(ws, ws.max_row, [(row[c.key].plain(), c.width) for c in sheet.columns])
    _fit_height(ws, 1, [(c.header, c.width) for c in sheet.columns])
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "B2"  # the header row and the first column stay in view
    ws.auto_filter.ref = ws.dimensions
    _print_setup(ws, landscape=True)
    ws.print_title_rows = "1:1"
    ws.print_title_cols = "A:A"
