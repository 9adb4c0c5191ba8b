"""The cookie banner in Debian's Chromium, on a small shop page of another origin.

A real `garde serve` (SQLite) serves the script; a shop page on another loopback port includes it,
with two scripts held back until their category is consented. Each way out of the banner (accept
all, refuse all, customise, the close button, Escape) records the right events in the ledger and
runs exactly the consented scripts; no request goes to any host but the shop and garde; the three
first-layer buttons look the same; axe-core finds nothing serious. Screenshots land in
``out/screenshots/banner/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api_support import free_port, garde_serve
from tests.banner_support import REGISTER_ID, banner_register, ledger
from tests.browser import AXE, AXE_JS
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("browser")  # with tests/test_documents_browser.py: one worker

SCREENSHOTS = ROOT / "out" / "screenshots" / "banner"
SERIOUS = {"serious", "critical"}

SHOP_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Maison Exemple</title>
<script src="{garde}/banner/v1/banner.js" data-garde-register="{register}" defer></script>
<script type="text/plain" data-garde-category="cookie.analytics">
  window.ran = (window.ran || []).concat("analytics");
</script>
<script type="text/plain" data-garde-category="cookie.advertising" src="/ads.js"></script>
</head><body><header><a href="/">Maison Exemple</a></header>
<main><h1>Nouvelle collection</h1><p>Des vêtements faits pour durer.</p>
<button>Ajouter au panier</button></main>
<footer><a href="#" data-garde-open>Cookies</a></footer></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """garde on one loopback port, the shop on another (another origin)."""
    root = tmp_path_factory.mktemp("banner-site")
    (root / "registers").mkdir()
    register = banner_register(root / "registers")
    shop_port = free_port()
    shop = f"http://localhost:{shop_port}"
    url = f"sqlite:///{root / 'garde.db'}"
    env = {**os.environ, "GARDE_DATABASE_URL": url, "GARDE_REGISTERS": str(register),
           "GARDE_ALLOWED_ORIGINS": shop}
    with garde_serve(env, root) as garde:
        pages = root / "shop"
        pages.mkdir()
        page = SHOP_PAGE.format(garde=garde, register=REGISTER_ID)
        (pages / "index.html").write_text(page, encoding="utf-8")
        (pages / "index-en.html").write_text(page.replace('lang="fr"', 'lang="en-GB"'), encoding="utf-8")
        (pages / "ads.js").write_text('window.ran = (window.ran || []).concat("advertising");\n')
        server = http.server.ThreadingHTTPServer(("127.0.0.1", shop_port),
                                                 functools.partial(_Quiet, directory=str(pages)))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"shop": shop, "garde": garde, "url": url}
        finally:
            server.shutdown()
            server.server_close()




class Visit:
    """One visitor (a fresh browser profile) on the shop page, every request logged."""

    def __init__(self, browser: Any, site: dict[str, str], width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 800})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.site = site

    def open(self) -> Any:
        self.page.goto(self.site["shop"] + "/index.html")
        self.dialog().wait_for()
        return self.page

    def dialog(self) -> Any:
        return self.page.get_by_role("dialog")

    def click(self, name: str) -> None:
        """Click the banner's button ``name`` and wait for garde to record the choice."""
        with self.page.expect_response(lambda r: r.url.endswith("/choices")) as answer:
            self.page.get_by_role("button", name=name, exact=True).click()
        assert answer.value.status == 201, answer.value.text()

    def ran(self) -> list[str]:
        ran: list[str] = self.page.evaluate("() => window.ran || []")
        return sorted(ran)

    def wait_ran(self, count: int) -> None:
        self.page.wait_for_function("(n) => (window.ran || []).length >= n", arg=count)

    def hosts(self) -> set[str]:
        return {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in self.requests}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, site: dict[str, str]) -> Iterator[Visit]:
    visitor = Visit(browser, site)
    yield visitor
    assert visitor.hosts() <= {site["shop"], site["garde"]}, visitor.requests  # nothing to a third party
    visitor.close()


def _events_since(site: dict[str, str], before: int) -> list[tuple[str, str]]:
    return [(e["channel"], e["action"]) for e in ledger(site["url"])[before:]]


@pytest.mark.parametrize(("name", "events", "ran"), [
    ("Tout accepter", [("cookie.analytics", "given"), ("cookie.advertising", "given")],
     ["advertising", "analytics"]),
    ("Tout refuser", [("cookie.analytics", "refused"), ("cookie.advertising", "refused")], []),
    ("Fermer (vaut refus)", [("cookie.analytics", "refused"), ("cookie.advertising", "refused")], []),
])
def test_each_first_layer_way_out_records_its_events(visit: Visit, site: dict[str, str], name: str,
                                                     events: list[tuple[str, str]], ran: list[str]) -> None:
    before = len(ledger(site["url"]))
    visit.open()
    visit.click(name)
    assert visit.dialog().count() == 0
    assert _events_since(site, before) == events
    assert {e["method"] for e in ledger(site["url"])[before:]} == {"cookie_banner"}
    visit.wait_ran(len(ran))
    assert visit.ran() == ran
    visit.page.reload()  # remembered: not asked again, the consented scripts run at once
    visit.page.wait_for_function("() => window.garde && window.garde.choices() !== null")
    visit.wait_ran(len(ran))
    assert visit.dialog().count() == 0 and visit.ran() == ran


