"""The privacy center's flows in Debian's Chromium, without JavaScript, against a real `garde serve`
over the reference shop: a customer asks for access, the back office runs the request (a DPO key,
through the API), the customer opens the request's page and downloads their answer in HTML and
JSON; a consent withdrawn, and direct marketing objected to in one click, flip the shop's
decisions (``POST /api/v1/decisions`` with a service key) and land in the consent ledger.
Every page passes axe-core at 375 and 1280 px, never scrolls sideways, and is screenshotted
into ``out/screenshots/privacy/``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from garde.documents import notice_version
from garde.register import load_register
from tests.api_support import REGISTER, Served, served_shop
from tests.browser import AXE
from tests.test_web_privacy_browser import _facts
from tests.web_support import mailed_code_to, mails_to

pytestmark = pytest.mark.xdist_group("browser")
WIDTHS = (375, 1280)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, list[str]]]:
    """`garde serve` over the reference shop on SQLite, and the e-mail addresses of its customers."""
    folder = tmp_path_factory.mktemp("privacy-flows")
    with served_shop(f"sqlite:///{folder / 'garde.db'}", folder, None) as served:
        engine = sa.create_engine(f"sqlite:///{folder / 'shop.db'}")
        with engine.connect() as conn:
            emails = list(conn.execute(sa.text("SELECT email FROM customers WHERE email IS NOT NULL "
                                               "ORDER BY id LIMIT 5")).scalars())
        engine.dispose()
        yield served, emails


class Visit:
    """One subject in the privacy center: a tab without JavaScript, and a checker beside it (with
    axe-core, on the same cookies) that looks at each page at 375 and 1280 px."""

    def __init__(self, browser: Any, served: Served) -> None:
        self.served, self.problems = served, []  # type: list[str]
        self.context = browser.new_context(viewport={"width": 375, "height": 900}, locale="fr-FR",
                                           java_script_enabled=False, accept_downloads=True)
        self.checker = browser.new_context(viewport={"width": 375, "height": 900}, locale="fr-FR",
                                           bypass_csp=True)  # axe-core is injected inline
        self.tab, self.look = self.context.new_page(), self.checker.new_page()
        self.axe = AXE.read_text(encoding="utf-8")

    def check(self, name: str) -> None:
        self.checker.clear_cookies()
        self.checker.add_cookies(self.context.cookies())
        for width in WIDTHS:
            self.look.set_viewport_size({"width": width, "height": 900})
            self.look.goto(self.tab.url)
            self.problems.extend(_facts(self.look, self.axe, name, width))

    def sign_in(self, email: str) -> None:
        before = len(mails_to(self.served.outbox, email))
        self.tab.goto(self.served.url + "/privacy/")
        self.tab.fill("#email", email)
        self.tab.click("main button[type=submit]")
        self.tab.wait_for_url("**/privacy/code")
        self.tab.fill("#code", mailed_code_to(self.served.outbox, email, before))
        self.tab.click("main button[type=submit]")
        self.tab.wait_for_url("**/privacy/me")

    def close(self) -> None:
        self.context.close()
        self.checker.close()


@pytest.fixture
def visit(browser: Any, shop: tuple[Served, list[str]]) -> Iterator[Visit]:
    opened = Visit(browser, shop[0])
    yield opened
    opened.close()
    assert not opened.problems, "\n".join(opened.problems)


def _decide(served: Served, email: str, activity: str = "newsletter", channel: str = "email") -> bool:
    with served.client("service") as client:
        answer = client.post("/decisions", json={"activity": activity, "subject": {"email": email},
                                                 "channel": channel})
    assert answer.status_code == 200, answer.text
    allowed: bool = answer.json()["allowed"]
    return allowed


def _signed_in_and_subscribed(visit: Visit, served: Served, subject: str) -> tuple[Any, Any]:
    """``subject`` signed in, having given the newsletter consent on the page, which the shop's
    decision now allows; the tab and the newsletter's row."""
    visit.sign_in(subject)
    tab = visit.tab
    newsletter = tab.locator("main tr:has(input[name=activity][value=newsletter])")
    newsletter.locator("button", has_text="Donner").click()
    tab.wait_for_url("**/privacy/me?done=consent")
    assert _decide(served, subject)
    return tab, newsletter


