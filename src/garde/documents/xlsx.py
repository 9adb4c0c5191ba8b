"""The Art. 30 register as an Excel workbook a DPO opens and works in.

A cover sheet (controller, DPO, authority, date generated), then one sheet
per role: bold header row frozen in place, autofilter, wrapped text aligned
to the top, column widths that fit the content, cells with a gap shaded.
Every cell is written by :func:`append_row`: text is stored as text, never as
a formula, and what a spreadsheet would run starts with ``'`` (:mod:`.spreadsheet`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from garde.documents.art30 import RegisterDocument, Sheet
from garde.documents.spreadsheet import spreadsheet_row

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
GAP_FILL = PatternFill("solid", fgColor="FFF2CC")
GAP_FONT = Font(color="9C5700", italic=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def to_xlsx(document: RegisterDocument) -> bytes:
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    _fill_cover(cover, document)
    for sheet in document.sheets:
        _fill_sheet(workbook.create_sheet(sheet.title), sheet)
    # Fixed timestamps: the same register gives the same workbook on the same day.
    stamp = datetime.combine(document.generated, time())
    workbook.properties.created = workbook.properties.modified = stamp
    workbook.properties.creator = "garde"
    workbook.properties.title = f"{document.title} — {document.controller}"
    workbook.properties.language = document.lang
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def append_row(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append a row: text inert and typed as text (openpyxl takes a text starting with ``=`` for a
    formula unless told), numbers, dates and empty cells as they are."""
    ws.append(spreadsheet_row(values))
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
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
