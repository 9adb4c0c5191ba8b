"""Every published page read in a real browser: on a desktop, on a phone, on A4 paper.

What ``garde.publish.publish()`` (and so ``garde demo``) writes for the repository's registers
(the index, each register's Art. 30 HTML and its notices in the languages it publishes) is opened in
Debian's Chromium at 1280 and 375 px and printed to A4. Screenshots (each page's first screen, or
the whole page with GARDE_TEST_SCREENSHOTS=full) and PDFs land in ``out/screenshots/`` so a person can
look. One browser, in one test worker; each page is
rendered once per width (and once for print), in one tab per width.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest

from garde.documents.wording import load_catalogue
from garde.publish import publish
from garde.register import read_register
from tests.browser import (
    AXE,
    AXE_JS,
    CUT_CELLS_JS,
    PAGE_RULE_JS,
    PAPER_JS,
    PASSAGES_JS,
    SCREEN_JS,
    catalogue_texts,
    mislabelled,
    printable_width_px,
    register_texts,
    telling,
)
from tests.conftest import REGISTERS, ROOT

# One worker runs them all (pyproject's `--dist loadgroup`): one browser, each page rendered once.
pytestmark = pytest.mark.xdist_group("browser")

SCREENSHOTS = ROOT / "out" / "screenshots"
WIDTHS = (1280, 375)
SERIOUS = {"serious", "critical"}


@dataclass(frozen=True)
class Page:
    """One published page: ``register`` is the register file's stem (None for the index)."""

    path: str  # relative to the publication folder
    register: str | None
    lang: str

    @property
    def shot(self) -> str:
        return self.path.removesuffix(".html")


def _pages() -> list[Page]:
    """The pages ``publish()`` writes, known without publishing (collection stays cheap)."""
    pages = [Page("index.html", None, "en")]
    for path in sorted(REGISTERS.glob("*.yaml")):
        register = read_register(path).register
        own = register.language
        pages.append(Page(f"{path.stem}/register-{own if own in ('fr', 'en', 'it') else 'en'}.html",
                          path.stem, own))
        pages.append(Page(f"{path.stem}/lint-{own if own in ('fr', 'en', 'it') else 'en'}.html",
                          path.stem, own))
        pages += [Page(f"{path.stem}/notice-{lang}.html", path.stem, lang)
                  for lang in register.published_languages()]
    return pages


PAGES = _pages()
NOTICES = [p for p in PAGES if "/notice-" in p.path]


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published")
    publish([REGISTERS], out)
    return out




@pytest.fixture(scope="session")
def rendered(browser: Any, published: Path) -> Iterator[Any]:
    """``rendered(page, width)``: what the browser saw, computed once per page and width. One tab per
    width (and one for print) goes from page to page: the published pages run no script and set no
    cookie, so a page finds nothing of the one before, and a tab and its context made per page cost
    ≈ 0.2 s each (more under load)."""
    cache: dict[tuple[str, int | str], dict[str, Any]] = {}
    tabs: dict[int | str, Any] = {}
    axe = AXE.read_text(encoding="utf-8")

    def render(page: Page, width: int | str) -> dict[str, Any]:
        key = (page.path, width)
        if key not in cache:
            if width not in tabs:
                tabs[width] = browser.new_page(viewport={"width": width if isinstance(width, int) else 1280,
                                                         "height": 900})
            tab = tabs[width]
            tab.goto((published / page.path).as_uri())
            cache[key] = _print(tab, page) if width == "print" else _screen(tab, page, width, axe)
        return cache[key]

    yield render
    for tab in tabs.values():
        tab.context.close()


def _target(page: Page, suffix: str) -> Path:
    target = SCREENSHOTS / f"{page.shot}-{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


# The screenshots are for a person to look at (no test reads them): the first screen of each page,
# unless GARDE_TEST_SCREENSHOTS=full asks for the whole page (a capture of up to 8,000 px took ≈ 1.4 s
# a page and width at load 12, the first screen ≈ 0.1 s). Chromium cannot always capture a page taller
# than its largest texture (a long lint report at 375 px), nor, on a loaded machine, one somewhat
# shorter: the whole page's screenshot then shows its first part, and if even that cannot be captured,
# the first screen.
FULL_SCREENSHOTS = os.environ.get("GARDE_TEST_SCREENSHOTS") == "full"
TALLEST_SHOT = 8_000


def _shoot(tab: Any, page: Page, width: int) -> None:
    if not FULL_SCREENSHOTS:
        _capture(tab, page, width)
        return
    height = int(tab.evaluate("() => document.documentElement.scrollHeight"))
    clip = {"x": 0, "y": 0, "width": width, "height": TALLEST_SHOT} if height > TALLEST_SHOT else None
    try:
        tab.screenshot(path=_target(page, f"{width}.png"), full_page=True, clip=clip)
    except Exception as error:  # playwright's Error: Chromium's capture, not the page, failed
        if "Unable to capture screenshot" not in str(error):
            raise
        _capture(tab, page, width)


