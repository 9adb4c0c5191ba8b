"""Passages: the sentences, list items, table cells and headings of a document, each with the
headings it stands under.

A passage is what the analyser quotes as evidence: a sentence of a paragraph, a list item, a table
cell (split into sentences when long) or a heading, trimmed; always a verbatim substring of the
document's text at its offset. Each knows its section (the headings above it, nearest first), so
a heading such as "Your rights" scopes what follows it. A plain-text document has no marked
headings: a short line on its own without closing punctuation is taken as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from garde.analyse.cues import words_of
from garde.analyse.document import Block, Document
from garde.analyse.wording import bare_label, contains, load_structure

MAX_EVIDENCE = 600  # characters: a longer passage is quoted up to the end of a sentence within it

# A sentence ends at . ! ? or ; followed by a space and a capital, a digit or an opening mark.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"«“(\[]?[A-ZÀ-ÖØ-Ý0-9])")
_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|ex|cf|art|arts|par|n|no|nr|p|pp|s\.p\.a|s\.r\.l|inc|"
                            r"ltd|co|"
                            r"st|mr|mrs|dr|m|mme|sig|ecc|vs)\.)$", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """One sentence, item, cell or heading, verbatim, with its place and its section."""

    text: str
    start: int
    block: Block
    sections: tuple[Block, ...] = ()  # the headings above it, nearest first
    column: str = ""  # for a table cell: its column's header
    row: tuple[Block, ...] = field(default=())  # for a table cell: its row
    header: bool = False  # a cell of a table's header row (or a row repeating it): a label, not content

    @cached_property
    def words(self) -> str:
        return words_of(self.text)

    @property
    def kind(self) -> str:
        return self.block.kind

    def word_count(self) -> int:
        return len(self.words.split())


def passages(document: Document) -> list[Passage]:
    """Every passage of ``document``, in reading order."""
    blocks = list(document.blocks)
    headings = list(document.headings)
    if not headings:
        # a plain text's lines in capitals over their text, once they are its heading style, and its
        # numbered lines standing alone before a paragraph ("7. Qui reçoit vos données") head sections
        blocks, _ = plain_sections(_split_leading_lines(blocks), document.language)
        titles = {h.start: h for h in [*pseudo_headings(blocks), *_numbered_titles(blocks)]}
        titles.update({b.start: b for b in blocks if b.kind == "heading"})
        headings = [titles[start] for start in sorted(titles)]
    heading_at = {h.start: h for h in headings}
    columns = _columns(document)
    found: list[Passage] = []
    stack: list[Block] = []
    for block in blocks:
        heading = heading_at.get(block.start)
        if heading is not None:
            level = heading.level or 2
            while stack and (stack[-1].level or 2) >= level:
                stack.pop()
            found.append(Passage(heading.text, heading.start, heading, tuple(reversed(stack))))
            stack.append(heading)
            continue
        sections = tuple(reversed(stack))
        column, row, header = columns.get(block.start, ("", (), False))
        for text, start in _sentences(block):
            found.append(Passage(text, start, block, sections, column, row, header))
    return found


# A line that opens a labelled field ("Controller: ...", "**Titolare del trattamento:** ..."): a
# register's header lines, one field each, though no punctuation ends the line before.
_FIELD_LINE = re.compile(r"\n(?=[ \t]*[*_]*[A-ZÀ-ÖØ-Ý][^:\n]{1,60}?[*_]*\s?:[*_]*\s)")


# The same fields run on in one line, each ending its sentence ("Controller: Acme Ltd, 1 High St.
# Contact: info@acme.example. Data Protection Officer: ..."), as a PDF joins a register's header lines.
_FIELD_START = re.compile(r"^[*_]*[A-ZÀ-ÖØ-Ý][^:\n]{1,60}?[*_]*\s?:[*_]*\s")
_FIELD_AFTER_SENTENCE = re.compile(r"(?<=[.;])[ \t]+(?=[*_]*[A-ZÀ-ÖØ-Ý][^:.\n]{1,40}?[*_]*\s?:[*_]*\s)")


def _field_gaps(block: Block) -> list[re.Match[str]]:
    if block.kind == "heading":
        return []
    gaps = list(_FIELD_LINE.finditer(block.text))
    if not gaps and _FIELD_START.match(block.text):
        gaps = list(_FIELD_AFTER_SENTENCE.finditer(block.text))
    return gaps


def _sentences(block: Block) -> list[tuple[str, int]]:
    """The block's sentences (a heading or short block whole), each with its offset in the text; a
    paragraph of labelled fields, one per line or one per sentence, gives each apart."""
    gaps = _field_gaps(block)
    if gaps:
        found: list[tuple[str, int]] = []
        begin = 0
        for gap in (*gaps, None):
            end = gap.start() if gap else len(block.text)
            line = block.text[begin:end]
            lead = len(line) - len(line.lstrip())
            if line.strip():
                found += _sentences(Block(block.kind, line.strip(), block.start + begin + lead, block.level))
            begin = gap.end() if gap else end
        return found
    text = block.text
    if block.kind == "heading" or len(text) <= 200:
        return [(text, block.start)]
    pieces: list[tuple[str, int]] = []
    begin = 0
    for gap in _SENTENCE_END.finditer(text):
        if _ABBREVIATIONS.search(text[begin:gap.start()]):
            continue
        pieces.append((text[begin:gap.start()], block.start + begin))
        begin = gap.end()
    pieces.append((text[begin:], block.start + begin))
    return [(_trim(t), s) for t, s in pieces if t.strip()]


def _trim(text: str) -> str:
    """A passage cut to :data:`MAX_EVIDENCE` characters (still a prefix of itself: verbatim)."""
    if len(text) <= MAX_EVIDENCE:
        return text
    cut = text[:MAX_EVIDENCE]
    space = cut.rfind(" ")
    return cut[:space] if space > MAX_EVIDENCE // 2 else cut


def _columns(document: Document) -> dict[int, tuple[str, tuple[Block, ...], bool]]:
    """For each table cell (by offset): its column's header, its row, and whether it is a header."""
    found: dict[int, tuple[str, tuple[Block, ...], bool]] = {}
    for table in document.tables:
        if not table.rows:
            continue
        header = table.rows[0]
        header_text = [cell.text for cell in header]
        for row in table.rows[1:]:
            repeated = [cell.text for cell in row] == header_text
            for i, cell in enumerate(row):
                # Cells are kept without their empty neighbours: a row as wide as the header lines up.
                name = header_text[i] if len(row) == len(header) and i < len(header_text) else ""
                found[cell.start] = (name, row, repeated)
        for cell in header:
            found[cell.start] = ("", header, len(table.rows) > 1)
    return found


