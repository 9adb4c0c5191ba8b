"""The fifth held-out set's PDF and DOCX: the third set's builders, plus two layouts they lack.

Sources use the third set's markup (tests/heldout3_documents.py), with two additions:
- a source whose first line is `%two-columns` is laid out as a PDF in two columns per page (a leaflet or
  a magazine-style notice), so its text layer runs down one column, then the other;
- in a DOCX table, a cell written `^^` is merged with the cell above it (Word's vertical merge, as
  registers group several rows under one processing activity or one legal basis).
"""

from __future__ import annotations

from pathlib import Path

import docx
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from tests.heldout3_documents import SOURCE_SUFFIX, _fix_zip_times, flowables, parse
from tests.heldout3_documents import build as build_as_third_set

TWO_COLUMNS = "%two-columns"
MERGED_ABOVE = "^^"


def write_two_column_pdf(source: str, path: Path) -> None:
    """Two frames side by side on every A4 page, the story flowing from the left one to the right one."""
    margin, gap = 2 * cm, 0.8 * cm
    width = (A4[0] - 2 * margin - gap) / 2
    height = A4[1] - 2 * margin
    frames = [Frame(margin + i * (width + gap), margin, width, height, id=f"column{i}") for i in (0, 1)]
    document = BaseDocTemplate(str(path), pagesize=A4, invariant=True, title=path.stem)
    document.addPageTemplates([PageTemplate(id="two-columns", frames=frames)])
    document.build(flowables(parse(source), width))


def merge_marked_cells(path: Path) -> None:
    """Every `^^` cell of the DOCX's tables merged into the cell above it (which keeps its text)."""
    document = docx.Document(str(path))
    for grid in document.tables:
        for r, row in enumerate(grid.rows):
            for c, cell in enumerate(row.cells):
                if r and cell.text == MERGED_ABOVE:
                    cell.text = ""
                    grid.cell(r - 1, c).merge(cell)
    document.save(str(path))
    _fix_zip_times(path)


def build(folder: Path, name: str, into: Path) -> tuple[Path, str]:
    """The document to analyse and its source text (without this module's marks): built, or as committed."""
    source = folder / (name + SOURCE_SUFFIX)
    if name.endswith(".pdf") and source.exists():
        text = source.read_text(encoding="utf-8")
        if text.startswith(TWO_COLUMNS):
            path = into / name
            write_two_column_pdf(text.removeprefix(TWO_COLUMNS), path)
            return path, text.removeprefix(TWO_COLUMNS)
    path, text = build_as_third_set(folder, name, into)
    if name.endswith(".docx"):
        merge_marked_cells(path)
    return path, text.replace(MERGED_ABOVE, "")
