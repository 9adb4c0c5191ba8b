"""The third held-out set's PDF and DOCX, built at test time from committed text sources.

A document whose name ends in .pdf or .docx is committed as `NAME.source`, in a small markup of this
module's own: `#`, `##` and `###` headings, `- ` bullets, `|`-separated table rows (the first row is
the header; a cell of `^` alone is the cell above, merged down into this row: a DOCX vertical merge,
a PDF cell spanning the rows, drawn at its first) and `---page---` for a page break; any other
non-empty line is a paragraph; inside a table cell, ` ¶ ` parts the cell's paragraphs (a Word cell
of several paragraphs, lines broken in the PDF's cell). The PDF is written with reportlab (table
cells are wrapping paragraphs in fixed column widths, so a long cell runs over several lines) and the
DOCX with python-docx (a real Word table). Both are deterministic: reportlab in invariant mode, the DOCX with
fixed core properties and zip times. Every other document (text, Markdown, HTML, TSV) is read as
committed.
"""

from __future__ import annotations

import datetime
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

SOURCE_SUFFIX = ".source"
FIXED_TIME = datetime.datetime(2026, 12, 1, 9, 0, 0)


@dataclass
class Block:
    """One block of a source: a heading (level 1-3), a paragraph, a bullet list, a table, a page break."""

    kind: str
    lines: list[str] = field(default_factory=list)
    level: int = 0


def parse(source: str) -> list[Block]:
    blocks: list[Block] = []
    for line in source.splitlines():
        text = line.strip()
        if not text:
            continue
        last = blocks[-1] if blocks else None
        if text == "---page---":
            blocks.append(Block("page"))
        elif text.startswith("#"):
            marks = len(text) - len(text.lstrip("#"))
            blocks.append(Block("heading", [text[marks:].strip()], marks))
        elif text.startswith("- "):
            if last and last.kind == "bullets":
                last.lines.append(text[2:])
            else:
                blocks.append(Block("bullets", [text[2:]]))
        elif text.startswith("|"):
            if last and last.kind == "table":
                last.lines.append(text)
            else:
                blocks.append(Block("table", [text]))
        else:
            blocks.append(Block("paragraph", [text]))
    return blocks


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def write_pdf(blocks: list[Block], path: Path, cell_padding: float | None = None) -> None:
    """The PDF of `blocks`; `cell_padding` (points, above and below each cell's text) pads table rows."""
    story = flowables(blocks, A4[0] - 4 * cm, cell_padding)
    SimpleDocTemplate(str(path), pagesize=A4, invariant=True, title=path.stem).build(story)


def flowables(blocks: list[Block], width: float, cell_padding: float | None = None) -> list[Flowable]:
    """What reportlab lays out for `blocks`, tables spread over `width` points."""
    styles = getSampleStyleSheet()
    body, cell = styles["BodyText"], styles["BodyText"].clone("cell", fontSize=8, leading=9.5)
    story: list[Flowable] = []
    for block in blocks:
        if block.kind == "page":
            story.append(PageBreak())
        elif block.kind == "heading":
            story.append(Paragraph(escape(block.lines[0]), styles[f"Heading{block.level}"]))
        elif block.kind == "paragraph":
            story.append(Paragraph(escape(block.lines[0]), body))
        elif block.kind == "bullets":
            items = [ListItem(Paragraph(escape(line), body)) for line in block.lines]
            story.append(ListFlowable(items, bulletType="bullet", start="–"))
        else:
            texts = [cells(row) for row in block.lines]
            rows = [[Paragraph("" if text == MERGED else _cell_markup(text), cell) for text in row]
                    for row in texts]
            table = Table(rows, colWidths=[width / len(rows[0])] * len(rows[0]), repeatRows=1)
            padding = [] if cell_padding is None else [
                ("TOPPADDING", (0, 0), (-1, -1), cell_padding),
                ("BOTTOMPADDING", (0, 0), (-1, -1), cell_padding),
            ]
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                *padding,
                *(("SPAN", (c, top), (c, bottom)) for c, top, bottom in merged_runs(texts)),
            ]))
            story.append(table)
    return story


MERGED = "^"  # a table cell merged with the one above
CELL_BREAK = " ¶ "  # parts a table cell's paragraphs


def _cell_markup(text: str) -> str:
    """A cell's text for reportlab: escaped, its paragraphs (:data:`CELL_BREAK`) on lines of their own."""
    return "<br/>".join(escape(part) for part in text.split(CELL_BREAK))


def merged_runs(rows: list[list[str]]) -> list[tuple[int, int, int]]:
    """(column, first row, last row) of each cell merged down over the rows below it (`^` cells)."""
    runs = []
    for c in range(len(rows[0])):
        r = 1
        while r < len(rows):
            if rows[r][c] == MERGED:
                top = r - 1
                while r < len(rows) and rows[r][c] == MERGED:
                    r += 1
                runs.append((c, top, r - 1))
            else:
                r += 1
    return runs


def write_docx(blocks: list[Block], path: Path) -> None:
    document = docx.Document()
    for block in blocks:
        if block.kind == "page":
            document.add_page_break()
        elif block.kind == "heading":
            document.add_heading(block.lines[0], level=block.level)
        elif block.kind == "paragraph":
            document.add_paragraph(block.lines[0])
        elif block.kind == "bullets":
            for line in block.lines:
                document.add_paragraph(line, style="List Bullet")
        else:
            rows = [cells(row) for row in block.lines]
            grid = document.add_table(rows=len(rows), cols=len(rows[0]))
            grid.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    if text != MERGED:
                        first, *more = text.split(CELL_BREAK)
                        grid.cell(r, c).text = first
                        for part in more:
                            grid.cell(r, c).add_paragraph(part)
            for c, top, bottom in merged_runs(rows):
                grid.cell(top, c).merge(grid.cell(bottom, c))
    properties = document.core_properties
    properties.created = properties.modified = FIXED_TIME
    properties.author = properties.last_modified_by = "held-out set 3"
    properties.revision = 1
    document.save(str(path))
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """The same bytes on every run: python-docx stamps each zip member with the current time."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, blob in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(fixed, blob)


def build(folder: Path, name: str, into: Path, cell_padding: float | None = None) -> tuple[Path, str]:
    """The document to analyse and its source text: built into `into` from NAME.source, or as committed.

    `cell_padding` pads a PDF's table rows (see `write_pdf`)."""
    source = folder / (name + SOURCE_SUFFIX)
    if not source.exists():
        path = folder / name
        return path, path.read_text(encoding="utf-8")
    text = source.read_text(encoding="utf-8")
    path = into / name
    if name.endswith(".pdf"):
        write_pdf(parse(text), path, cell_padding)
    else:
        write_docx(parse(text), path)
    return path, text
