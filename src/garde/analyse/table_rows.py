"""The tables of activities, read row by row: a header's columns and their roles, rows wrapped over
several lines, cells merged over several rows, a headerless table of purposes and bases, one
activity's record (the CNIL model's), and a processor's record (GDPR Art. 30(2))."""

from __future__ import annotations

from garde.analyse.document import Block, Document, Table
from garde.analyse.table_header import article_letter, two_row_header
from garde.analyse.table_header import column as _column
from garde.analyse.table_header import line_of as _line_of
from garde.analyse.units import Chunk, Reading, Unit, chunks
from garde.analyse.wording import BOTH, bare_label, column_role, contains, find_terms, load_structure

#: The fewest header cells with a role that make a row a table's header (a purpose column and one more).
HEADER_ROLES = 2


def read_tables(document: Document, language: str, reading: Reading) -> set[int]:
    """Read the tables of activities; return the starts of the blocks read (wrapped cell lines)."""
    text = document.text
    events: list[tuple[int, str, tuple[Block, ...]]] = []
    implied_roles: dict[int, dict[int, str]] = {}  # a headerless table's first cell -> its columns' roles
    merged_rows: dict[int, int] = {}  # a row's first cell -> its table's index, for PDF tables
    for index, table in enumerate(document.tables):
        if table.merged_unmarked:
            merged_rows.update({row[0].start: index for row in table.rows if row})
        # a table whose first row names its columns holds rows, even short ones whose first cells
        # happen to read as labels (a purpose "... conservation des factures")
        two_rows = two_row_header(text, table, language)
        if two_rows is not None:  # "Lawful basis" over "Article 6" and "Details": one label a column
            implied_roles[table.rows[0][0].start] = two_rows
            events.append((table.rows[0][0].start, "implied", ()))
            events += [(row[0].start, "row", row) for row in table.rows[2:] if row]
            continue
        headed = _header(text, table.rows[0], language) is not None
        record = _record(table, language) if not headed else None
        if record is not None:
            reading.units.append(record)
        implied = _label_columns(text, table) if not headed and record is None else None
        if implied is not None and table.rows[0]:
            implied_roles[table.rows[0][0].start] = implied
            events.append((table.rows[0][0].start, "implied", ()))
        kind = "other" if record is not None else "row"
        events += [(row[0].start, kind, row) for row in table.rows if row]
    for block in document.blocks:
        if block.kind == "cell":
            continue
        line = _line_cells(text, block) if block.kind == "paragraph" else ()
        events.append((block.start, "wrapped", line) if line else (block.start, "other", (block,)))
    events.sort(key=lambda e: e[0])
    roles: dict[int, str] | None = None
    unit: Unit | None = None
    served: Chunk | None = None  # a processor's record: the controller of the row above
    consumed: set[int] = set()
    table_rows: list[tuple[int, Unit]] = []  # the rows of tables whose merged cells are unmarked
    for position, kind, blocks in events:
        if kind == "other":
            roles, unit = None, None
            continue
        if kind == "implied":
            roles, unit = implied_roles[position], None
            continue
        if kind == "row":
            header = _header(text, blocks, language)
            # Under a header, a row is a new header only if it names as many columns (a header
            # repeated before each row), not a data row whose cells happen to hold a header word.
            if header is not None and (roles is None or len(header) >= len(roles)):
                roles, unit, served = header, None, None
                continue
        if roles is None:
            continue
        cells = [(roles.get(_column(text, b)), b) for b in blocks]
        if kind == "wrapped":
            consumed.add(position)
        # A purpose cell opens a new row, unless it is a wrapped line continuing the one above
        # (it goes on mid-sentence, in lower case).
        opens = kind == "row" or not blocks[0].text[:1].islower()
        opened = opens and any(role in ("purpose", "name", "processing", BOTH) for role, _ in cells)
        if opened:
            # a processor's record, or a row of a register of both roles with its categories of
            # processing filled (the Art. 30(2) columns beside the Art. 30(1) ones)
            unit = Unit("table", processor=processor_record(roles)
                        or any(role == "processing" for role, _ in cells))
            reading.units.append(unit)
            if kind == "row" and position in merged_rows:
                table_rows.append((merged_rows[position], unit))
        if unit is not None:
            unit.chunks += [c for role, b in cells if role is not None for c in chunks(role, b)]
        if opened and unit is not None and unit.processor:
            served = _served(unit, served)
    _merged_down(table_rows)
    return consumed


def processor_record(roles: dict[int, str]) -> bool:
    """Whether a table's columns are a processor's record's (GDPR Art. 30(2)): the categories of
    processing carried out on behalf of a controller, or the controller served, in each row, and no
    legal basis column (a processor has none of its own, Art. 28(3)(a); a register of both roles has
    one, and its rows say which they are)."""
    named = set(roles.values())
    return bool({"processing", "controller"} & named) and "basis" not in named and BOTH not in named