def _downloaded(tab: Any, click: Callable[[], None]) -> tuple[str, str]:
    with tab.expect_download() as started:
        click()
    download = started.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_a_customer_asks_for_access_and_downloads_their_answer(visit: Visit,
                                                                shop: tuple[Served, list[str]]) -> None:
    served, emails = shop
    mine, other = emails[0], emails[1]
    visit.sign_in(mine)
    tab = visit.tab
    tab.select_option("#type", "access")
    tab.click("text=Envoyer la demande")
    tab.wait_for_url("**/privacy/me?done=request")
    tab.click("main table a")  # the request, from the list of mine
    tab.wait_for_url("**/privacy/me/requests/*")
    request_id = tab.url.rsplit("/", 1)[1]
    assert "En préparation" in tab.inner_text("main") and "jours restants" in tab.inner_text("main")
    assert tab.locator("main a[href*='/files/']").count() == 0  # nothing to download before the run
    visit.check("request-prepared")

    with served.client("dpo") as back_office:  # as the shop's back office runs it
        ran = served.run(back_office, request_id)
    assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text

    tab.reload()
    assert "Répondue." in tab.inner_text("main")
    visit.check("request-answered")
    html_name, html = _downloaded(tab, lambda: tab.click("text=Mes données, à lire (HTML)"))
    json_name, text = _downloaded(tab, lambda: tab.click("text=Mes données, pour un ordinateur (JSON)"))
    assert (html_name, json_name) == ("access.html", "access.json")
    assert mine in html and other not in html
    assert mine in text and other not in text
    assert json.loads(text)  # the JSON answer reads as JSON


def test_a_withdrawn_consent_flips_the_shops_decision(visit: Visit, shop: tuple[Served, list[str]]) -> None:
    served, emails = shop
    subject = emails[2]
    tab, newsletter = _signed_in_and_subscribed(visit, served, subject)
    newsletter.locator("button", has_text="Retirer").click()
    tab.wait_for_url("**/privacy/me?done=consent")
    assert not _decide(served, subject)
    visit.check("me-withdrawn")


def test_objecting_to_direct_marketing_in_one_click(visit: Visit, shop: tuple[Served, list[str]]) -> None:
    served, emails = shop
    subject = emails[3]
    tab, _ = _signed_in_and_subscribed(visit, served, subject)
    tab.click("form[action='/privacy/me/object'] button")  # the one click
    tab.wait_for_url("**/privacy/me?done=objection")
    assert not _decide(served, subject)
    assert tab.locator("form[action='/privacy/me/object']").count() == 0
    visit.check("me-objected")

    with served.client("agent") as staff:
        history = staff.post("/consents/history", json={"subject": {"email": subject}})
    assert history.status_code == 200, history.text
    last = history.json()["items"][-1]
    assert (last["activity"], last["channel"], last["action"]) == ("newsletter", "email", "withdrawn")
    assert last["method"] == "web_form"
    assert last["notice_version"] == notice_version(load_register(REGISTER), "fr")


def test_no_download_without_a_session(shop: tuple[Served, list[str]]) -> None:
    """A request's page and files without the subject's cookie: the sign-in page, whatever the id."""
    served, _ = shop
    for path in ("/privacy/me/requests/x", "/privacy/me/requests/x/files/access.json"):
        answer = httpx.get(served.url + path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/privacy/")
    with served.client("dpo") as staff:  # a staff key is no subject session either
        assert staff.get(served.url + "/privacy/me/requests/x").status_code == 303
