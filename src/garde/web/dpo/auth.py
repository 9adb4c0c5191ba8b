"""Who is on a dashboard page: a DPO logged in with a ``dpo`` key, or nobody.

Every page but the login form declares ``dpo: Dpo`` (:func:`logged_in`): without a live
session, a page asked with GET is sent to the login form (303), anything else is refused (401).
Every form that changes something carries the session's CSRF token, checked by
:func:`checked_form` before the route reads a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from garde.api.keys import ApiKey
from garde.api.state import store
from garde.web.forms import read_form
from garde.web.pages import page_language, render
from garde.web.sessions import csrf_matches, csrf_token, session_key

COOKIE = "garde_dpo"
LANGS = ("en", "fr")
LOGIN = "/dpo/login"


class LoginRequired(Exception):
    """No live DPO session for this request."""


class CsrfRefused(Exception):
    """A state-changing form without its session's token."""


@dataclass(frozen=True)
class Dpo:
    key: ApiKey
    session_id: str
    lang: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id)

    @property
    def actor(self) -> str:
        return self.key.actor


def logged_in(request: Request) -> Dpo:
    session_id = request.cookies.get(COOKIE, "")
    key = None
    if session_id:
        with store(request).connect() as conn:
            key = session_key(conn, session_id)
    if key is None:
        raise LoginRequired
    return Dpo(key, session_id, page_language(request, LANGS))


DpoPage = Annotated[Dpo, Depends(logged_in)]


async def checked_form(request: Request, dpo: DpoPage) -> dict[str, str]:
    """The submitted form, once its CSRF token is the session's."""
    form = await read_form(request)
    if not csrf_matches(dpo.session_id, form.get("csrf", "")):
        raise CsrfRefused
    return form


def install(app: object) -> None:
    """The answers to :class:`LoginRequired` and :class:`CsrfRefused` (HTML, never a traceback)."""
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(LOGIN, status_code=303)
        lang = page_language(request, LANGS)
        return render(request, "dpo/refused.html.j2", lang, status=401, langs=LANGS, dpo=None,
                      reason="login")

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        lang = page_language(request, LANGS)
        return render(request, "dpo/refused.html.j2", lang, status=403, langs=LANGS, dpo=None, reason="csrf")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