def _served(unit: Unit, above: Chunk | None) -> Chunk | None:
    """A processor's record's row and the controller it is carried out for: its own controller cell,
    else the one above (a cell merged over the rows of one controller, drawn once or left blank)."""
    own = next((c for c in unit.chunks if c.role == "controller"), None)
    if own is None and above is not None:
        unit.chunks.append(above)
    return own or above


def _merged_down(rows: list[tuple[int, Unit]]) -> None:
    """A PDF draws a basis cell merged over several rows once, at the top of the merged area: a row
    of such a table whose basis cell is empty, or holds only words naming no basis (the merged cell's
    text running on beside it: "the Local Government Act 1972"), under a row whose basis cell names
    one, and with a row below it that names its own again (the column is filled, not left blank from
    some row on: a blind set's blank last rows gained two false pairs when they took the basis above),
    takes the basis cell above (quoted where it stands)."""
    def bases(unit: Unit) -> list[Chunk]:
        return [c for c in unit.chunks if c.role == "basis"
                and (find_terms("legal_bases", c.text) or article_letter(c.text))]

    for i, (table, unit) in enumerate(rows):
        if bases(unit) or i == 0 or rows[i - 1][0] != table:
            continue
        above = bases(rows[i - 1][1])
        if above and any(t == table and bases(u) for t, u in rows[i + 1:]):
            unit.chunks += above


def _label_columns(text: str, table: Table) -> dict[int, str] | None:
    """A table with no header whose rows each name a purpose and, in one column, nothing but legal
    bases ("Gestion de votre compte / Managing your account | Exécution du contrat / Performance of
    a contract"): that column is the basis, the first other one the purpose; None for any other."""
    rows = [row for row in table.rows if row]
    if len(rows) < HEADER_ROLES:
        return None
    columns = [{_column(text, cell): cell for cell in row} for row in rows]
    shared = set.intersection(*(set(row) for row in columns))
    basis = next((c for c in sorted(shared) if all(bare_label(row[c].text) for row in columns)), None)
    purpose = next((c for c in sorted(shared)
                    if c != basis and not any(bare_label(row[c].text) for row in columns)), None)
    return None if basis is None or purpose is None else {purpose: "purpose", basis: "basis"}


def _record(table: Table, language: str) -> Unit | None:
    """A table that is one activity's record, its labels in the first column ("Finalité | ...",
    "Base légale | ...", as in the CNIL's model register): one purpose, or None."""
    roles = [column_role(row[0].text, language) if len(row) >= 2 and len(row[0].text) <= 80 else None
             for row in table.rows]
    named = [r for r in roles if r is not None]
    if len(named) < HEADER_ROLES or not {"purpose", "name", BOTH} & set(named) \
            or len(set(named)) < len(named) - 1:
        return None
    unit = Unit("table")
    for row, role in zip(table.rows, roles, strict=True):
        if role is not None:
            unit.chunks += [c for cell in row[1:] for c in chunks(role, cell)]
    return unit


def _line_cells(text: str, block: Block) -> tuple[Block, ...]:
    """The one cell of a table line the reader took for a paragraph (a tab-separated line, or a
    Markdown row, with a single cell filled: a cell wrapped onto its own line, a row continuing
    the one above); empty for any other paragraph."""
    line_start, line = _line_of(text, block.start)
    if block.start + len(block.text) > line_start + len(line):
        return ()  # a paragraph of several lines
    separator = "\t" if "\t" in line else "|" if line.lstrip().startswith("|") else None
    if separator is None:
        return ()
    position = 0
    for part in line.split(separator):
        if part.strip():
            lead = len(part) - len(part.lstrip())
            start = line_start + position + lead
            return (Block("cell", part.strip(), start),)
        position += len(part) + 1
    return ()


def _header(text: str, row: tuple[Block, ...], language: str) -> dict[int, str] | None:
    """Column -> role for a header row (the first column of each role), or None for a data row."""
    roles: dict[int, str] = {}
    for block in row:
        role = column_role(block.text, language) if len(block.text) <= 80 else None
        if role is not None and role not in roles.values():
            roles[_column(text, block)] = role
    if BOTH in roles.values() or (len(roles) >= HEADER_ROLES
                                  and {"purpose", "name", "processing"} & set(roles.values())):
        return roles
    return _first_column_purposes(text, row, roles, language)


def _first_column_purposes(text: str, row: tuple[Block, ...], roles: dict[int, str],
                           language: str) -> dict[int, str] | None:
    """A header naming a basis column and another one (retention, data) whose first column's header
    is plain words of no role ("What happens | Our lawful basis | How long"): the first column holds
    what is done, the purposes, as a notice's table reads left to right; None otherwise, or when the
    first column lists cookies or other things named rather than done."""
    first = row[0] if row else None
    if first is None or "basis" not in roles.values() or len(roles) < HEADER_ROLES \
            or _column(text, first) in roles or not first.text.strip() or len(first.text) > 60 \
            or contains(first.text, load_structure().words(load_structure().named_columns, language)):
        return None
    return {_column(text, first): "purpose", **roles}
