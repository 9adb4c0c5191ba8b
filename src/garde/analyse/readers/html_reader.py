"""HTML notices, parsed by selectolax (Lexbor, an HTML5 parser: no network, no DTD, no entity
beyond HTML's own named references)."""

from __future__ import annotations

import re
from collections import Counter

from selectolax.lexbor import LexborHTMLParser, LexborNode

from garde.analyse.document import Document
from garde.analyse.readers.builder import DocumentBuilder
from garde.problems import GardeError

# Boilerplate around the notice's own text: scripts, styles, navigation, the page's header and footer
# menus. <header>/<footer> inside an <article> or <section> belong to it and are kept. A form's
# controls are left out (their values, options and buttons are no text a reader reads as the notice),
# not the form: a sign-up form's notice is its labels, legends and paragraphs among the inputs.
_SKIPPED = frozenset({"script", "style", "noscript", "template", "nav", "svg", "iframe", "button",
                      "select", "head", "aside", "input", "textarea", "option", "optgroup", "datalist",
                      "output", "meter", "progress"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset({"p", "li", "dt", "dd", "blockquote", "pre", "address", "figcaption", "caption",
                     "summary", "label", "legend"})
# A definition list's term and a disclosure's summary title what follows them (the <dd>, the rest of the
# <details>), as a heading does: "<dt>Newsletter</dt><dd>Consent, given when you tick the box</dd>" is a
# purpose and its basis. Read as headings below any <h1>-<h6> when short enough to be a title.
_TITLES = frozenset({"dt", "summary"})
_TITLE_LEVEL = 7
_TITLE_WORDS = 15
_CONTAINERS = frozenset({"div", "section", "article", "main", "body", "html", "ul", "ol", "dl", "details",
                         "header", "footer", "figure", "center", "span", "font", "fieldset", "form"})


# Nesting: an HTML5 tree builder looks through the open elements at each tag (time quadratic in the
# depth: 100,000 nested <div> took minutes) and the walk below recurses per level. Notices nest a few
# dozen levels; a browser's DOM stops at 512.
MAX_DEPTH = 256
# Elements that do not nest: void ones, and those whose end tag may be left out (a new one closes them).
_FLAT = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                   "track", "wbr", "param", "keygen", "frame", "basefont", "bgsound", "p", "li", "dt", "dd",
                   "tr", "td", "th", "option", "optgroup", "rb", "rt", "rtc", "rp", "thead", "tbody", "tfoot",
                   "colgroup", "caption", "html", "head", "body"})
