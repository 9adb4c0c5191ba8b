"""The privacy center in Debian's Chromium, against a real `garde serve`: a subject signs in with
the code from the mail, submits an access request and withdraws a consent, without JavaScript;
every page at 1280 and 375 px passes axe-core (nothing serious or critical), never scrolls
sideways, and is screenshotted into ``out/screenshots/privacy/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from garde.consent import give
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from tests.api_support import REGISTER, garde_serve
from tests.browser import AXE, AXE_JS, SCREEN_JS
from tests.conftest import ROOT
from tests.web_support import mailed_code_to, mails_to

pytestmark = pytest.mark.xdist_group("browser")

SCREENSHOTS = ROOT / "out" / "screenshots" / "privacy"
SERIOUS = {"serious", "critical"}
SUBJECTS = {375: "ana@example.com", 1280: "bea@example.com"}  # one each: each withdraws their consent


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("privacy")
    url = f"sqlite:///{folder / 'garde.db'}"
    env = {**os.environ, "GARDE_DATABASE_URL": url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_DATASETS": str(ROOT / "datasets"), "GARDE_OUTBOX": str(folder / "outbox"),
           "GARDE_RESULTS": str(folder / "results"), "GARDE_MAILER": "file"}
    engine = connect(url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        for email in SUBJECTS.values():
            give(conn, ensure_subject(conn, {"email": email}), "newsletter", channel="email")
    engine.dispose()
    with garde_serve(env, folder) as base:
        yield {"base": base, "outbox": folder / "outbox"}


def _facts(tab: Any, axe: str, name: str, width: int) -> list[str]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    screen = tab.evaluate(SCREEN_JS)
    tab.add_script_tag(content=axe)
    problems = [f"{name} at {width}px: {v['id']} ({v['impact']}): {v['help']}"
                for v in tab.evaluate(AXE_JS)["violations"] if v["impact"] in SERIOUS]
    if screen["scrollWidth"] > screen["innerWidth"]:
        problems.append(f"{name} at {width}px scrolls sideways")
    return problems + [f"{name} at {width}px: {box} unreachable" for box in screen["unreachable"]]


@pytest.mark.parametrize("width", [375, 1280])
def test_a_subject_signs_in_asks_and_withdraws_without_javascript(center: dict[str, Any], width: int,
                                                                    browser: Any) -> None:
    axe = AXE.read_text(encoding="utf-8")
    problems: list[str] = []
    # No JavaScript for the pages; axe-core is injected as an inline script the CSP refuses: bypassed.
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR",
                                  java_script_enabled=False, bypass_csp=True)
    checker = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR",
                                  bypass_csp=True)
    tab, look = context.new_page(), checker.new_page()

    def check(name: str) -> None:
        look.context.clear_cookies()
        look.context.add_cookies(context.cookies())
        look.goto(tab.url)
        problems.extend(_facts(look, axe, name, width))

    before = len(mails_to(center["outbox"], SUBJECTS[width]))
    tab.goto(center["base"] + "/privacy/")
    check("home")
    tab.fill("#email", SUBJECTS[width])
    tab.click("button[type=submit]")
    tab.wait_for_url("**/privacy/code")
    check("code")
    tab.fill("#code", mailed_code_to(center["outbox"], SUBJECTS[width], before))
    tab.click("main button[type=submit]")
    tab.wait_for_url("**/privacy/me")
    tab.select_option("#type", "access")
    tab.click("text=Envoyer la demande")
    tab.wait_for_url("**/privacy/me?done=request")
    assert "Accéder à mes données" in tab.inner_text("main table")
    tab.click("text=Retirer")
    tab.wait_for_url("**/privacy/me?done=consent")
    assert "retiré" in tab.inner_text("main")
    check("me")
    context.close()
    checker.close()
    assert not problems, "\n".join(problems)


def test_the_notice_is_styled_under_its_csp(center: dict[str, Any], browser: Any) -> None:
    """The published notice keeps its own inline style (allowed by hash) and breaks no CSP rule."""
    context = browser.new_context(viewport={"width": 375, "height": 900})
    try:
        tab = context.new_page()
        refused: list[str] = []
        tab.on("console", lambda message: refused.append(message.text))
        tab.goto(center["base"] + "/privacy/notice?lang=it")
        styled = tab.evaluate("() => [...document.styleSheets].some(sheet => sheet.cssRules.length > 0)")
        tab.screenshot(path=SCREENSHOTS / "notice-it-375.png", full_page=True)
    finally:
        context.close()
    assert styled and not [text for text in refused if "Content Security Policy" in text], refused