def test_global_privacy_control_refuses_advertising(visit: Visit, site: dict[str, str]) -> None:
    visit.page.add_init_script("Object.defineProperty(navigator, 'globalPrivacyControl', {value: true})")
    before = len(ledger(site["url"]))
    visit.open()
    visit.click("Tout accepter")
    assert _events_since(site, before) == [("cookie.analytics", "given"), ("cookie.advertising", "refused")]
    visit.wait_ran(1)
    assert visit.ran() == ["analytics"]


def test_escape_closes_and_refuses(visit: Visit, site: dict[str, str]) -> None:
    before = len(ledger(site["url"]))
    visit.open()
    assert visit.page.evaluate("() => document.activeElement.id") == "garde-banner"  # focus moved in
    with visit.page.expect_response(lambda r: r.url.endswith("/choices")):
        visit.page.keyboard.press("Escape")
    assert _events_since(site, before) == [("cookie.analytics", "refused"), ("cookie.advertising", "refused")]


def test_customise_records_each_category_as_chosen(visit: Visit, site: dict[str, str]) -> None:
    before = len(ledger(site["url"]))
    visit.open()
    visit.page.get_by_role("button", name="Personnaliser").click()
    analytics = visit.page.get_by_role("checkbox", name="Cookies de mesure d'audience")
    analytics.wait_for()
    assert not analytics.is_checked()  # nothing is ticked in advance
    visit.page.keyboard.press("Space")  # the first box has the focus: operable by keyboard
    assert analytics.is_checked()
    visit.click("Enregistrer mes choix")
    assert _events_since(site, before) == [("cookie.analytics", "given"), ("cookie.advertising", "refused")]
    visit.wait_ran(1)
    assert visit.ran() == ["analytics"]


def test_a_visitor_reopens_the_banner_and_withdraws(visit: Visit, site: dict[str, str]) -> None:
    visit.open()
    visit.click("Tout accepter")
    before = len(ledger(site["url"]))
    visit.page.get_by_role("link", name="Cookies").click()
    visit.dialog().wait_for()
    with visit.page.expect_navigation():  # a running script cannot be stopped: the page reloads
        visit.click("Tout refuser")
    assert _events_since(site, before) == [("cookie.analytics", "withdrawn"),
                                           ("cookie.advertising", "withdrawn")]
    visit.page.wait_for_function("() => window.garde && window.garde.choices() !== null")
    assert visit.ran() == [] and visit.dialog().count() == 0


BUTTONS_JS = """() => {
  const root = document.getElementById('garde-banner').shadowRoot;
  return [...root.querySelectorAll('.r button')].map(b => {
    const s = getComputedStyle(b), box = b.getBoundingClientRect();
    return {text: b.textContent, width: Math.round(box.width), height: Math.round(box.height),
            style: ['color', 'background-color', 'font-size', 'font-weight', 'border', 'padding']
              .map(p => s.getPropertyValue(p)).join('|')};
  });
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_first_layer_buttons_are_equal_and_the_banner_is_accessible(browser: Any, site: dict[str, str],
                                                                    width: int) -> None:
    """Accept all, refuse all and customise: same size, same style (CNIL 2020); axe-core finds
    nothing serious on either layer; screenshots for a person to look at."""
    visit = Visit(browser, site, width)
    try:
        visit.open()
        buttons = visit.page.evaluate(BUTTONS_JS)
        assert [b["text"] for b in buttons] == ["Tout accepter", "Tout refuser", "Personnaliser"]
        assert len({(b["width"], b["height"], b["style"]) for b in buttons}) == 1, buttons
        assert visit.page.evaluate("() => document.getElementById('garde-banner').shadowRoot"
                                   ".querySelector('[role=dialog]').lang") == "fr"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        found = {}
        for layer in ("first", "customise"):
            if layer == "customise":
                visit.page.get_by_role("button", name="Personnaliser").click()
                visit.page.get_by_role("checkbox").first.wait_for()
            visit.page.screenshot(path=SCREENSHOTS / f"{layer}-{width}.png", full_page=True)
            visit.page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
            found[layer] = [f"{v['id']} ({v['impact']}): {v['help']}"
                            for v in visit.page.evaluate(AXE_JS)["violations"] if v["impact"] in SERIOUS]
        assert found == {"first": [], "customise": []}
        assert visit.page.evaluate("() => document.documentElement.scrollWidth") <= width
    finally:
        visit.close()


def test_the_banner_speaks_the_pages_language(visit: Visit, site: dict[str, str]) -> None:
    visit.page.goto(site["shop"] + "/index-en.html")  # <html lang="en-GB">
    visit.dialog().wait_for()
    assert visit.page.get_by_role("button", name="Refuse all", exact=True).is_visible()
    assert visit.page.get_by_role("button", name="Close (refuses all)", exact=True).is_visible()
