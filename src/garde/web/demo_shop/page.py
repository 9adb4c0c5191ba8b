"""``GET /demo-shop/``: the reference shop's home page, with the cookie banner and its trackers held back.

The page carries one ``<script type="text/plain" data-garde-category="…">`` per category the banner
asks about (read from the register in force, as the banner reads it), each a stand-in tracker
(``static/tracker.js``) that says on the page that it runs. The shop's own words are the fictional
shop's content, in French, English and Italian, not garde's: they are in ``shop.yaml``, not in the catalogues.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import Response

from garde.api.state import service
from garde.documents.banner import banner_config
from garde.publish import register_files
from garde.register import load_register
from garde.web.pages import page_language, render

PREFIX = "/demo-shop/"
LANGS = ("fr", "en", "it")

SHOP: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("shop.yaml")).read_text(encoding="utf-8"))

router = APIRouter()


def _label(passages: list[dict[str, str]]) -> str:
    return "".join(p["text"] for p in passages)


@router.get(PREFIX, include_in_schema=False)
def shop_page(request: Request) -> Response:
    """The shop's home page in the visitor's language, embedding the banner of the register in force."""
    lang = page_language(request, LANGS)
    settings = service(request).settings
    path = register_files([settings.registers])[0]
    register = load_register(path)
    config = banner_config(register, path.stem, lang, settings.cookie_consent_months)
    categories = [{"id": c["id"], "label": _label(c["label"])} for c in config["categories"] if c["choice"]]
    return render(request, "demo_shop/shop.html.j2", lang, langs=LANGS, shop=SHOP[lang], register=path.stem,
                  categories=categories, controller=register.controller.name, static=f"{PREFIX}static")
