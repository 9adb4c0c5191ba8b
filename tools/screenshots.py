"""The screenshots of docs/web.md (``docs/img/``), taken in Debian's Chromium against a running demo.

    make demo                                          # one terminal: prints the URLs and a demo DPO key
    .venv/bin/python -m tools.screenshots --key gk_…   # another, from the repository root

The settings are the demo's (run from the same folder): the privacy center is signed in to as the
reference shop's first customer (from the shop's database), with the one-time code read from the
file mailer's outbox, and that customer submits an access request so that "my data" lists one. The
pages are shown in English. Each image is a viewport, not the whole page, so that it stays small
(under ``LIMIT`` bytes; a larger one is reported).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from garde.rights import Deployment, FileMailer
from garde.settings import get_settings
from garde.shop.sample import sample_customers

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "img"
LIMIT = 150_000
PAGE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def first_customer() -> str:
    deployment = Deployment.open()
    try:
        email = sample_customers(deployment.engines["shop"], 1)[0].email
    finally:
        deployment.dispose()
    assert email is not None
    return email


def mailed_code(outbox: Path) -> str:
    body = FileMailer(outbox).messages()[-1].get_body()
    found = re.search(r"\b(\d{6})\b", body.get_content() if body is not None else "")
    if not found:
        sys.exit(f"no one-time code in the last mail of {outbox}")
    return found[1]


def shoot(page: Any, name: str) -> None:
    path = IMAGES / f"{name}.png"
    page.screenshot(path=path)
    size = path.stat().st_size
    warning = " (too large)" if size > LIMIT else ""
    print(f"{path.relative_to(IMAGES.parents[1])}: {size // 1000} kB{warning}")


def privacy_center(browser: Any, base: str, email: str) -> None:
    context = browser.new_context(viewport=PAGE, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/privacy/?lang=en")
    shoot(page, "privacy-home-1280")
    page.fill("#email", email)
    page.click("main button[type=submit]")
    page.wait_for_url("**/privacy/code")
    page.fill("#code", mailed_code(get_settings().outbox))
    page.click("main button[type=submit]")
    page.wait_for_url("**/privacy/me")
    page.select_option("#type", "access")
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_url("**/privacy/me*")
    page.goto(f"{base}/privacy/me")
    shoot(page, "privacy-me-1280")
    context.close()


def dashboard(browser: Any, base: str, key: str) -> None:
    context = browser.new_context(viewport=PAGE, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/dpo/login?lang=en")
    page.fill("#key", key)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dpo/")
    shoot(page, "dpo-home-1280")
    page.goto(f"{base}/dpo/requests?closed=true")
    shoot(page, "dpo-requests-1280")
    context.close()


def banner(browser: Any, base: str) -> None:
    for viewport in (PAGE, PHONE):
        context = browser.new_context(viewport=viewport, locale="en-GB")  # a new visitor: asked
        page = context.new_page()
        page.goto(f"{base}/demo-shop/?lang=en")
        page.get_by_role("dialog").wait_for()
        shoot(page, f"banner-first-{viewport['width']}")
        page.get_by_role("button", name="Customise", exact=True).click()
        page.get_by_role("checkbox").first.wait_for()
        shoot(page, f"banner-customise-{viewport['width']}")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="where the demo serves")
    parser.add_argument("--key", required=True, help="the demo DPO key `make demo` printed")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("GARDE_TEST_CHROMIUM", "/usr/bin/chromium"))
        privacy_center(browser, args.base, first_customer())
        dashboard(browser, args.base, args.key)
        banner(browser, args.base)
        browser.close()


if __name__ == "__main__":
    main()