def _capture(tab: Any, page: Page, width: int, attempts: int = 3) -> None:
    """The first screen. Chromium sometimes cannot capture a tab that is not in front (one tab a width
    goes from page to page: CI46 lost 2 of ≈ 100 so): it is brought to the front and tried again; a
    capture still refused is left out (logged), as no test reads the screenshots."""
    for attempt in range(1, attempts + 1):
        try:
            tab.screenshot(path=_target(page, f"{width}.png"))
            return
        except Exception as error:  # playwright's Error: Chromium's capture, not the page, failed
            if "Unable to capture screenshot" not in str(error):
                raise
            if attempt == attempts:
                logging.getLogger(__name__).warning("%s at %d px: Chromium could not capture a screenshot",
                                                    page.shot, width)
                return
            tab.bring_to_front()
            tab.wait_for_timeout(100 * attempt)


def _screen(tab: Any, page: Page, width: int, axe: str) -> dict[str, Any]:
    _shoot(tab, page, width)
    facts: dict[str, Any] = tab.evaluate(SCREEN_JS)
    if width == WIDTHS[0]:  # the language tests read the page at its first width only
        facts["passages"] = tab.evaluate(PASSAGES_JS)
        facts["lang"] = tab.evaluate("() => document.documentElement.lang")
    tab.add_script_tag(content=axe)
    facts["violations"] = tab.evaluate(AXE_JS)["violations"]
    return facts


def _print(tab: Any, page: Page) -> dict[str, Any]:
    tab.emulate_media(media="print")
    width = printable_width_px(tab.evaluate(PAGE_RULE_JS))
    tab.set_viewport_size({"width": width, "height": 900})
    cut = tab.evaluate(CUT_CELLS_JS, width)
    paper = tab.evaluate(PAPER_JS)
    tab.pdf(path=_target(page, "a4.pdf"), format="A4", prefer_css_page_size=True, print_background=True)
    return {"width": width, "cut": cut, "scrollWidth": tab.evaluate("document.documentElement.scrollWidth"),
            **paper}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.shot)
def test_page_reads_without_sideways_scrolling(rendered: Any, page: Page, width: int) -> None:
    """At 1280 and 375 px the body never scrolls sideways; a table too wide for the screen
    scrolls in its own box, which the keyboard can reach (WCAG 2.1.1)."""
    facts = rendered(page, width)
    assert facts["scrollWidth"] <= facts["innerWidth"], (
        f"{page.path} at {width}px is {facts['scrollWidth']}px wide: the reader scrolls sideways")
    assert not facts["unreachable"], f"{page.path}: scrolling tables out of keyboard reach"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.shot)
def test_page_has_no_serious_accessibility_violation(rendered: Any, page: Page, width: int) -> None:
    """axe-core finds nothing serious or critical at either width."""
    violations = [f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s), e.g. "
                  f"{v['nodes'][0]['target']}"
                  for v in rendered(page, width)["violations"] if v["impact"] in SERIOUS]
    assert not violations, f"{page.path} at {width}px:\n" + "\n".join(violations)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.shot)
def test_page_content_sits_in_landmarks(rendered: Any, page: Page) -> None:
    """A screen reader jumps to the document through its landmarks: one `main`, and no text
    outside a landmark (axe-core's moderate rules landmark-one-main and region)."""
    found = [f"{v['id']}: {len(v['nodes'])} element(s)" for v in rendered(page, 1280)["violations"]
             if v["id"] in {"landmark-one-main", "region"}]
    assert not found, f"{page.path}: " + "; ".join(found)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.shot)
def test_page_prints_every_column_on_a4(rendered: Any, page: Page) -> None:
    """Printed (print media, the page's own A4 @page rule), no table cell leaves the paper or
    hides in a box that would have scrolled on screen; the PDF is written for a person to see."""
    facts = rendered(page, "print")
    assert not facts["cut"], f"{page.path} on A4 ({facts['width']}px wide) cuts:\n" + "\n".join(facts["cut"])
    assert facts["scrollWidth"] <= facts["width"], f"{page.path} is wider than the A4 page"
    assert _target(page, "a4.pdf").read_bytes().startswith(b"%PDF")


ON_PAPER = [p for p in PAGES if "/notice-" in p.path or "/register-" in p.path]


@pytest.mark.parametrize("page", ON_PAPER, ids=lambda p: p.shot)
def test_page_on_paper_shows_its_links_and_no_navigation(rendered: Any, page: Page) -> None:
    """A privacy notice or an Art. 30 register read on paper: every web or mail address a link
    points to is printed (in its words, or after them), and nothing is there only to move about the
    screen (the notice's contents of in-page links, the register's "back to the list")."""
    facts = rendered(page, "print")
    assert not facts["hidden"], f"{page.path} on paper hides where its links go: {facts['hidden']}"
    assert not facts["chrome"], f"{page.path} on paper prints its navigation: {facts['chrome']}"