_CLOSING = re.compile(r"[.,;:!?)\]»”]$")


def _heading_like(text: str) -> bool:
    # An e-mail address or a web address: a line of contact details, not a title.
    if "@" in text or "://" in text:
        return False
    return (len(text) <= 90 and not _CLOSING.search(text) and (text[:1].isupper() or text[:1].isdigit())
            and len(text.split()) <= 12)


def pseudo_headings(blocks: list[Block]) -> list[Block]:
    """Short lines standing alone (not a sentence, not a cell): the headings of a plain text."""
    return [Block("heading", b.text, b.start, 2) for b in blocks
            if b.kind == "paragraph" and "\n" not in b.text and _heading_like(b.text)]


def _numbered_titles(blocks: list[Block]) -> list[Block]:
    """A plain text's numbered lines standing alone before a paragraph, not an item of a list: titles."""
    return [Block("heading", b.text, b.start, 2) for i, b in enumerate(blocks[:-1])
            if b.kind == "item" and "\n" not in b.text and blocks[i + 1].kind == "paragraph"
            and (i == 0 or blocks[i - 1].kind != "item") and _heading_like(b.text)]


def _split_leading_lines(blocks: list[Block]) -> list[Block]:
    """A plain-text paragraph whose first line is a title ("Diritti dell'interessato" then the text
    on the next line) split into that line and the rest, both verbatim at their offsets."""
    split: list[Block] = []
    for block in blocks:
        first, newline, rest = block.text.partition("\n")
        body = rest.lstrip()
        if block.kind == "paragraph" and newline and body and _heading_like(first.strip()) \
                and first.strip() != first.strip().upper():  # a line in capitals is a PDF's table header
            split.append(Block("paragraph", first.strip(), block.start + len(first) - len(first.lstrip())))
            split.append(Block("paragraph", body, block.start + len(block.text) - len(body)))
        else:
            split.append(block)
    return split


