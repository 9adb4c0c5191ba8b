"""DOCX notices, read with python-docx: paragraphs with their styles (headings, lists) and tables,
in document order. python-docx parses the package's XML without resolving entities."""

from __future__ import annotations

import io
import re

import docx
from docx.document import Document as WordDocument
from docx.table import Table as WordTable
from docx.text.paragraph import Paragraph

from garde.analyse.document import Document
from garde.analyse.readers.builder import DocumentBuilder
from garde.problems import GardeError

_HEADING_STYLE = re.compile(r"^(?:heading|titre|titolo|überschrift)\s*(\d)", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|liste|elenco", re.IGNORECASE)


# A notice of fifty pages has a couple of thousand paragraphs; a DOCX of a few kilobytes can hold
# hundreds of thousands (empty paragraphs compress to almost nothing).
MAX_PARAGRAPHS = 20_000


def read_docx(data: bytes, source: str) -> Document:
    word: WordDocument = docx.Document(io.BytesIO(data))
    found = len(word.element.body.xpath(".//w:p"))
    if found > MAX_PARAGRAPHS:
        raise GardeError(f"{source}: {found:,} paragraphs, more than garde analyse reads in a notice "
                         f"({MAX_PARAGRAPHS:,})")
    builder = DocumentBuilder(source)
    styles: dict[str | None, str] = {}
    for part in word.iter_inner_content():
        if isinstance(part, WordTable):
            builder.add_table(_rows(part))
        else:
            _paragraph(part, builder, styles)
    return builder.build()


def _style_name(paragraph: Paragraph, styles: dict[str | None, str]) -> str:
    """The name of the paragraph's style, looked up once per style id in ``styles``: python-docx goes
    through every style of the document at each look-up (a DOCX with thousands took minutes)."""
    style_id = paragraph._p.style
    if style_id not in styles:
        style = paragraph.style
        styles[style_id] = style.name if style is not None and style.name else ""
    return styles[style_id]


def _paragraph(paragraph: Paragraph, builder: DocumentBuilder, styles: dict[str | None, str]) -> None:
    style = _style_name(paragraph, styles)
    heading = _HEADING_STYLE.match(style)
    if heading:
        builder.add("heading", paragraph.text, int(heading.group(1)))
    elif style.lower() == "title":
        builder.add("heading", paragraph.text, 1)
    elif _LIST_STYLE.search(style) or _numbered(paragraph):
        builder.add("item", paragraph.text, 1, label=_bold_opening(paragraph))
    else:
        builder.add("paragraph", paragraph.text, label=_bold_opening(paragraph))


def _bold_opening(paragraph: Paragraph) -> str:
    """The text of the bold runs opening the paragraph, a run-in label ("**Account.** We create ..."
    as Word writes it); "" when its first words are not bold."""
    label: list[str] = []
    for run in paragraph.runs:
        if not run.text.strip() and not label:
            continue
        if run.bold is not True:
            break
        label.append(run.text)
    return "".join(label)


def _numbered(paragraph: Paragraph) -> bool:
    """A paragraph in a numbering (a bullet or numbered list) whatever its style's name."""
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _rows(table: WordTable) -> list[list[str]]:
    """The table laid out on Word's grid: each row a cell text per column. A cell merged down
    (``vMerge``) is read in each row it spans, as python-docx gives it; a cell merged across
    (``gridSpan``) at its first column, the columns it spans left empty, and a row starting after the
    grid's first column (``gridBefore``) begins with empty cells, so every cell keeps its column."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = [""] * row.grid_cols_before
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a cell merged across repeats over the columns it spans
                cells.append("")
                continue
            previous = cell._tc
            cells.append("\n".join(p.text for p in cell.paragraphs))
        rows.append(cells)
    return rows
