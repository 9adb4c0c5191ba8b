"""Builds a :class:`~garde.analyse.document.Document` block by block, for the readers of formats
whose text is not already one string (HTML, DOCX, PDF).

The reader hands over each heading, paragraph, list item or table row as it meets it; the builder
writes them one after the other into the document's text (blocks separated by a blank line, the
cells of a row by a tab) and records where each one starts, so a block's text is always the exact
substring of the document's text at its offset.
"""

from __future__ import annotations

from garde.analyse.document import Block, BlockKind, Document, Table

# Runs of whitespace inside a block (line breaks of the source's layout, non-breaking spaces)
# read as one space: what a person sees.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\t": " ", "\r": " ", "\n": " ", "\u200b": ""})


def clean(text: str) -> str:
    """``text`` with its whitespace runs collapsed to one space and trimmed."""
    return " ".join(text.translate(_SPACES).split())


#: Most words of a run-in label ("No-show protection."); a longer bold opening is emphasis, not a name.
RUN_IN_WORDS = 8


def run_in(body: str, label: str) -> int:
    """The length of ``body``'s run-in label: ``label`` (its bold opening) when it is short, ends in
    "." or ":" (inside the bold or just after it) and the paragraph goes on after it; 0 otherwise."""
    label = clean(label)
    if not label or not body.startswith(label) or len(label.split()) > RUN_IN_WORDS:
        return 0
    end = len(label) + (1 if body[len(label):len(label) + 1] in (".", ":") else 0)
    if not body[:end].endswith((".", ":")) or not body[end:].strip():
        return 0
    return end


class DocumentBuilder:
    """Collects blocks and tables, then makes the :class:`Document`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._parts: list[str] = []
        self._length = 0
        self._blocks: list[Block] = []
        self._tables: list[Table] = []

    def _write(self, text: str) -> int:
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def _separate(self) -> None:
        if self._length:
            self._write("\n\n")

    def add(self, kind: BlockKind, text: str, level: int = 0, label: str = "") -> None:
        """A heading, paragraph or list item; empty text is skipped. ``label``: the text the format
        sets in bold at the paragraph's start (:func:`run_in`)."""
        body = clean(text)
        if not body:
            return
        self._separate()
        self._blocks.append(Block(kind, body, self._write(body), level, run_in(body, label)))

    def add_table(self, rows: list[list[str]], merged_unmarked: bool = False) -> None:
        """A table, as rows of cell texts (empty cells are kept out of the blocks). ``merged_unmarked``:
        the format draws a cell merged over several rows once and leaves the rows below it blank
        (a PDF), so an empty cell may be the one above."""
        built: list[tuple[Block, ...]] = []
        for row in rows:
            cells = [clean(cell) for cell in row]
            if not any(cells):
                continue
            self._separate() if not built else self._write("\n")
            blocks: list[Block] = []
            for i, cell in enumerate(cells):
                if i:
                    self._write("\t")
                start = self._write(cell)
                if cell:
                    blocks.append(Block("cell", cell, start))
            built.append(tuple(blocks))
            self._blocks.extend(blocks)
        if built:
            self._tables.append(Table(tuple(built), merged_unmarked))

    @property
    def size(self) -> int:
        """Characters written so far."""
        return self._length

    def build(self, declared_language: str = "") -> Document:
        blocks = tuple(self._blocks)
        return Document(source=self.source, text="".join(self._parts), blocks=blocks,
                        tables=tuple(self._tables), headings=tuple(b for b in blocks if b.kind == "heading"),
                        declared_language=declared_language)
