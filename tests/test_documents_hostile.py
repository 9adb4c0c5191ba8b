"""A hostile register cannot inject structure, HTML, scripts or links into the published documents.

``tests/data/hostile/register.yaml`` puts headings, raw HTML, scripts, Markdown links,
autolinks, entity references, table rows and ``javascript:`` URLs in every free text.
The Markdown is read back with a real CommonMark parser (markdown-it-py, tables on,
raw HTML on: what GitHub or a static-site generator would do), the HTML with the
standard library's parser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from garde.documents import export_register, render_notice
from garde.documents.links import safe_href
from garde.documents.templating import html_line, md_escape
from garde.documents.wording import Piece
from garde.register import load_register

HOSTILE = load_register(Path(__file__).parent / "data" / "hostile" / "register.yaml")
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def markdown_tokens(text: str) -> list[Token]:
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)
    return [*tokens, *(child for token in tokens for child in token.children or [])]


def markdowns() -> list[tuple[str, str]]:
    return [*((f"notice-{lang}", render_notice(HOSTILE, lang, "md")) for lang in ("en", "fr", "it")),
            ("register", export_register(HOSTILE, "md", "en").decode())]


@pytest.mark.parametrize(("name", "text"), markdowns(), ids=lambda value: value[:12])
def test_markdown_shows_the_register_as_text_only(name: str, text: str) -> None:
    tokens = markdown_tokens(text)
    raw_html = {t.content.strip() for t in tokens if t.type in ("html_inline", "html_block")}
    assert raw_html <= {"<br>"}, raw_html  # garde's own line breaks in table cells, nothing else
    assert not [t for t in tokens if t.type in ("link_open", "image", "code_inline", "code_block",
                                                "fence", "blockquote_open", "hr", "s_open")]
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not [h for h in headings if h.startswith("Injected")]
    assert sum(1 for t in tokens if t.tag == "h1" and t.type == "heading_open") == 1
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in rendered and "<img" not in rendered and "<iframe" not in rendered
    assert "<a " not in rendered
    # Nothing is lost: the hostile texts are there, as text.
    assert "=cmd|' /C calc'!A0" in rendered and "&lt;script&gt;alert('controller')&lt;/script&gt;" in rendered


def test_markdown_escapes_line_starts_in_lists_and_paragraphs() -> None:
    text = render_notice(HOSTILE, "en", "md")
    items = [t for t in markdown_tokens(text) if t.type in ("bullet_list_open", "ordered_list_open")]
    assert not [t for t in items if t.type == "ordered_list_open"]  # "1. numbered" stays text
    rendered = MarkdownIt("commonmark").render(text)
    assert "# Injected heading &gt; quoted 1. numbered" in rendered


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("document", ["notice", "register"])
def test_html_links_only_to_safe_schemes_and_shows_register_html_as_text(document: str) -> None:
    page = (render_notice(HOSTILE, "en", "html") if document == "notice"
            else export_register(HOSTILE, "html", "en").decode())
    parser = _Tags()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "img", "iframe"}
    assert [tag for tag, _ in parser.tags].count("style") == 1  # garde's own stylesheet
    hrefs = [attrs.get("href") or "" for tag, attrs in parser.tags if tag == "a"]
    # A link is to a safe scheme, or within the page to an activity's sheet (#role-activity_id: ids
    # are [a-z0-9_-], so a register cannot shape them into anything else).
    assert all(href.startswith(SAFE_SCHEMES) or re.fullmatch(r"#[a-z0-9_-]+", href) for href in hrefs), hrefs
    assert "https://example.com/dpo" in hrefs and "mailto:dpo@example.com" in hrefs
    assert not any(attr.startswith("on") for _, attrs in parser.tags for attr in attrs)
    assert "&lt;script&gt;alert(&#39;controller&#39;)&lt;/script&gt;" in page


@pytest.mark.parametrize(("target", "expected"), [
    ("https://example.com/privacy?x=1&y=2", "https://example.com/privacy?x=1&y=2"),
    ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
    ("mailto:dpo@example.com", "mailto:dpo@example.com"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None), ("java\nscript:alert(1)", None), ("vbscript:msgbox(1)", None),
    ("data:text/html,<script>alert(1)</script>", None), ("file:///etc/passwd", None),
    ("//evil.example/x", None), ("https:evil", None), ("https://", None), ("/relative", None),
    ("https://example.com/<script>", None), ('https://example.com/"onmouseover=x', None), ("", None),
])
def test_only_http_https_and_mailto_links_are_emitted(target: str, expected: str | None) -> None:
    assert safe_href(target) == expected


MARKDOWN_TEXT = st.lists(st.sampled_from(
    [*"#>-+*=_`~[]()<>!&|\\:;/.1234567890 \n\tabcxyzé", "&amp;", "&#60;", "javascript:", "http://x.y"]
)).map("".join)
PARAGRAPH = {"paragraph_open", "inline", "paragraph_close"}
LIST = PARAGRAPH | {"bullet_list_open", "list_item_open", "list_item_close", "bullet_list_close"}


def _shown(markdown: str, allowed: set[str]) -> str:
    """The text a CommonMark parser shows for ``markdown``, checking it made nothing else."""
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    assert {t.type for t in tokens} <= allowed, [t.type for t in tokens]
    children = [child for t in tokens if t.type == "inline" for child in t.children or []]
    assert {child.type for child in children} <= {"text"}, [(c.type, c.content) for c in children]
    return "".join(child.content for child in children)


@settings(max_examples=300)
@given(MARKDOWN_TEXT)
def test_any_register_text_reads_back_as_that_text_in_markdown(text: str) -> None:
    flat = " ".join(text.splitlines()).strip()
    assert _shown(md_escape(text), PARAGRAPH) == flat
    assert _shown(f"- {md_escape(text)}", LIST) == flat
    table = MarkdownIt("commonmark").enable("table").parse(
        f"| head |\n|---|\n| {md_escape(text, line_start=False)} |\n")
    assert [t.type for t in table].count("td_open") == 1


@pytest.mark.parametrize(("text", "href", "marked"), [
    ("https://www.cnil.fr/fr/plaintes", "https://www.cnil.fr/fr/plaintes", False),
    ("dpo@shop.example", "mailto:dpo@shop.example", False),
    ("the CNIL's complaint form", "https://www.cnil.fr/fr/plaintes", True),
])
def test_a_link_whose_words_are_not_its_address_prints_the_address(text: str, href: str,
                                                                   marked: bool) -> None:
    """On paper a link cannot be followed: one whose words are not its address is marked for the print
    CSS to print the address after them (the browser tests read it on the printed page)."""
    html = str(html_line((Piece(text, "en", href=href),), "en"))
    assert ('class="shows-href"' in html) is marked, html
