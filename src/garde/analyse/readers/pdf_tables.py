"""Tables in a PDF page, rebuilt from pypdf's layout-mode text (columns kept apart by runs of spaces).

A PDF has no tables, only text drawn at places. pypdf's ``extraction_mode="layout"`` keeps each line's
text at its place, so the cells of one table row sit in the same columns line after line. Here:

- a *segment* is a run of text whose words are apart by one space; two spaces or more separate
  segments (cells);
- a *header* is a line of two segments or more; its segments' starts are the table's columns;
- the table goes on while each following line's segments start at a column (give or take
  :data:`TOLERANCE` characters) and stay inside it, and stops at a line that does not fit (prose
  running across the columns) or at a blank line that is not a row's padding (:func:`_padding`:
  padded rows are two font heights apart or more, which pypdf writes as a blank line; the line
  after such padding is a row's first line, cells at the table's columns);
- a table that ends a page (but for a footer of up to :data:`FURNITURE` short lines) goes on at
  the top of the next page (after its running header) when lines there fit its columns, header
  repeated or not;
- a block is a table when it has at least two lines of two cells or more besides the header;
- rows are told apart by the space between lines when the page's text says it (:func:`spaced`):
  the lines of one cell are one leading apart, two rows further (the cells' padding, a rule), so
  the widest gaps between a table's lines start its rows, whatever the cells' alignment and
  whatever their words; wrapped header cells are the lines before the first such gap;
- where the gaps do not tell (every line as far apart), a line continues the row above (a cell
  wrapped onto a second line) when its first column is empty or goes on in lower case (or
  punctuation); such lines right under the header continue the header (a wrapped column name);
  when a table's rows are bottom-aligned (its first line under the header fills its first column
  but not all, and the next line goes on with it), a line with an empty first column belongs to
  the row below.

A cell's text is its pieces joined as a paragraph's lines are (:func:`joined`): the words as drawn
on the page, in order, a word hyphenated across two lines made whole.
What this cannot see: rows drawn without padding whose cells all wrap over the same number of
lines (each line then reads as a row), centred or right-aligned cells (their starts do not line
up), and tables drawn as two columns of prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

TOLERANCE = 2  # characters a cell's start may stray from its column's (pypdf's layout rounds positions)
MAX_HEADER_CELL = 60  # a header cell names a column: longer text is prose, not a header
FURNITURE = 2  # lines of a page's header or footer between a table and the page's edge
#: pypdf's layout mode writes a blank line for each font height between two lines, less one; asked
#: for a blank line per QUARTER of a font height, it tells the gaps between lines in quarters,
#: from which its usual text (a blank line per font height) is rebuilt exactly.
QUARTERS = 4
ROW_GAP = 2  # quarters of a font height: the least jump between a cell's line gap and a row's
WIDE = 6  # quarters of a font height: a gap wider than lines of text are set (1.5 line spacing)
#: quarters of a font height: the widest gap between two rows of one table (padding of about two
#: font heights above and below a line, and the rule between them)
MAX_ROW_GAP = 20

_SEGMENT = re.compile(r"\S+(?: \S+)*")
#: A list's bullet drawn apart from its item's text (reportlab's and word processors' hanging indent):
#: lines opening with one are a list, not a table whose first column holds the bullets.
_BULLET = re.compile(r"[-*•▪◦●‣–]")


@dataclass
class PageTable:
    """A table found on a page: its rows of cell texts, and the lines it spans."""

    first: int
    last: int  # the index of the line after the table
    columns: list[int]
    rows: list[list[str]] = field(default_factory=list)
    continued: bool = False  # the rest of a table from the page before, without its header


def segments(line: str) -> list[tuple[int, str]]:
    """The line's runs of text apart by two spaces or more, with their start columns."""
    return [(m.start(), m.group()) for m in _SEGMENT.finditer(line)]


