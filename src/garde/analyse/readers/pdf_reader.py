"""PDF notices: pypdf's text layer, page by page, its lines joined back into paragraphs, and its
tables rebuilt from the layout-mode text (:mod:`garde.analyse.readers.pdf_tables`).

A PDF's text layer keeps lines, not paragraphs: a line ends a paragraph when it ends a sentence
and is clearly shorter than the page's full lines, or when a blank line, a bullet or a heading
follows. A short line standing alone without closing punctuation is read as a heading. A scanned
PDF (pages as images) has no text layer: that is said, not guessed at.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from pypdf import Configuration, PageObject, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError

from garde.analyse.document import Document
from garde.analyse.readers.builder import DocumentBuilder
from garde.analyse.readers.pdf_tables import QUARTERS, ends_page, find_tables, joined, spaced
from garde.problems import GardeError

MAX_PAGES = 2000
# A few kilobytes of PDF inflate to gigabytes, and pypdf interprets text operators at about 200 kB a
# second (worse on one long page): bounds on what one stream inflates to, on the operators read from
# one content stream, on form objects drawn per page, and on the pages' content in all. A 50-page
# notice has about a megabyte of content and a page a few thousand operators.
MAX_CONTENT = 8 * 1024 * 1024
LIMITS = Configuration().with_overwrites(
    **{f"{name}_maximum_output_length": MAX_CONTENT
       for name in ("zlib", "lzw", "run_length", "brotli", "jbig2", "array_based_stream")},
    stream_parsing_work_maximum_count=100_000,
    xform_maximum_invocations_per_extraction=100,
)

MAX_HEADING = 80  # characters of a heading's line
_BULLET = re.compile(r"^\s*(?:[-*•▪◦●‣–]|\d{1,2}[.)]|[a-z][.)])\s+")
# A bullet drawn apart from its item's text: pypdf's plain text gives it a line of its own (reportlab's
# lists, many word processors' exports), the item's text on the lines after it.
_LONE_BULLET = re.compile(r"^\s*[-*•▪◦●‣–]\s*$")
_SENTENCE_END = re.compile(r"[.!?:;»”)\]]$")


def read_pdf(data: bytes, source: str) -> Document:
    try:
        with apply_configuration(LIMITS):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise GardeError(f"{source}: the PDF is encrypted; give an unprotected copy")
            pages = reader.pages
            if len(pages) > MAX_PAGES:
                raise GardeError(f"{source}: {len(pages)} pages; garde analyse reads at most {MAX_PAGES}")
            _check_content(pages, source)
            texts = [page.extract_text() or "" for page in pages]
            layouts = [_layout(page) if text.strip() else ([], [])
                       for page, text in zip(pages, texts, strict=True)]
    except LimitReachedError as exc:
        raise GardeError(f"{source}: more than garde analyse reads in a PDF ({exc})") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GardeError(f"{source}: not a readable PDF ({exc})") from None
    except RecursionError:
        raise GardeError(f"{source}: not a readable PDF (its objects are nested too deeply)") from None
    if not any(text.strip() for text in texts):
        raise GardeError(f"{source}: the PDF has no text layer (a scan?): run OCR on it first, "
                         "or give the notice as text, HTML or DOCX")
    builder = DocumentBuilder(source)
    carried: list[int] | None = None
    held: list[str] = []
    for text, layout in zip(texts, layouts, strict=True):
        carried, held = _page(text, layout, builder, carried, held)
    # what followed a table at the end of the last page: its prose, read as on that page
    last = layouts[-1][0] if layouts else []
    _prose(held, max((len(" ".join(line.split())) for line in last), default=0), builder)
    return builder.build()


def _layout(page: PageObject) -> tuple[list[str], list[int | None]]:
    """The page's layout-mode lines (for its tables) with the gap before each, in quarters of a
    font height (:func:`~garde.analyse.readers.pdf_tables.spaced`); none when pypdf's layout mode
    fails on a page its plain mode read: the page is then read as prose, as before tables were
    looked for."""
    try:
        fine = page.extract_text(extraction_mode="layout", layout_mode_font_height_weight=1 / QUARTERS)
    except LimitReachedError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, ZeroDivisionError):
        return [], []
    return spaced(fine or "")


def _check_content(pages: Sequence[PageObject], source: str) -> None:
    """Refuse pages whose content streams inflate to more than :data:`MAX_CONTENT` in all, before any
    is interpreted."""
    total = 0
    for page in pages:
        content = page.get_contents()
        total += len(content.get_data()) if content is not None else 0
        if total > MAX_CONTENT:
            raise GardeError(f"{source}: the PDF's pages hold more than {MAX_CONTENT:,} bytes of content; "
                             "garde analyse reads notices, not drawings or books")


def _page(text: str, layout: tuple[list[str], list[int | None]], builder: DocumentBuilder,
          carried: list[int] | None, held: list[str]) -> tuple[list[int] | None, list[str]]:
    """A page: its tables from the layout-mode text, its prose from the plain text (or, on a page with
    a table, from the layout-mode lines around it, their runs of spaces made one).

    ``carried``: the columns of a table that ended the page before, ``held`` the footer read after
    it; when the table goes on here, the footer and this page's running header are read after it
    (nothing comes between the table's two parts). Returned: the same for the next page.
    """
    grid, gaps = layout
    tables = find_tables(grid, carried, gaps)
    if not tables:
        lines = [line.strip() for line in text.splitlines()]
        _prose([*held, *lines], max((len(line) for line in lines), default=0), builder)
        return None, []
    lines = [" ".join(line.split()) for line in grid]
    full = max((len(line) for line in lines), default=0)
    if not tables[0].continued:
        _prose(held, full, builder)
        held = []
    done = 0
    for table in tables:
        before = lines[done:table.first]
        if table.continued:
            builder.add_table(table.rows, merged_unmarked=True)
            _prose([*held, *before], full, builder)
        else:
            _prose(before, full, builder)
            builder.add_table(table.rows, merged_unmarked=True)
        done = table.last
    if ends_page(tables[-1], grid):
        return tables[-1].columns, _trimmed(lines[done:])
    _prose(lines[done:], full, builder)
    return None, []


def _trimmed(lines: list[str]) -> list[str]:
    """Lines without the blank ones at either end (those between them part paragraphs)."""
    kept = [i for i, line in enumerate(lines) if line]
    return lines[kept[0]:kept[-1] + 1] if kept else []


def _prose(lines: list[str], full: int, builder: DocumentBuilder) -> None:
    """Lines of prose joined into headings, paragraphs and list items."""
    paragraph: list[str] = []
    kind = "paragraph"
    wrapped = False

    def flush() -> None:
        nonlocal kind
        if paragraph:
            item = kind == "item"
            builder.add("item" if item else "paragraph", joined(paragraph), 1 if item else 0)
            paragraph.clear()
        kind = "paragraph"

    for i, line in enumerate(lines):
        if not line:
            flush()
            continue
        if _LONE_BULLET.match(line):
            flush()
            kind = "item"
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if wrapped:  # the second line of a heading wrapped in two (added with the first)
            wrapped = False
            continue
        if (not paragraph or _SENTENCE_END.search(paragraph[-1])) and _is_heading(line, following, full):
            flush()
            builder.add("heading", line, 2)
            continue
        after = lines[i + 2] if i + 2 < len(lines) else ""
        if not paragraph and _wrapped_heading(line, following, after, full):
            flush()
            builder.add("heading", f"{line} {following}", 2)
            wrapped = True
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            kind = "item"
            line = line[bullet.end():]
        paragraph.append(line)
        if _SENTENCE_END.search(line) and len(line) < 0.75 * full:
            flush()
    flush()


def _wrapped_heading(line: str, following: str, after: str, full: int) -> bool:
    """A heading set in a large font and wrapped onto a second line ("Comune di Castelverde –
    Informativa sul" / "trattamento dei dati personali"): two short lines, neither ending a sentence or
    a clause, the second going on in lower case, and what follows them opening as a heading or a
    paragraph does."""
    short = 0.6 * max(full, 1)
    return (bool(following) and len(line) < short and len(following) < short
            and len(line) + len(following) <= 2 * MAX_HEADING
            and not any(_SENTENCE_END.search(x) or x.endswith((",", ":", ";")) for x in (line, following))
            and line[0].isupper() and following[0].islower() and not _BULLET.match(line)
            and (not after or after[0].isupper() or bool(_BULLET.match(after))
                 or bool(_LONE_BULLET.match(after))))


def _is_heading(line: str, following: str, full: int) -> bool:
    """A short line with no closing punctuation, starting with a capital or a number, on its own."""
    return (len(line) <= MAX_HEADING and len(line) < 0.75 * max(full, 1) and not _SENTENCE_END.search(line)
            and not line.endswith(",") and (line[0].isupper() or line[0].isdigit())
            and not _BULLET.match(line)
            and (not following or following[0].isupper() or bool(_BULLET.match(following))
                 or bool(_LONE_BULLET.match(following))))


