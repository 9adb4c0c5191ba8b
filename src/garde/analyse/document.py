"""A document as the analyser sees it: its whole text, its blocks and its tables.

Readers (one per format) produce a :class:`Document`; everything downstream reads only this.
Every block and cell keeps its text verbatim and its offset in :attr:`Document.text`, so any
evidence quoted from a block is a substring of the text read from the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "item", "cell"]


@dataclass(frozen=True, slots=True)
class Block:
    """A heading, a paragraph, a list item or a table cell, with its place in the text."""

    kind: BlockKind
    text: str
    start: int
    level: int = 0  # a heading's level (1 = top), a list item's depth; 0 otherwise
    # a paragraph's run-in label, its first ``lead`` characters set in bold by the reader's format
    # ("<p><strong>Account.</strong> We ...": 8): a name for the paragraph, as a heading would be
    lead: int = 0


@dataclass(frozen=True, slots=True)
class Table:
    """A table: its rows of cells (the first row is usually the header), each cell a block."""

    rows: tuple[tuple[Block, ...], ...]
    # a cell left empty may be the one above merged down: a PDF draws a merged cell once, in its
    # first row, where HTML and DOCX say which cells are merged (their readers repeat the cell)
    merged_unmarked: bool = False

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(cell.text for cell in self.rows[0]) if self.rows else ()


@dataclass(frozen=True, slots=True)
class Document:
    """What a reader made of one input file."""

    source: str  # the file's name, for messages
    text: str  # the whole text; every block's text is text[start:start + len(block.text)]
    blocks: tuple[Block, ...]  # in reading order, table cells included (kind "cell")
    tables: tuple[Table, ...] = ()
    language: str = ""  # "fr", "en" or "it"; "" until detected
    headings: tuple[Block, ...] = field(default=())
    # the language the file declares for its text (an HTML page's `lang`: "fr", "en", "it"), "" if none
    declared_language: str = ""

    def section_of(self, block: Block) -> Block | None:
        """The nearest heading before ``block``, or None."""
        found: Block | None = None
        for heading in self.headings:
            if heading.start > block.start:
                break
            found = heading
        return found


_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def from_text(text: str, source: str = "<text>") -> Document:
    """A plain-text or Markdown document: headings (``#``), list items, paragraphs separated by
    blank lines, and tables written as Markdown pipes or tab-separated lines.

    This is the simplest reader; the richer formats (HTML, DOCX, PDF) have their own readers
    that build the same structure.
    """
    blocks: list[Block] = []
    tables: list[Table] = []
    rows: list[tuple[Block, ...]] = []
    paragraph: list[tuple[int, str]] = []
    offset = 0
    in_item = False  # the line before was a list item's (or its continuation's)

    def flush_paragraph() -> None:
        if paragraph:
            start = paragraph[0][0]
            end = paragraph[-1][0] + len(paragraph[-1][1])
            blocks.append(Block("paragraph", text[start:end], start))
            paragraph.clear()

    def flush_table() -> None:
        if rows:
            tables.append(Table(tuple(rows)))
            rows.clear()

    for line in text.splitlines(keepends=True):
        start = offset
        offset += len(line)
        body = line.rstrip("\r\n")
        if not body.strip():
            flush_paragraph()
            flush_table()
            in_item = False
            continue
        cells = _cells(body, start)
        if cells is not None:
            flush_paragraph()
            if not _MD_RULE.match(body):
                rows.append(cells)
                blocks.extend(cells)
            continue
        flush_table()
        heading = _HEADING.match(body)
        if heading:
            flush_paragraph()
            blocks.append(Block("heading", heading.group(2), start + heading.start(2), len(heading.group(1))))
            continue
        item = _ITEM.match(body)
        if item:
            flush_paragraph()
            blocks.append(Block("item", item.group(2), start + item.start(2), len(item.group(1)) // 2 + 1))
            in_item = True
            continue
        lead = len(body) - len(body.lstrip())
        if in_item and _continues(blocks[-1].text, body, lead):
            last = blocks[-1]
            blocks[-1] = Block("item", text[last.start:start + len(body.rstrip())], last.start, last.level)
            continue
        in_item = False
        paragraph.append((start + lead, body.strip()))
    flush_paragraph()
    flush_table()
    ordered = tuple(sorted(blocks, key=lambda b: b.start))
    return Document(
        source=source,
        text=text,
        blocks=ordered,
        tables=tuple(tables),
        headings=tuple(b for b in ordered if b.kind == "heading"),
    )


def _continues(item: str, line: str, indent: int) -> bool:
    """Whether ``line``, right after a list item's line, continues it: indented under it (Markdown's
    wrapped item, "- We process your subscription because this is necessary for our" then "  contract
    with you."), or unindented after an item that ends mid-sentence and opening in lower case (a plain
    text wrapped at its width)."""
    if indent > 0:
        return True
    first = line.lstrip()[:1]
    return not item.rstrip().endswith((".", ";", ":", "!", "?")) and first.isalpha() and first.islower()


def _cells(line: str, start: int) -> tuple[Block, ...] | None:
    """The cells of a Markdown pipe row or a tab-separated row, or None for any other line."""
    if "\t" in line:
        separator = "\t"
    elif line.lstrip().startswith("|") and line.count("|") >= 2:
        separator = "|"
    else:
        return None
    cells: list[Block] = []
    position = 0
    for part in line.split(separator):
        stripped = part.strip()
        if stripped:
            lead = len(part) - len(part.lstrip())
            cells.append(Block("cell", stripped, start + position + lead))
        position += len(part) + 1
    return tuple(cells) if len(cells) >= 2 else None
