"""A table's header, when it takes two rows: the first row groups columns ("Lawful basis" over
"Article 6" and "Details", "Base légale" over "Article 6 du RGPD" and "Précision"), the second names
the columns of a group, the other header cells merged down over both rows (HTML's ``rowspan``,
Word's ``vMerge``: the readers repeat them) or left blank (a TSV, a PDF). Each column is then read
by one label, its group's words and its own ("Lawful basis Article 6").

The readers lay every table out on its grid (a cell spanning columns at its first column, the others
left empty), so a cell's column is the number of separators before it on its line."""

from __future__ import annotations

import re

from garde.analyse.document import Block, Table
from garde.analyse.wording import BOTH, article_bases, column_role, contains, load_structure

#: The role of a basis column beside the first one ("Details", "Fondement"): read when the first
#: names no basis in a row.
BASIS_DETAIL = "basis_detail"

#: Longest header label read for its role: a longer cell is a data row's text, not a column's name.
MAX_LABEL = 80


def line_of(text: str, start: int) -> tuple[int, str]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    return line_start, text[line_start:line_end if line_end >= 0 else len(text)]


def column(text: str, block: Block) -> int:
    """The column of a cell (or of a wrapped cell line): separators before it on its line."""
    line_start, line = line_of(text, block.start)
    before = text[line_start:block.start]
    if "\t" in line:
        return before.count("\t")
    return before.count("|") - (1 if before.lstrip().startswith("|") else 0)


def two_row_header(text: str, table: Table, language: str) -> dict[int, str] | None:
    """Column -> role when the table's header takes its first two rows, or None.

    The second row is a header's when each of its cells is the cell above repeated (merged down),
    sits under a group (a first-row cell followed by empty columns it spans, or an empty first-row
    column after one), or under nothing; at least one cell is under a group and differs from it.
    Each column's label is its group's words then its own. A basis column whose label names another
    article (Art. 9's conditions, "special category") is not the basis's when another basis column
    is there; of two basis columns of Art. 6 ("Article 6" and "Details"), the second is read where
    the first names none."""
    if len(table.rows) < 3 or not table.rows[0] or not table.rows[1]:
        return None
    top = {column(text, b): b.text for b in table.rows[0]}
    below = {column(text, b): b.text for b in table.rows[1]}
    if any(len(label) > MAX_LABEL for label in (*top.values(), *below.values())):
        return None
    width = max((*top, *below)) + 1
    groups: dict[int, str] = {}  # column -> the first row's cell over it (its own, or the one it spans)
    grouped: set[int] = set()  # columns under a first-row cell spanning more than one column
    for c in range(width):
        if c in top:
            groups[c] = top[c]
            if c + 1 < width and c + 1 not in top and c + 1 in below:
                grouped.add(c)
        elif c - 1 in groups:
            groups[c] = groups[c - 1]
            grouped.add(c)
    split = False
    for c, label in below.items():
        if label == top.get(c) or (c not in top and c not in grouped):
            continue  # a header cell merged down over both rows, or in the second row alone
        if c not in grouped:
            return None
        split = True
    if not split:
        return None
    labels = {c: " ".join(dict.fromkeys(part for part in (groups.get(c, ""), below.get(c, "")) if part))
              for c in range(width)}
    return _roles(labels, language)


def _roles(labels: dict[int, str], language: str) -> dict[int, str] | None:
    """The columns' roles from their labels, as a one-row header's (table_rows): the first column of
    each role; of the basis columns, the first not naming another article (Art. 9's conditions,
    "special category"), the others :data:`BASIS_DETAIL`, read when it names no basis. A first
    column of no role, beside a basis column and another, holds the purposes (a notice's table read
    left to right: "What we do"), unless its label names things rather than uses ("Cookie")."""
    structure = load_structure()
    others = structure.words(structure.special_categories, language)
    roles: dict[int, str] = {}
    bases: list[int] = []
    for c, label in sorted(labels.items()):
        role = column_role(label, language) if label else None
        if role == "basis":
            bases.append(c)
        elif role is not None and role not in roles.values():
            roles[c] = role
    article_6 = [c for c in bases if not contains(labels[c], others)] or bases[:1]
    for c in bases:
        roles[c] = "basis" if c == article_6[0] else BASIS_DETAIL
    named = set(roles.values())
    first = min(labels, default=0)
    if not {"purpose", "name", "processing", BOTH} & named and "basis" in named and len(named) >= 2 \
            and first not in roles and labels.get(first) \
            and not contains(labels[first], structure.words(structure.named_columns, language)):
        roles[first] = "purpose"
        named.add("purpose")
    if BOTH in named or (len(named) >= 2 and {"purpose", "name", "processing"} & named):
        return dict(sorted(roles.items()))
    return None


# A basis cell naming the point of GDPR Art. 6(1) alone, as registers under an "Article 6" header
# write it: "(f)", "f)", "6(1)(f)", "6.1.f", "Art. 6.1.f", "art. 6, par. 1, lett. c)", "lett. b)".
_ARTICLE_LETTER = re.compile(
    r"(?:art(?:icle|icolo|\.)?\s*)?(?:6\s*(?:\(\s*1\s*\)|[.,]?\s*(?:(?:paragraphe|paragrafo|paragraph|par\.|§|"
    r"comma|co\.)\s*)?1)\s*[,.]?\s*)?(?:(?:lettera|lett\.|let\.|point|litt?\.)\s*)?\(?\s*([a-f])\s*\)?\.?",
    re.IGNORECASE)


def article_letter(cell: str) -> str | None:
    """The legal basis a basis cell names by its point of Art. 6(1) alone ("(f)", "6.1.e", "lett.
    b)"): the whole cell is the reference; None otherwise (words around it are read as words)."""
    found = _ARTICLE_LETTER.fullmatch(cell.strip())
    return article_bases().get(found.group(1).lower()) if found else None
