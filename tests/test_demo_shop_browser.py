"""The demo shop page of `make demo` in Debian's Chromium: the banner of the register in force, under
the pages' CSP, themed by the shop's own style sheet; accepting runs the held-back tracker, refusing
does not; both land in the consent ledger; axe-core finds nothing serious or critical at 1280 and
375 px. Screenshots: ``out/screenshots/demo-shop/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.banner_support import ledger
from tests.browser import AXE, AXE_JS
from tests.conftest import ROOT
from tests.demo_support import RunningDemo, running_demo

pytestmark = pytest.mark.xdist_group("browser")

SCREENSHOTS = ROOT / "out" / "screenshots" / "demo-shop"
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningDemo, Path]]:
    folder = tmp_path_factory.mktemp("demo-shop")
    with running_demo(folder) as running:
        yield running, folder


def _shop(demo: tuple[RunningDemo, Path]) -> str:
    return demo[0].urls()["demo shop (cookie banner)"]


class Visitor:
    """A fresh browser profile on the shop page, under its CSP; what the CSP refused is kept."""

    def __init__(self, browser: Any, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.page.on("console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text
                     else None)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.get_by_role("dialog").wait_for()

    def choose(self, name: str) -> None:
        with self.page.expect_response(lambda r: r.url.endswith("/choices")) as answer:
            self.page.get_by_role("button", name=name, exact=True).click()
        assert answer.value.status == 201, answer.value.text()

    def status(self) -> str:
        text: str = self.page.locator("[data-garde-demo-status='cookie.analytics']").inner_text()
        return text


@pytest.fixture
def visitor(browser: Any) -> Iterator[Visitor]:
    visiting = Visitor(browser)
    yield visiting
    assert visiting.refused == []  # nothing the page or the banner does is refused by the CSP
    visiting.context.close()


def test_accepting_runs_the_held_back_tracker_and_lands_in_the_ledger(visitor: Visitor,
                                                                      demo: tuple[RunningDemo, Path]) -> None:
    url = f"sqlite:///{demo[1] / 'garde.db'}"
    before = len(ledger(url))
    visitor.open(_shop(demo))
    assert visitor.status() == "bloqué tant que vous n'y consentez pas"
    assert visitor.page.evaluate("() => window.gardeDemoRan || []") == []
    visitor.choose("Tout accepter")
    visitor.page.wait_for_function("() => (window.gardeDemoRan || []).length === 1")
    assert visitor.status() == "actif : vous y avez consenti"
    events = ledger(url)[before:]
    assert [(e["channel"], e["action"], e["method"]) for e in events] == [
        ("cookie.analytics", "given", "cookie_banner")]


def test_refusing_runs_nothing(visitor: Visitor, demo: tuple[RunningDemo, Path]) -> None:
    url = f"sqlite:///{demo[1] / 'garde.db'}"
    before = len(ledger(url))
    visitor.open(_shop(demo) + "?lang=en")
    visitor.choose("Refuse all")
    visitor.page.reload()
    visitor.page.wait_for_function("() => window.garde && window.garde.choices() !== null")
    assert visitor.page.evaluate("() => window.gardeDemoRan || []") == []
    assert visitor.status() == "blocked until you consent"
    assert [(e["channel"], e["action"]) for e in ledger(url)[before:]] == [("cookie.analytics", "refused")]


THEMED_JS = """() => {
  const root = document.getElementById('garde-banner').shadowRoot;
  const b = getComputedStyle(root.querySelector('.r button')), d = getComputedStyle(root.querySelector('.d'));
  return {button: b.backgroundColor, radius: b.borderTopLeftRadius, font: d.fontFamily,
          bg: d.backgroundColor};
}"""


def test_the_shops_style_sheet_themes_the_banner(visitor: Visitor, demo: tuple[RunningDemo, Path]) -> None:
    """The shop's CSS custom properties (static/shop.css) reach into the banner's shadow root; the
    banner's own defaults (#1d4e89, .35rem, system-ui on white) are overridden."""
    visitor.open(_shop(demo))
    assert visitor.page.evaluate(THEMED_JS) == {"button": "rgb(43, 33, 24)", "radius": "4px",
                                                "font": 'Georgia, "DejaVu Serif", serif',
                                                "bg": "rgb(251, 248, 243)"}


@pytest.mark.parametrize("width", [1280, 375])
def test_the_shop_page_and_its_banner_are_accessible(browser: Any, demo: tuple[RunningDemo, Path],
                                                     width: int) -> None:
    # axe-core is injected as an inline script, which the page's CSP refuses: bypassed for it only.
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(_shop(demo))
        page.get_by_role("dialog").wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"shop-{width}.png")
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        found = [f"{v['id']} ({v['impact']}): {v['help']}" for v in page.evaluate(AXE_JS)["violations"]
                 if v["impact"] in SERIOUS]
        assert found == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    finally:
        context.close()
