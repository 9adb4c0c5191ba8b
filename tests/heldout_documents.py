"""The second held-out set's PDF and DOCX notices, built at test time from Markdown-like sources.

A source (tests/data/analyse/heldout2/source/NAME.md) is read as a few kinds of blocks: headings
(`#`, `##`, `###`), paragraphs, bullet items (`- `) and pipe tables (`| a | b |` with a `|---|` rule
under the header). The same blocks are rendered with reportlab (PDF, text layer) and python-docx
(DOCX, real headings, list paragraphs and tables), and read back as plain text: the text a label's
excerpt must occur in. Both files are byte-for-byte the same on every run (reportlab's invariant
mode; the DOCX's dates and zip entry times fixed), so nothing binary is committed and no verdict
depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.shared import Pt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Block:
    """One piece of a source: kind is heading (level 1-3), paragraph, bullet or table."""

    kind: str
    text: str = ""
    level: int = 0
    rows: tuple[tuple[str, ...], ...] = ()


def read_source(path: Path) -> list[Block]:
    """The blocks of a source file, in order."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    table: list[tuple[str, ...]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()
        if table:
            blocks.append(Block("table", rows=tuple(table)))
            table.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        heading = re.match(r"(#{1,3}) (.+)", stripped)
        if not stripped:
            flush()
        elif stripped.startswith("|"):
            if paragraph:
                flush()
            if not re.fullmatch(r"\|[\s|:-]+\|", stripped):
                table.append(tuple(cell.strip() for cell in stripped.strip("|").split("|")))
        elif heading:
            flush()
            blocks.append(Block("heading", heading.group(2), level=len(heading.group(1))))
        elif stripped.startswith("- "):
            flush()
            blocks.append(Block("bullet", stripped[2:]))
        else:
            paragraph.append(stripped)
    flush()
    return blocks


def plain_text(blocks: list[Block]) -> str:
    """The text the rendered document carries: one line per block, table cells one per line."""
    lines: list[str] = []
    for block in blocks:
        if block.kind == "table":
            lines.extend(cell for row in block.rows for cell in row)
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _wide(blocks: list[Block]) -> bool:
    return any(block.kind == "table" and len(block.rows[0]) > 5 for block in blocks)


def write_pdf(blocks: list[Block], path: Path) -> Path:
    """A PDF with a text layer: headings, paragraphs, bullet lists and tables of wrapped cells."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=11, leading=16, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=12, spaceAfter=0)
    heads = {1: styles["Title"], 2: styles["Heading2"], 3: styles["Heading3"]}
    size = landscape(A4) if _wide(blocks) else A4
    story: list[object] = []
    bullets: list[ListItem] = []
    for block in [*blocks, Block("end")]:
        if block.kind != "bullet" and bullets:
            story.append(ListFlowable(list(bullets), bulletType="bullet", leftIndent=14))
            bullets.clear()
        if block.kind == "heading":
            story.append(Paragraph(escape(block.text), heads[block.level]))
        elif block.kind == "paragraph":
            story.append(Paragraph(escape(block.text), body))
        elif block.kind == "bullet":
            bullets.append(ListItem(Paragraph(escape(block.text), body)))
        elif block.kind == "table":
            columns = len(block.rows[0])
            width = (size[0] - 4 * cm) / columns
            data = [[Paragraph(escape(text), cell) for text in row] for row in block.rows]
            table = Table(data, colWidths=[width] * columns, repeatRows=1)
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]))
            story += [table, Spacer(1, 8)]
    document = SimpleDocTemplate(
        str(path), pagesize=size, invariant=1, title=blocks[0].text, author="garde tests",
        leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm,
    )
    document.build(story)
    return path


def write_docx(blocks: list[Block], path: Path) -> Path:
    """A DOCX with Word's own heading and list styles and real tables."""
    document = docx.Document()
    document.core_properties.created = FIXED_TIME
    document.core_properties.modified = FIXED_TIME
    document.core_properties.title = blocks[0].text
    if _wide(blocks):
        section = document.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for block in blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=block.level)
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "bullet":
            document.add_paragraph(block.text, style="List Bullet")
        elif block.kind == "table":
            table = document.add_table(rows=len(block.rows), cols=len(block.rows[0]))
            table.style = "Table Grid"
            for cells, row in zip(table.rows, block.rows, strict=True):
                for target, text in zip(cells.cells, row, strict=True):
                    target.text = text
                    for run in target.paragraphs[0].runs:
                        run.font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_fixed_zip_times(buffer.getvalue()))
    return path


def _fixed_zip_times(data: bytes) -> bytes:
    """The same DOCX with every entry dated 1980-01-01, so two builds are identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


WRITERS = {".pdf": write_pdf, ".docx": write_docx}


def build(folder: Path, name: str, into: Path) -> tuple[Path, str]:
    """The document to analyse and its source text: a committed file as is, or a PDF/DOCX built into `into`.

    The source text of a built document is its blocks' plain text; of a committed one, its content.
    """
    suffix = Path(name).suffix
    if suffix not in WRITERS:
        path = folder / name
        return path, path.read_text(encoding="utf-8")
    blocks = read_source(folder / "source" / f"{Path(name).stem}.md")
    return WRITERS[suffix](blocks, into / name), plain_text(blocks)
