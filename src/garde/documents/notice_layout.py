"""The privacy notice's layered reading and finish (issue 11).

What a reader sees before the details — a summary table (purpose, legal
basis, retention: one line per activity, as the CNIL's and the Garante's
model notices do) and a table of contents — and what the finished page
carries: a draft banner counting its gaps and untranslated passages, a
version (a hash of its content) and the "last updated" date the register
sets (never the build date).

The finish walks every line of the notice once: a register text the
register lacks in the notice's language gets a visible marker after it
(the passage keeps its own ``lang``). On the HTML page, French passages get
French typography (a non-breaking space before ``:`` and ``»``, after ``«``,
a narrow one before ``; ! ?``; the typographic apostrophe).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from markupsafe import Markup

from garde.documents.art30 import retention_lines
from garde.documents.links import mail_href, safe_href
from garde.documents.notice_rights import activity_name
from garde.documents.templating import html_cell, html_line
from garde.documents.trackers import Table
from garde.documents.wording import Cell, Line, Piece, Wording
from garde.register.model import Activity

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: before ; ! ? in French (Imprimerie nationale)


@dataclass(frozen=True)
class Counts:
    """What keeps a notice a draft: gaps (fields the register does not state) and untranslated passages."""

    gaps: int
    untranslated: int

    @property
    def draft(self) -> bool:
        return bool(self.gaps or self.untranslated)


def summary_table(activities: list[Activity], words: Wording) -> Table:
    """One row per activity: its name, purposes, legal bases (their labels) and retention."""
    keys = ("activity", "purpose", "legal_basis", "retention")
    header = tuple(words.ui(f"notice.layout.{key}") for key in keys)
    rows = []
    for activity in activities:
        purposes = [(p,) for p in map(words.text, activity.purposes) if p] or [(words.gap("purposes"),)]
        basis_ids = [b.basis for b in activity.legal_bases]
        bases = [words.terms("legal_bases", basis_ids)] if basis_ids else [(words.gap("legal_basis"),)]
        retention = retention_lines(activity, words) or [(words.gap("retention"),)]
        rows.append((Cell((activity_name(activity, words),)), Cell(tuple(purposes)), Cell(tuple(bases)),
                     Cell(tuple(retention))))
    return Table(header, tuple(rows))


def updated_line(updated_text: str | None, words: Wording) -> Line:
    """``Dernière mise à jour : 30 novembre 2026``, or a gap: the build date is not a change date."""
    value = Piece(updated_text, words.lang) if updated_text else words.gap("updated")
    return words.labelled("notice.layout.updated", (value,))


def content_version(text: str) -> str:
    """The version of a notice: the first 16 hex digits of the SHA-256 of its rendered text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# -- the finish: one walk over every line ------------------------------------------------------------

LineMap = Callable[[Line], Line]


def map_table(table: Table | None, fn: LineMap, say: Callable[[str], str] = str) -> Table | None:
    if table is None:
        return None
    rows = tuple(tuple(map_cell(c, fn) for c in row) for row in table.rows)
    return Table(tuple(map(say, table.header)), rows)


def map_cell(value: Cell, fn: LineMap) -> Cell:
    return Cell(tuple(fn(line) for line in value.lines))


def pieces_of_table(table: Table | None) -> Iterator[Piece]:
    for row in table.rows if table else ():
        for value in row:
            yield from (p for line in value.lines for p in line)


def finisher(words: Wording) -> LineMap:
    """The function applied to every line of a notice in ``words.lang``."""
    marker = Piece(f" {words.ui('notice.layout.untranslated')}", words.lang)

    def finish(line: Line) -> Line:
        out: list[Piece] = []
        for piece in line:
            out.append(piece)
            if piece.untranslated and piece.lang != words.lang and piece.text.strip():
                out.append(marker)
        return tuple(out)

    return finish


def typeset(text: str, lang: str) -> str:
    """Typography of a plain string of the page (titles, labels): French rules in French."""
    return french_typography(text) if lang == "fr" else text


def typeset_line(line: Line) -> Line:
    """Web and mail addresses in the text as links; French typography on the French pieces (never on
    an address)."""
    return tuple(replace(p, text=french_typography(p.text)) if p.lang == "fr" and not p.href else p
                 for p in linked(line))


# An address written inside a register text: a URL up to a blank or a quote, or an e-mail address.
_ADDRESS_IN_TEXT = re.compile(r"https?://[^\s<>\"'«»]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def linked(line: Line) -> Line:
    """Each web or mail address inside a piece becomes a piece of its own, a link when
    :func:`~garde.documents.links.safe_href` allows it (a trailing full stop or bracket stays text)."""
    out: list[Piece] = []
    for piece in line:
        if piece.href or piece.gap:
            out.append(piece)
            continue
        start = 0
        for match in _ADDRESS_IN_TEXT.finditer(piece.text):
            address = match[0].rstrip(".,;:!?)]")
            href = safe_href(address) if "://" in address else mail_href(address)
            if href is None:
                continue
            end = match.start() + len(address)
            if match.start() > start:
                out.append(replace(piece, text=piece.text[start:match.start()]))
            out.append(replace(piece, text=address, href=href))
            start = end
        out.append(replace(piece, text=piece.text[start:]) if start else piece)
    return tuple(p for p in out if p.text)


def html_line_typeset(line: Line, lang: str) -> Markup:
    """``html_line`` of the notice page: addresses linked, French passages in French typography."""
    return html_line(typeset_line(line), lang)


def html_cell_typeset(value: Cell, lang: str) -> Markup:
    return html_cell(Cell(tuple(typeset_line(line) for line in value.lines)), lang)


_BEFORE_HIGH = re.compile(r"[ \u00a0\u202f]*([;!?])(?=\s|$)")  # "a ; b", "a; b" -> narrow no-break space
# Within a piece ("droit : texte") or at its start (the label separator " : " is a piece of its own).
_BEFORE_COLON = re.compile(r"(?:(?<=\S)[ \u00a0\u202f]*|^[ \u00a0\u202f]+):(?=\s|$)")
_CLOSING = re.compile(r"[ \u00a0\u202f]*»")
_OPENING = re.compile(r"«[ \u00a0\u202f]*")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def french_typography(text: str) -> str:
    """French spacing and apostrophes: ``Droit d'accès : …`` -> ``Droit d’accès\u00a0: …``.

    Only where the character is punctuation of running text: ``:`` followed by a blank or the
    end (not ``https://`` or ``10:30``), ``; ! ?`` after a word, the apostrophe between letters.
    """
    text = _APOSTROPHE.sub("’", text)
    text = _BEFORE_COLON.sub(f"{NBSP}:", text)
    text = re.sub(r"(?:(?<=\w)|^(?=\s))" + _BEFORE_HIGH.pattern, lambda m: f"{NNBSP}{m[1]}", text)
    text = _CLOSING.sub(f"{NBSP}»", text)
    return _OPENING.sub(f"«{NBSP}", text)
