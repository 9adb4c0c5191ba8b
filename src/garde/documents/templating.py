"""The Jinja2 environments of the documents, with filters that render pieces.

In HTML a piece in another language than the page is wrapped in
``<span lang=..>`` (WCAG 3.1.2, and so screen readers pronounce it right),
a gap is a styled ``<strong class="gap">`` and a web or mail address is a
link when :func:`~garde.documents.links.safe_href` allows it. In Markdown a gap
is bold.

Both escape what the register says. HTML through Jinja's autoescape; Markdown
through :func:`md_escape`, applied to every ``{{ value }}`` of a Markdown
template unless a filter already made it :class:`MarkdownText`: a register's
text cannot open a heading, a list, a quote, a code span, a link, an image or
raw HTML, or break out of a table cell.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from garde.documents.wording import Cell, Line

TEMPLATES = Path(__file__).parent / "templates"


class MarkdownText(str):
    """Markdown that garde wrote (escaped text and its own markup): not escaped again."""

    __slots__ = ()


# CommonMark: any ASCII punctuation may be backslash-escaped. Escaped wherever they are:
# what opens emphasis, code spans, links and images, autolinks and raw HTML, table cells (GFM)
# and strikethrough (GFM); "&" only before an entity reference, "_" only where it could open or
# close emphasis (not inside a word, as in a file name).
_INLINE = re.compile(r"[\\`*\[\]<>|~]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
# These open a block only at the start of a line: heading, quote, list item, thematic break,
# setext underline; "1." or "1)" opens an ordered list.
_BLOCK_START = re.compile(r"^(?:([#>+=-])|(\d{1,9})([.)]))")


def _escape_block_start(match: re.Match[str]) -> str:
    return f"\\{match[1]}" if match[1] else f"{match[2]}\\{match[3]}"


def md_escape(text: str, line_start: bool = True) -> MarkdownText:
    """``text`` as Markdown that shows it literally, on one line.

    Line breaks become spaces (a value never starts a line of its own); when the
    text may start a line, leading blanks go (four would open a code block) and
    a first character that would open a block is escaped.
    """
    escaped = _INLINE.sub(lambda match: "\\" + match[0], " ".join(text.splitlines()))
    if line_start:
        escaped = _BLOCK_START.sub(_escape_block_start, escaped.lstrip())
    return MarkdownText(escaped)


def html_line(line: Line, lang: str) -> Markup:
    out = []
    for piece in line:
        text = escape(piece.text)
        if piece.href:  # on paper, a link whose words are not its address shows it (the print CSS)
            shows = piece.text.strip() not in (piece.href, piece.href.removeprefix("mailto:"))
            text = Markup('<a href="{}"{}>{}</a>').format(piece.href, Markup(' class="shows-href"') if shows
                                                         else "", text)
        if piece.gap:
            out.append(Markup('<strong class="gap">{}</strong>').format(text))
        elif piece.lang != lang and piece.text.strip():
            out.append(Markup('<span lang="{}">{}</span>').format(piece.lang, text))
        else:
            out.append(text)
    return Markup("").join(out)


def html_cell(value: Cell, lang: str) -> Markup:
    return Markup("<br>").join(html_line(line, lang) for line in value.lines)


def md_line(line: Line) -> MarkdownText:
    """A line of pieces, escaped; a gap in bold."""
    out = []
    for index, piece in enumerate(line):
        text = md_escape(piece.text, line_start=index == 0)
        out.append(f"**{text}**" if piece.gap else text)
    return MarkdownText("".join(out))


def md_cell(value: Cell, separator: str = "<br>") -> MarkdownText:
    """A cell for a Markdown table or a list item: lines escaped and joined by ``separator``."""
    return MarkdownText(separator.join(md_line(line) for line in value.lines))


def _md_finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of a Markdown template: escaped unless already Markdown."""
    if value is None or isinstance(value, MarkdownText):
        return value
    return md_escape(str(value))


@lru_cache(maxsize=2)
def environment(markdown: bool = False) -> Environment:
    """The HTML environment (autoescaped), or with ``markdown`` the Markdown one (md-escaped)."""
    options: dict[str, Any] = {"finalize": _md_finalize} if markdown else {}
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        **options,
    )
    env.filters.update(html_line=html_line, html_cell=html_cell, md_line=md_line, md_cell=md_cell)
    from garde.documents import notice_layout  # the notice page's French typography (it imports this module)
    env.filters.update(typeset=notice_layout.typeset, html_line_fr=notice_layout.html_line_typeset,
                       html_cell_fr=notice_layout.html_cell_typeset)
    return env


def render(template: str, **context: object) -> str:
    return environment(template.endswith(".md.j2")).get_template(template).render(**context)
