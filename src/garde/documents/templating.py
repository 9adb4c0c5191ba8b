"""The Jinja2 environment of the documents, with filters that render pieces.

In HTML a piece in another language than the page is wrapped in
``<span lang=..>`` (WCAG 3.1.2, and so screen readers pronounce it right),
and a gap is a styled ``<strong class="gap">``. In Markdown a gap is bold.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from garde.documents.wording import Cell, Line

TEMPLATES = Path(__file__).parent / "templates"


def html_line(line: Line, lang: str) -> Markup:
    out = []
    for piece in line:
        text = escape(piece.text)
        if piece.gap:
            out.append(Markup('<strong class="gap">{}</strong>').format(text))
        elif piece.lang != lang and piece.text.strip():
            out.append(Markup('<span lang="{}">{}</span>').format(piece.lang, text))
        else:
            out.append(text)
    return Markup("").join(out)


def html_cell(value: Cell, lang: str) -> Markup:
    return Markup("<br>").join(html_line(line, lang) for line in value.lines)


def md_line(line: Line) -> str:
    return "".join(f"**{p.text}**" if p.gap else p.text for p in line)


def md_cell(value: Cell, separator: str = "<br>") -> str:
    """A cell for a Markdown table: lines joined by ``<br>``, pipes escaped."""
    text = separator.join(md_line(line) for line in value.lines)
    return text.replace("|", "\\|").replace("\n", " ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(html_line=html_line, html_cell=html_cell, md_line=md_line, md_cell=md_cell)
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)