def _placed(columns: list[int], line: str) -> dict[int, str] | None:
    """The line's segments by column, or None if one does not start at a column or crosses into the
    next one."""
    cells: dict[int, str] = {}
    for start, text in segments(line):
        index = max((i for i, column in enumerate(columns) if column <= start + TOLERANCE), default=None)
        if index is None or start - columns[index] > TOLERANCE:
            return None
        if index + 1 < len(columns) and start + len(text) >= columns[index + 1] - 1:
            return None
        cells[index] = f"{cells[index]} {text}" if index in cells else text
    return cells


def spaced(fine: str) -> tuple[list[str], list[int | None]]:
    """pypdf's layout-mode text asked with ``layout_mode_font_height_weight=1/QUARTERS``, as its
    usual lines (a blank line per font height between two lines, less one), with the gap before
    each line of text in quarters of its font height (None for the page's first line and blank
    lines)."""
    lines: list[str] = []
    gaps: list[int | None] = []
    blank = 0
    for line in fine.splitlines():
        if not line.strip():
            blank += 1
            continue
        if lines or blank:
            usual = max(0, (blank + 1) // QUARTERS - 1) if lines else blank // QUARTERS
            lines += [""] * usual
            gaps += [None] * usual
        gaps.append(blank + 1 if lines else None)
        lines.append(line)
        blank = 0
    return lines, gaps


def find_tables(lines: list[str], carried: list[int] | None = None,
                gaps: list[int | None] | None = None) -> list[PageTable]:
    """The tables among a page's layout-mode lines, in order. ``carried``: the columns of a table
    that ended the page before: lines at the top of this page that fit them go on with it (a table
    run over a page break without its header repeated), as a table without a header. ``gaps``:
    the gap before each line in quarters of a font height (:func:`spaced`), when known."""
    found: list[PageTable] = []
    gaps = gaps if gaps is not None and len(gaps) == len(lines) else [None] * len(lines)
    if carried is not None:
        for top in _tops(lines):
            body, kept, end = _body(carried, lines, top, gaps, header=False)
            if any(len(cells) >= 2 for cells in body):
                starts = _row_starts([gaps[k] for k in kept[1:]], body[1:])
                rows = _rows(body, len(carried)) if starts is None else _spaced_rows(body, [True, *starts],
                                                                                        len(carried))
                found.append(PageTable(top, end, carried, rows, continued=True))
                break
    i = found[0].last if found else 0
    while i < len(lines):
        head = segments(lines[i])
        if len(head) < 2 or any(len(text) > MAX_HEADER_CELL for _, text in head) \
                or _BULLET.fullmatch(head[0][1]):
            i += 1
            continue
        columns = [start for start, _ in head]
        body, kept, end = _body(columns, lines, i + 1, gaps)
        if sum(len(cells) >= 2 for cells in body) < 2:
            i += 1
            continue
        first, above = _header_above(lines, gaps, columns, i, found[-1].last if found else 0)
        header = [[*(cells[index] for cells in above if index in cells), text]
                  for index, (_, text) in enumerate(head)]
        starts = _row_starts([gaps[k] for k in kept], body)
        if starts is not None:  # the gaps tell the rows: the header goes on to the first wide one
            while body and not starts[0]:
                for index, text in body.pop(0).items():
                    header[index].append(text)
                starts.pop(0)
            rows = _spaced_rows(body, starts, len(columns))
        else:
            while body and _continues(body[0]) and not _bottom(body, len(columns)):  # a wrapped header cell
                for index, text in body.pop(0).items():
                    header[index].append(text)
            rows = _rows(body, len(columns))
        found.append(PageTable(first, end, columns, [[joined(h) for h in header], *rows]))
        i = end
    return found


def _header_above(lines: list[str], gaps: list[int | None], columns: list[int], at: int,
                  floor: int) -> tuple[int, list[dict[int, str]]]:
    """The lines above a header line that are its wrapped cells' first lines (header cells aligned
    to the bottom: "Retention" over "Purpose  Data  Legal basis  period"): one leading above it,
    fewer cells, in its columns. Only where the gaps are known. Returns the header's first line."""
    above: list[dict[int, str]] = []
    first = at
    while first > floor and lines[first - 1].strip() and (gap := gaps[first]) is not None and gap < WIDE:
        cells = _placed(columns, lines[first - 1])
        if cells is None or len(cells) >= len(columns):
            break
        above.insert(0, cells)
        first -= 1
    return first, above


def _row_starts(gaps: list[int | None], lines: list[dict[int, str]]) -> list[bool] | None:
    """Which lines start a row, from the gaps before them: every line when all are wider than lines
    of text are set (:data:`WIDE`: one-line rows); else the lines after the widest gaps, when the
    gaps fall into two groups at least :data:`ROW_GAP` quarters apart (a cell's leading, a row's
    padding); when they run on with no such jump, the rows a cell merged down tells
    (:func:`_beside_merged`); None when they do not tell (every line one leading from the one
    before)."""
    known = sorted({gap for gap in gaps if gap is not None})
    if None in gaps or not known:
        return None
    if known[0] >= WIDE:  # one-line rows: apart by more than text's line spacing
        return [True] * len(gaps)
    jump, above = max((b - a, b) for a, b in pairwise(known)) if len(known) > 1 else (0, 0)
    if jump < ROW_GAP:
        return _beside_merged([gap is not None and gap >= known[0] + ROW_GAP for gap in gaps], lines)
    return [gap is not None and gap >= above for gap in gaps]


def _beside_merged(padded: list[bool], lines: list[dict[int, str]]) -> list[bool] | None:
    """Rows told apart where a cell merged over several rows runs on beside them: its lines, drawn
    from the top of the merged area one leading apart, share the rows' lines, so the gap before
    such a row's first line is a leading or less, and the gaps between the table's lines run from a
    leading to a row's padding with no jump. The lines at least :data:`ROW_GAP` quarters further
    than the closest start rows; a closer line starts one when it fills every column (the first
    and at least one more) that those rows all fill on their first line (the columns never merged:
    "Data subjects", "Retention"), its first column does not go on in lower case, and another of
    its cells does (the merged cell running on: "the Local Government Act"). None when no line is
    so told (the gaps alone do not tell rows)."""
    filled = [set(cells) for cells, wide in zip(lines, padded, strict=True) if wide]
    always = set.intersection(*filled) if len(filled) >= 2 else set()
    if len(always) < 2 or 0 not in always:
        return None
    starts = [wide or (always <= set(cells) and not _lower(cells[0])
                       and any(_lower(text) for c, text in cells.items() if c not in always))
              for cells, wide in zip(lines, padded, strict=True)]
    return starts if starts != padded else None


def _lower(text: str) -> bool:
    """Text going on from a line above: in lower case or after punctuation."""
    return text[:1].islower() or not text[:1].isalnum()


def _spaced_rows(lines: list[dict[int, str]], starts: list[bool], width: int) -> list[list[str]]:
    """Lines grouped into rows at the lines that start one: each cell its pieces in order."""
    rows: list[list[list[str]]] = []
    for cells, start in zip(lines, starts, strict=True):
        if start or not rows:
            rows.append([[] for _ in range(width)])
        for index, text in cells.items():
            rows[-1][index].append(text)
    return [[joined(pieces) for pieces in row] for row in rows]


# A lone lowercase consonant on a line of its own: the end of a word the line above could not hold
# (a narrow cell's long word broken before its last letter, "Recruitmen" / "t"); no word of French,
# English or Italian is one consonant.
_BROKEN_END = re.compile(r"[b-df-hj-np-tv-xz]")


def joined(lines: list[str]) -> str:
    """Lines of one paragraph or cell joined by a space; a word hyphenated across a line break
    ("consente-" / "ment", "contrac-" / "tuelle") is made whole, and a word's last letter carried
    alone onto the next line goes back to it."""
    text = lines[0] if lines else ""
    for line in lines[1:]:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        elif text[-1:].isalpha() and _BROKEN_END.fullmatch(line):
            text += line
        else:
            text = f"{text} {line}"
    return text


def ends_page(table: PageTable, lines: list[str]) -> bool:
    """Whether nothing but blank lines and the page's furniture (a footer, a page number) follows
    ``table`` on its page."""
    after = [line for line in lines[table.last:] if line.strip()]
    return len(after) <= FURNITURE and all(_furniture(line) for line in after)


def _tops(lines: list[str]) -> list[int]:
    """Where a table carried from the page before may go on: the first line of text, or one of the
    next after lines of page furniture (a running header)."""
    tops: list[int] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        tops.append(i)
        if len(tops) > FURNITURE or not _furniture(line):
            break
    return tops


def _furniture(line: str) -> bool:
    """A line that may be a page's header or footer: one short run of text."""
    found = segments(line)
    return len(found) == 1 and len(found[0][1]) <= MAX_HEADER_CELL


def _body(columns: list[int], lines: list[str], start: int, gaps: list[int | None],
          header: bool = True) -> tuple[list[dict[int, str]], list[int], int]:
    """The lines from ``start`` that fit ``columns``, up to one that does not fit, with their
    indices, and the index of the line after them.

    Blank lines end the table unless they are a row's padding (:func:`_padding`): pypdf writes a
    blank line for each font height between two lines, and cells padded by about two font heights
    (a ruled grid, a roomy table) put one between every two rows. Only inside a table: under its
    ``header``, or past a line of two cells (a page's running header above a table carried over
    from the page before is not its row).
    """
    body: list[dict[int, str]] = []
    kept: list[int] = []
    j = start
    while j < len(lines):
        if not lines[j].strip():
            after = next((k for k in range(j, len(lines)) if lines[k].strip()), len(lines))
            inside = header or any(len(cells) >= 2 for cells in body)
            if not inside or after == len(lines) or not _padding(columns, lines, after, gaps[after]):
                break
            j = after
        cells = _placed(columns, lines[j])
        if cells is None:
            break
        body.append(cells)
        kept.append(j)
        j += 1
    end = kept[-1] + 1 if kept else start
    return body, kept, end


def _padding(columns: list[int], lines: list[str], at: int, gap: int | None) -> bool:
    """Whether blank lines before ``lines[at]`` are the padding between two rows of a table: the
    gap is known and no wider than :data:`MAX_ROW_GAP`, and the line is a row's first line, its
    cells at the table's columns: two cells or more, or one past the first column, or one in the
    first column with a line of two cells or more right under it (a row whose cells are centred
    vertically starts with its tallest cell). A line of one cell in the first column alone is the
    prose after the table (a heading, a paragraph at the margin)."""
    if gap is None or gap > MAX_ROW_GAP:
        return False
    cells = _placed(columns, lines[at])
    if cells is None or not cells:
        return False
    if len(cells) >= 2 or 0 not in cells:
        return True
    below = _placed(columns, lines[at + 1]) if at + 1 < len(lines) and lines[at + 1].strip() else None
    return below is not None and len(below) >= 2


def _rows(lines: list[dict[int, str]], width: int) -> list[list[str]]:
    """Lines grouped into rows: a wrapped cell's lines joined into one cell."""
    bottom = _bottom(lines, width)
    rows: list[list[list[str]]] = []
    pending: list[dict[int, str]] = []  # bottom-aligned: lines waiting for their row's first column
    for cells in lines:
        if bottom and 0 not in cells:
            pending.append(cells)
            continue
        if rows and _continues(cells) and not (bottom and pending):
            row = rows[-1]
        else:
            row = [[] for _ in range(width)]
            rows.append(row)
        for earlier in [*pending, cells]:
            for index, text in earlier.items():
                row[index].append(text)
        pending.clear()
    if pending and rows:
        for earlier in pending:
            for index, text in earlier.items():
                rows[-1][index].append(text)
    return [[joined(pieces) for pieces in row] for row in rows]


def _bottom(lines: list[dict[int, str]], width: int) -> bool:
    """Whether the rows are bottom-aligned: the first line fills its first column but not all, and
    the next one goes on with it."""
    return len(lines) > 1 and 0 in lines[0] and len(lines[0]) < width and _continues(lines[1])


def _continues(cells: dict[int, str]) -> bool:
    """A line that goes on with the row above: nothing in the first column, or its text going on
    in lower case or punctuation (a wrapped purpose)."""
    first = cells.get(0)
    return first is None or first[:1].islower() or not first[:1].isalnum()
