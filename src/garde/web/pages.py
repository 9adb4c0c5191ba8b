"""Rendering a web page: the Jinja2 environment (autoescaped), the page's language, its words.

A page's language is the ``lang`` of its URL (the language links), else the one chosen before
(the ``garde_lang`` cookie those links set), else the browser's ``Accept-Language``, among the
languages the surface speaks. Templates call ``gettext`` and ``ngettext`` bound to it; the
words are in garde's gettext catalogues (``make translations``, docs/translations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from garde import i18n
from garde.unseen import isolated

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "garde_lang"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The pages' templates; ``|bdi`` puts a value (a reason, a note, a name) in its own ``<bdi>``, so
    what it holds cannot reorder the words around it (:func:`garde.unseen.isolated`)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["bdi"] = isolated
    return env


def page_language(request: Request, langs: Sequence[str]) -> str:
    """The language of the page (see the module's doc); the first of ``langs`` by default."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked is not None and asked in langs:
            return asked
    return i18n.preferred_language(request.headers.get("accept-language", ""), langs)


def render(request: Request, template: str, lang: str, *, status: int = 200, langs: Sequence[str] = ("en",),
           **context: Any) -> HTMLResponse:
    """``template`` in ``lang`` as an HTML answer; remembers a language asked in the URL."""
    html = environment().get_template(template).render(
        lang=lang, langs=langs, path=request.url.path,
        gettext=lambda message, **values: i18n.translate(lang, message, **values),
        ngettext=lambda singular, plural, num, **values: i18n.translate_plural(lang, singular, plural, num,
                                                                                **values),
        **context)
    response = HTMLResponse(html, status_code=status, headers={"Content-Language": lang,
                                                               "Cache-Control": "no-store"})
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict",
                            secure=request.url.scheme == "https", httponly=True)
    return response
