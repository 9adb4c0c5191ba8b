"""Debian's Chromium driven by Playwright, for the tests that read the published documents.

Nothing here downloads a browser: Playwright is pointed at the system's Chromium
(``GARDE_TEST_CHROMIUM``, default ``/usr/bin/chromium``). Without it the browser tests skip
locally with a clear message and fail under ``CI=true`` (as the PostgreSQL tests do).
axe-core is the vendored copy in ``tests/data/axe-core/`` (``make vendor-axe`` refreshes it
from the npm registry), never a CDN.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from garde.register.model import Register
from garde.taxonomy import LANGS

AXE = Path(__file__).parent / "data" / "axe-core" / "axe.min.js"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    """The Chromium binary to drive; skips (or fails under ``CI=true``) when there is none."""
    path = os.environ.get("GARDE_TEST_CHROMIUM", DEFAULT_CHROMIUM)
    if not Path(path).is_file():
        message = (f"Chromium not found at {path}: `apt-get install chromium` "
                   "or set GARDE_TEST_CHROMIUM to its binary")
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    return path


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, closed at the end (skips as :func:`chromium_path` says)."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


# --- What the browser reports -------------------------------------------------------------

# Every text of the page with the language it is marked with (the nearest `lang`), and
# whether it sits in a gap (a gap is the page's own words about what the register lacks).
PASSAGES_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    const element = node.parentElement;
    if (!text || element.closest('style, script')) continue;
    const holder = element.closest('[lang]');
    out.push({text, lang: holder ? holder.getAttribute('lang') : '', gap: !!element.closest('.gap')});
  }
  return out;
}"""

# The screen at the current viewport: does the body scroll sideways, and which scrolling
# table boxes a keyboard cannot reach.
SCREEN_JS = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  unreachable: [...document.querySelectorAll('.table-scroll')]
    .filter(box => box.tabIndex < 0)
    .map(box => (box.getAttribute('aria-label') || box.textContent).slice(0, 60)),
})"""

# The page's own @page rule (the last one wins, as in print).
PAGE_RULE_JS = """() => {
  let size = '', left = '', right = '';
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      if (rule.type !== CSSRule.PAGE_RULE) continue;
      size = rule.style.getPropertyValue('size') || size;
      left = rule.style.getPropertyValue('margin-left') || left;
      right = rule.style.getPropertyValue('margin-right') || right;
    }
  }
  return {size, left, right};
}"""

# Under print media at the page's printable width: every table cell whose box leaves the
# page (or the box that would scroll it, which paper cannot).
CUT_CELLS_JS = """(width) => {
  const cut = [];
  for (const cell of document.querySelectorAll('th, td')) {
    const box = cell.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    let right = width;
    const scroller = cell.closest('.table-scroll');
    if (scroller) right = Math.min(right, scroller.getBoundingClientRect().right);
    if (box.right > right + 1 || box.left < -1) {
      cut.push(cell.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60) + ' (right edge '
               + Math.round(box.right) + 'px > ' + Math.round(right) + 'px)');
    }
  }
  return cut;
}"""

AXE_JS = "() => axe.run(document, {resultTypes: ['violations']})"

# On paper (print media): the links whose address the reader cannot see (neither in their words nor
# printed after them), and the navigation still shown (the contents' in-page links, "back to the list").
PAPER_JS = """() => {
  const shown = (element) => element.getClientRects().length > 0;
  const hidden = [];
  for (const link of document.querySelectorAll('a[href^="http"], a[href^="mailto:"]')) {
    if (!shown(link)) continue;
    const target = link.getAttribute('href').replace(/^mailto:/, '');
    const after = getComputedStyle(link, '::after').content;
    if (!link.innerText.includes(target) && !after.includes(target)) {
      hidden.push(link.innerText.trim().slice(0, 60) + ' -> ' + target);
    }
  }
  const chrome = [...document.querySelectorAll('nav, [role=navigation], .back')].filter(shown)
    .map((element) => element.outerHTML.slice(0, 80));
  return {hidden, chrome};
}"""


_SHEETS_MM = {"A3": (297.0, 420.0), "A4": (210.0, 297.0), "A5": (148.0, 210.0)}
_UNIT_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "px": 25.4 / 96, "pt": 25.4 / 72}


def _mm(length: str) -> float:
    match = re.fullmatch(r"\s*([\d.]+)\s*(mm|cm|in|px|pt)\s*", length or "0mm")
    return float(match[1]) * _UNIT_MM[match[2]] if match else 0.0


def printable_width_px(rule: dict[str, str]) -> int:
    """The width, in CSS pixels, between the page's side margins on paper (A4 by default)."""
    words = rule.get("size", "").split()
    sheet = next((w.upper() for w in words if w.upper() in _SHEETS_MM), "A4")
    short, long_ = _SHEETS_MM[sheet]
    width = long_ if "landscape" in words else short
    return int((width - _mm(rule.get("left", "")) - _mm(rule.get("right", ""))) * 96 / 25.4)


# --- Which language a text is in ------------------------------------------------------------

def _is_text_field(annotation: Any) -> bool:
    """A register field typed ``Text`` (a plain string, or one string per language)."""
    return "dict[str, str]" in str(annotation)


def register_texts(register: Register) -> dict[str, set[str]]:
    """Every text the register states, by the language it is written in."""
    texts: dict[str, set[str]] = {lang: set() for lang in LANGS}

    def add(value: Any, text_field: bool) -> None:
        if isinstance(value, BaseModel):
            for name, field in type(value).model_fields.items():
                if (name == "name" and type(value).__name__ != "Activity") or name == "address":
                    continue  # a person's or a company's name, a postal address: in no language
                add(getattr(value, name), _is_text_field(field.annotation))
        elif isinstance(value, list | tuple):
            for item in value:
                add(item, text_field)
        elif text_field and isinstance(value, dict) and set(value) <= set(LANGS):
            for lang, text in value.items():
                texts[lang].add(text)
        elif text_field and isinstance(value, str) and register.language in texts:
            texts[register.language].add(value)

    add(register, False)
    return texts


def catalogue_texts(catalogue: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """The catalogue's wording by language, cut at its ``{placeholders}``."""
    texts: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for entry in catalogue.values():
        for lang, text in entry.items():
            if lang in texts:
                texts[lang].update(part.strip(" ,;:.()") for part in re.split(r"\{[^}]*\}", text))
    return texts


def telling(texts: dict[str, set[str]]) -> dict[str, set[str]]:
    """The texts that tell their language: three words or more, and written so in no other
    language (a name such as "Newsletter" or an e-mail address tells nothing)."""
    out: dict[str, set[str]] = {}
    for lang, own in texts.items():
        others = set().union(*(texts[o] for o in texts if o != lang))
        out[lang] = {t for t in own if len(t.split()) >= 3 and t not in others}
    return out


def mislabelled(passages: list[dict[str, Any]], known: dict[str, set[str]]) -> list[str]:
    """Passages marked with one language that contain a known text of another."""
    found = []
    for passage in passages:
        for lang, texts in known.items():
            if lang == passage["lang"]:
                continue
            for text in texts:
                if text in passage["text"]:
                    found.append(f"{text!r} is {lang} but marked lang={passage['lang']!r}")
    return sorted(set(found))