# A tag's name runs to a space, "/" or ">" (as the HTML5 tokenizer reads it); comments and the raw text
# of scripts and styles hold no tags
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][^\s/>]*)")
_RAW_TEXT = {name: re.compile(f"</{name}", re.IGNORECASE) for name in (
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")}
_COMMENT_END = re.compile("-->")


def read_html(text: str, source: str) -> Document:
    _check_nesting(text, source)
    tree = LexborHTMLParser(text)
    builder = DocumentBuilder(source)
    root = tree.body or tree.root
    if root is not None:
        try:
            _walk(root, builder, depth=0)
        except RecursionError:  # the bound above should make this unreachable: never a traceback
            raise GardeError(f"{source}: the HTML is nested too deeply to read") from None
    return builder.build(_declared_language(tree))


def _declared_language(tree: LexborHTMLParser) -> str:
    """The language the page declares (``<html lang="fr-FR">``, else its body's or main content's):
    its primary subtag, lower case; "" when none is declared."""
    for selector in ("html", "body", "main", "form"):
        node = tree.css_first(selector)
        value = node.attributes.get("lang") if node is not None else None
        if value:
            return value.strip().split("-")[0].split("_")[0].lower()
    return ""


def _check_nesting(text: str, source: str) -> None:
    """Refuse HTML nesting elements more than :data:`MAX_DEPTH` deep, in one pass before parsing: an end
    tag closes the innermost open element of its name and those inside it, a stray one nothing."""
    stack: list[str] = []
    open_names: Counter[str] = Counter()
    position = 0
    while (match := _TAG.search(text, position)) is not None:
        position = match.end()
        if match.group(0) == "<!--":
            position = _after(text, _COMMENT_END, position)
            continue
        name = match.group(2).lower()
        if name in _FLAT:
            continue
        if not match.group(1):
            if name in _RAW_TEXT:
                position = _after(text, _RAW_TEXT[name], position)
                continue
            stack.append(name)
            open_names[name] += 1
            if len(stack) > MAX_DEPTH:
                raise GardeError(f"{source}: the HTML nests elements more than {MAX_DEPTH} deep "
                                 f"(<{name}> at offset {match.start():,}); a notice is not nested so deeply")
        elif open_names[name]:
            while stack:
                closed = stack.pop()
                open_names[closed] -= 1
                if closed == name:
                    break


def _after(text: str, end: re.Pattern[str], position: int) -> int:
    found = end.search(text, position)
    return len(text) if found is None else found.end()


def _is_page_chrome(node: LexborNode) -> bool:
    """A page-level header or footer (not one inside an article or section)."""
    if node.tag not in ("header", "footer"):
        return False
    parent = node.parent
    while parent is not None:
        if parent.tag in ("article", "section", "main"):
            return False
        parent = parent.parent
    return True


# A page's header or footer is menus, except the lines that say who runs the site ("Acme is a trading
# name of Acme Holdings Ltd, registered in England ...", an <address>): its paragraphs of a few words
# (words of letters) and more, outside its navigation and lists.
_CHROME_STATEMENT_WORDS = 8


def _chrome_statements(node: LexborNode, builder: DocumentBuilder) -> None:
    for block in node.css("p, address"):
        inside = block.parent
        while inside is not None and inside != node and inside.tag not in ("nav", "ul", "ol", "li", "a"):
            inside = inside.parent
        text = _text(block)
        if inside == node and len(re.findall(r"[^\W\d_]{2,}", text)) >= _CHROME_STATEMENT_WORDS:
            builder.add("paragraph", text)


def _walk(node: LexborNode, builder: DocumentBuilder, depth: int, below: int = 0) -> None:
    """Read ``node``'s blocks into ``builder``; ``below``: the level its headings sit under (inside a
    ``<details>``, its ``<summary>``'s: "Who do we share it with?" over "<h3>Couriers</h3>")."""
    inline: list[str] = []

    def flush() -> None:
        if inline:
            builder.add("paragraph", "".join(inline))
            inline.clear()

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            inline.append(child.text(deep=False) or "")
            continue
        # a toggling link inside a sentence ("read <a aria-expanded=...>more</a>") stays its words
        if _is_toggle(child) and len(_text(child).split()) <= _TITLE_WORDS \
                and (tag != "a" or not "".join(inline).strip()):
            flush()  # an accordion's title button (Bootstrap's, a shop theme's) titles its panel
            builder.add("heading", _text(child), _TITLE_LEVEL)
            continue
        if tag in _SKIPPED or tag == "-comment":
            continue
        if _is_page_chrome(child):
            flush()
            _chrome_statements(child, builder)
            continue
        if tag in _HEADINGS:
            flush()
            builder.add("heading", _text(child), _HEADINGS[tag] + below)
        elif tag == "table":
            flush()
            builder.add_table(_rows(child))
        elif tag == "li":
            flush()
            _item(child, builder, depth + 1)
        elif tag in _TITLES and len(_text(child).split()) <= _TITLE_WORDS:
            flush()
            builder.add("heading", _text(child), _TITLE_LEVEL)
        elif tag in _BLOCKS:
            flush()
            builder.add("paragraph", _text(child), label=_bold_opening(child))
        elif tag in _CONTAINERS:
            flush()
            _walk(child, builder, depth + (tag in ("ul", "ol")), _TITLE_LEVEL if tag == "details" else below)
        elif tag == "br":
            flush()
        else:  # inline markup: <a>, <strong>, <em>...
            inline.append(_text(child))
    flush()


_BOLD = frozenset({"strong", "b"})
# A button that opens or closes a panel (an accordion's title): its text is the panel's title, not a
# form's control.
_TOGGLE_ATTRIBUTES = ("aria-controls", "aria-expanded", "data-bs-toggle", "data-toggle")


# Class words of a button a script wires to the panel after it, with no ARIA attribute ("<button
# class="accordion">", "accordion-toggle", "collapsible"): the pattern many themes and tutorials use.
_TOGGLE_CLASSES = re.compile(r"accordion|collaps|toggle|expand", re.IGNORECASE)


def _is_toggle(node: LexborNode) -> bool:
    """A ``<button>``, a link or an element a script makes one (``role="button"``: a theme's ``<div>``,
    Bootstrap 3's ``<a data-toggle="collapse">``) that opens or closes a panel; a ``<button>`` whose
    class names an accordion's title."""
    if node.tag == "button" and _TOGGLE_CLASSES.search(node.attributes.get("class") or ""):
        return True
    return (node.tag in ("button", "a") or node.attributes.get("role") == "button") \
        and any(name in node.attributes for name in _TOGGLE_ATTRIBUTES)


def _bold_opening(node: LexborNode) -> str:
    """The text of a ``<strong>`` or ``<b>`` opening the block (nothing but spaces before it), a
    run-in label ("<p><strong>Account.</strong> We create ..."); "" when the block opens otherwise."""
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            if (child.text(deep=False) or "").strip():
                return ""
            continue
        return _text(child) if _is_bold(child) else ""
    return ""


# Bold set by a style rather than a tag: "font-weight: bold" (or 600 and more) inline, or a class
# name themes give bold run-in labels ("label", Bootstrap's "fw-bold", Tailwind's "font-bold").
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold(?:er)?|[6-9]00)\b", re.IGNORECASE)
_BOLD_CLASSES = frozenset({"label", "bold", "strong", "fw-bold", "fw-semibold", "font-bold",
                           "font-semibold", "font-weight-bold", "text-bold"})


def _is_bold(node: LexborNode) -> bool:
    if node.tag in _BOLD:
        return True
    style = node.attributes.get("style") or ""
    classes = set((node.attributes.get("class") or "").lower().split())
    return bool(_BOLD_STYLE.search(style)) or bool(classes & _BOLD_CLASSES)


def _item(node: LexborNode, builder: DocumentBuilder, depth: int) -> None:
    """A list item: its own text, then any list nested in it as deeper items."""
    own: list[str] = []
    nested: list[LexborNode] = []
    for child in node.iter(include_text=True):
        if child.tag in ("ul", "ol"):
            nested.append(child)
        elif child.tag == "-text":
            own.append(child.text(deep=False) or "")
        elif child.tag not in _SKIPPED:
            own.append(_text(child))
    builder.add("item", "".join(own), depth)
    for sub in nested:
        for li in sub.iter():
            if li.tag == "li":
                _item(li, builder, depth + 1)


#: Most rows one cell's ``rowspan`` is carried over (HTML's own limit is 65,534).
MAX_ROWSPAN = 1000
#: Most columns one cell's ``colspan`` spans (HTML's own limit is 1,000; a notice's table has a few),
#: and the most columns spans widen a row to (a row's own cells are read whatever their number).
MAX_COLSPAN = 100
MAX_WIDTH = 1000


def _rows(table: LexborNode) -> list[list[str]]:
    """The table laid out on its grid: each row a cell text per column. A cell spanning rows
    (``rowspan``: a register's basis cell shared by the rows of several purposes) is read in each
    row it spans, at its column, as Word's vertically merged cells are; a cell spanning columns
    (``colspan``: "Lawful basis" over "Article 6" and "Details" in a header's first row) is read at
    its first column, the columns it spans left empty, so every cell keeps its column."""
    rows: list[list[str]] = []
    spanning: dict[int, tuple[str, int, int]] = {}  # column -> (text, rows still to span, columns)
    for row in table.css("tr"):
        owner = _owner_table(row)
        if owner is None or owner.mem_id != table.mem_id:  # a row of a nested table belongs to that table
            continue
        cells: list[str] = []
        for cell in (c for c in row.iter() if c.tag in ("td", "th")):
            while len(cells) in spanning:
                cells += _carried(spanning, len(cells))
            text = _text(cell)
            down = _span(cell.attributes.get("rowspan"), MAX_ROWSPAN)
            across = _span(cell.attributes.get("colspan"), MAX_COLSPAN)
            if down > 1:
                spanning[len(cells)] = (text, down - 1, across)
            cells += [text] + [""] * min(across - 1, max(0, MAX_WIDTH - len(cells)))
        while spanning and max(spanning) >= len(cells):  # cells spanning down past the row's own
            cells += _carried(spanning, len(cells)) if len(cells) in spanning else [""]
        rows.append(cells)
    return rows


def _carried(spanning: dict[int, tuple[str, int, int]], column: int) -> list[str]:
    text, left, across = spanning.pop(column)
    if left > 1:
        spanning[column] = (text, left - 1, across)
    return [text] + [""] * min(across - 1, max(0, MAX_WIDTH - column))


def _span(value: str | None, most: int) -> int:
    value = (value or "").strip()  # ASCII digits only: "²" is a digit to isdigit(), not to int()
    return min(int(value), most) if value.isascii() and value.isdigit() and int(value) > 0 else 1


def _owner_table(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent


def _text(node: LexborNode) -> str:
    """A node's text as a reader sees it: inline markup joined as is, a line break or a block inside
    it read as a space, scripts and styles left out."""
    parts: list[str] = []
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            parts.append(child.text(deep=False) or "")
        elif tag == "br":
            parts.append(" ")
        elif _is_toggle(child):  # "<h3><button aria-controls=...>Orders</button></h3>": the title's text
            parts.append(_text(child))
        elif tag in _SKIPPED or tag == "-comment":
            continue
        elif tag in _BLOCKS or tag in _HEADINGS or tag in _CONTAINERS or tag in ("td", "th", "tr", "table"):
            parts.append(f" {_text(child)} ")
        else:
            parts.append(_text(child))
    return "".join(parts)