@pytest.mark.parametrize("page", [Page("reference-shop/notice-fr.html", "reference-shop", "fr"),
                                  Page("reference-shop/register-en.html", "reference-shop", "en")],
                         ids=lambda p: p.shot)
def test_the_pdf_carries_every_address_and_no_navigation(rendered: Any, published: Path, page: Page) -> None:
    """The same read from the PDF Chromium printed (its text layer, as pypdf reads it): the addresses
    of the page's links are on the paper, the navigation's words are not."""
    assert page in PAGES
    rendered(page, "print")
    reader = pypdf.PdfReader(_target(page, "a4.pdf"))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    html = (published / page.path).read_text(encoding="utf-8")
    addresses = {a.removeprefix("mailto:") for a in re.findall(r'<a href="((?:https?|mailto):[^"]+)"', html)}
    assert addresses, f"{page.path} has no link to check"
    assert sorted(a for a in addresses if a not in text) == []
    navigation = set(re.findall(r'<h2 id="contents-title">([^<]+)</h2>', html))  # the notice's contents
    navigation |= set(re.findall(r'<p class="back"><a href="#[^"]+">([^<]+)</a>', html))  # the register's
    assert navigation, f"{page.path}: its navigation was not found"
    assert sorted(words for words in navigation if "".join(words.split()) in text) == []


@pytest.fixture(scope="session")
def known_texts() -> dict[str, dict[str, set[str]]]:
    """Per register, the texts that tell their language: the register's own and the catalogue's."""
    catalogue = catalogue_texts(load_catalogue())
    known: dict[str, dict[str, set[str]]] = {}
    for path in sorted(REGISTERS.glob("*.yaml")):
        own = register_texts(read_register(path).register)
        known[path.stem] = telling({lang: own[lang] | catalogue[lang] for lang in own})
    return known


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.shot)
def test_every_passage_is_marked_with_its_language(
        rendered: Any, known_texts: dict[str, dict[str, set[str]]], page: Page) -> None:
    """The page's `lang` is its language, and a passage in another language says so with its
    own `lang` (WCAG 3.1.1 and 3.1.2): a French page never shows English text as French."""
    facts = rendered(page, 1280)
    assert facts["lang"] == page.lang
    known = known_texts[page.register] if page.register else telling(catalogue_texts(load_catalogue()))
    wrong = mislabelled(facts["passages"], known)
    assert not wrong, f"{page.path}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("page", NOTICES, ids=lambda p: p.shot)
def test_notice_speaks_one_language(rendered: Any, page: Page) -> None:
    """A notice is written in one language: no passage marked with another (a gap, the page's
    own words about what the register lacks, excepted). Every published notice passes: a register
    publishes only the languages it has texts in (the reference shop its three, each seed its own),
    names are in no language and the authority is named in the notice's language where it has a
    name there."""
    other = sorted({f"[{p['lang']}] {p['text'][:80]}" for p in rendered(page, 1280)["passages"]
                    if p["lang"] != page.lang and not p["gap"]})
    assert not other, f"{page.path} mixes languages:\n" + "\n".join(other[:20])


def test_vendored_axe_core_is_the_pinned_version() -> None:
    """The vendored axe-core is the one the Makefile pins (``make vendor-axe`` refreshes both)."""
    pinned = next(line.split(":=")[1].strip() for line in (ROOT / "Makefile").read_text().splitlines()
                  if line.startswith("AXE_VERSION"))
    assert AXE.read_text(encoding="utf-8").startswith(f"/*! axe v{pinned}\n")
    assert "Mozilla Public License" in (AXE.parent / "LICENSE").read_text(encoding="utf-8")


def test_language_oracle_knows_the_register_and_catalogue_wording() -> None:
    """The lang check is not vacuous: it knows the reference shop's texts per language and the
    catalogue's, and names of people or companies tell no language."""
    known = telling(register_texts(read_register(REGISTERS / "reference-shop.yaml").register))
    assert "Gestion des comptes et de la relation client" in known["fr"]
    assert "Customer accounts and relationship" in known["en"]
    assert "Maison Exemple SAS" not in set().union(*known.values())
    catalogue = telling(catalogue_texts(load_catalogue()))
    assert "Base juridique" not in catalogue["fr"]  # two words tell too little
    assert "Réclamation auprès d'une autorité de contrôle" in catalogue["fr"]


def test_printable_width_follows_the_page_rule() -> None:
    """A4 portrait with 14 mm margins is 182 mm of text; landscape 269 mm; no rule: A4 portrait."""
    assert printable_width_px({"size": "A4", "left": "14mm", "right": "14mm"}) == int(182 * 96 / 25.4)
    assert printable_width_px({"size": "A4 landscape", "left": "1.4cm", "right": "14mm"}) == int(
        269 * 96 / 25.4)
    assert printable_width_px({}) == int(210 * 96 / 25.4)