def plain_headings(blocks: list[Block], language: str) -> tuple[Block, ...]:
    """A plain text's headings: its short lines standing alone that name a section the structure
    knows (purposes, legal bases, rights, processing done for customers: "TRATTAMENTI SVOLTI PER
    CONTO DEI CLIENTI"...; not a labelled field, "Purpose: ...", nor a bare basis label, a table's
    cell in a PDF's text), and a numbered line standing alone before a paragraph ("1. Purposes and
    legal bases"), not an item of a list."""
    numbered = [Block("paragraph", b.text, b.start) for i, b in enumerate(blocks[:-1])
                if b.kind == "item" and "\n" not in b.text and blocks[i + 1].kind == "paragraph"
                and (i == 0 or blocks[i - 1].kind != "item")]
    structure = load_structure()
    tables = (structure.purpose_sections, structure.basis_sections, structure.other_sections,
              structure.processor_sections)
    known = tuple(w for table in tables for w in structure.words(table, language))
    candidates = [h for h in pseudo_headings([*blocks, *numbered])
                  if not re.search(r"[:：]\s*\S", h.text) and not bare_label(h.text)]
    found = {h.start: h for h in candidates if contains(h.text, known)}
    if sum(1 for h in found.values() if _capitals(h.text)) >= CAPITALS_HEADINGS:
        # the text heads its known sections with lines in capitals: that is its heading style, and its
        # other lines in capitals standing alone ("WAITING LIST", "BILLETTERIE") head sections too
        found.update({h.start: h for h in candidates if _capitals(h.text)})
    return tuple(found[start] for start in sorted(found))


def plain_sections(blocks: list[Block], language: str) -> tuple[list[Block], tuple[Block, ...]]:
    """A plain text's blocks with its headings in place (:func:`plain_headings`), and its headings. A
    paragraph whose first line is in capitals and reads as a heading, its text on the lines right after
    it ("WAITING LIST" then "When you ask for a plot ..."), is that heading and a paragraph, when the
    line is one of the text's headings."""
    split: list[Block] = []
    parts: dict[int, Block] = {}  # a heading line's start -> the paragraph it was split from
    for block in blocks:
        first, newline, rest = block.text.partition("\n")
        body = rest.lstrip()
        if block.kind == "paragraph" and newline and body and _capitals(first) \
                and _heading_like(first.strip()):
            head = Block("paragraph", first.strip(), block.start + len(first) - len(first.lstrip()))
            split += [head, Block("paragraph", body, block.start + len(block.text) - len(body))]
            parts[head.start] = block
        else:
            split.append(block)
    headings = plain_headings(split, language)
    at = {h.start: h for h in headings}
    kept: list[Block] = []
    skip = False
    for i, block in enumerate(split):
        if skip:
            skip = False
        elif block.start in parts and block.start not in at:  # no heading after all: the paragraph whole
            kept.append(parts[block.start])
            skip = i + 1 < len(split)
        else:
            kept.append(at.get(block.start, block))
    return kept, headings


#: The fewest known section headings in capitals that make a plain text's capitals lines its headings.
CAPITALS_HEADINGS = 2


def _capitals(text: str) -> bool:
    """A line written in capitals: at least four letters, none in lower case."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and not any(c.islower() for c in letters)
