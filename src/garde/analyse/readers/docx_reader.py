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

_HEADING_STYLE = re.compile(r"^(?:heading|titre|titolo|überschrift)\s*(\d)", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|liste|elenco", re.IGNORECASE)


def read_docx(data: bytes, source: str) -> Document:
    word: WordDocument = docx.Document(io.BytesIO(data))
    builder = DocumentBuilder(source)
    for part in word.iter_inner_content():
        if isinstance(part, WordTable):
            builder.add_table(_rows(part))
        else:
            _paragraph(part, builder)
    return builder.build()


def _paragraph(paragraph: Paragraph, builder: DocumentBuilder) -> None:
    style = paragraph.style.name if paragraph.style is not None and paragraph.style.name else ""
    heading = _HEADING_STYLE.match(style)
    if heading:
        builder.add("heading", paragraph.text, int(heading.group(1)))
    elif style.lower() == "title":
        builder.add("heading", paragraph.text, 1)
    elif _LIST_STYLE.search(style) or _numbered(paragraph):
        builder.add("item", paragraph.text, 1)
    else:
        builder.add("paragraph", paragraph.text)


def _numbered(paragraph: Paragraph) -> bool:
    """A paragraph in a numbering (a bullet or numbered list) whatever its style's name."""
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _rows(table: WordTable) -> list[list[str]]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats across the columns it spans
                continue
            previous = cell._tc
            cells.append("\n".join(p.text for p in cell.paragraphs))
        rows.append(cells)
    return rows
