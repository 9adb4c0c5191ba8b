"""The sixth held-out set's PDF and DOCX: the fifth set's builders, plus merged cells in a PDF's table.

Sources use the third set's markup (tests/heldout3_documents.py) and the fifth set's additions
(tests/heldout5_documents.py). A `^^` cell of a PDF's table is now merged with the cell above it too, as
a register printed from a spreadsheet or a word processor spans one activity or one basis over the rows
it covers (reportlab's SPAN: the text is drawn once, in the top cell, with one box around the rows).
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from tests.heldout3_documents import SOURCE_SUFFIX, cells, flowables, parse
from tests.heldout5_documents import MERGED_ABOVE
from tests.heldout5_documents import build as build_as_fifth_set


def spans(rows: list[list[str]]) -> list[tuple[int, int, int]]:
    """(column, first row, last row) of every run of `^^` cells, with the cell above the run they join."""
    runs: list[tuple[int, int, int]] = []
    for c in range(len(rows[0])):
        r = 1
        while r < len(rows):
            if rows[r][c] == MERGED_ABOVE:
                last = r
                while last + 1 < len(rows) and rows[last + 1][c] == MERGED_ABOVE:
                    last += 1
                runs.append((c, r - 1, last))
                r = last
            r += 1
    return runs


def write_pdf_with_merged_cells(source: str, path: Path) -> None:
    """The third set's PDF layout, each table's `^^` cells emptied and spanned into the cell above."""
    blocks = parse(source)
    merged = [spans([cells(row) for row in block.lines]) for block in blocks if block.kind == "table"]
    for block in blocks:
        if block.kind == "table":
            block.lines = [row.replace(MERGED_ABOVE, "") for row in block.lines]
    story = flowables(blocks, A4[0] - 4 * cm)
    for table, runs in zip([item for item in story if isinstance(item, Table)], merged, strict=True):
        table.setStyle(TableStyle([("SPAN", (c, first), (c, last)) for c, first, last in runs]))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=True, title=path.stem).build(story)


def build(folder: Path, name: str, into: Path) -> tuple[Path, str]:
    """The document to analyse and its source text (without the builders' marks): built, or as committed."""
    source = folder / (name + SOURCE_SUFFIX)
    if name.endswith(".pdf") and source.exists():
        text = source.read_text(encoding="utf-8")
        if MERGED_ABOVE in text:
            path = into / name
            write_pdf_with_merged_cells(text, path)
            return path, text.replace(MERGED_ABOVE, "")
    return build_as_fifth_set(folder, name, into)
