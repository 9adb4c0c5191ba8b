"""Who is on a privacy center page: a data subject signed in with a one-time code, or nobody.

The browser holds the API's subject session token (:mod:`garde.rights.sessions`, of which the
store keeps only the hash) in the ``garde_privacy`` cookie: HttpOnly, SameSite=Strict,
``Path=/privacy``, Secure over https. Every page under ``/privacy/me`` declares
``subject: SubjectPage``: without a live session a GET is sent to ``/privacy/`` (303), anything
else is refused (401). Every form that changes something carries the CSRF token of the session
(the dashboard's mechanism, :func:`garde.web.sessions.csrf_token` over the token), checked by
:func:`checked_form` before the route reads a field: without it, 403 and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from garde.api.state import store
from garde.rights.sessions import SubjectSession, authenticate
from garde.web.forms import read_form
from garde.web.pages import page_language, render
from garde.web.sessions import csrf_matches, csrf_token

COOKIE = "garde_privacy"
PATH = "/privacy"
HOME = "/privacy/"
LANGS = ("en", "fr", "it")


class SignInRequired(Exception):
    """No live subject session for this request."""


class CsrfRefused(Exception):
    """A state-changing form without its session's token."""


@dataclass(frozen=True)
class Subject:
    session: SubjectSession
    token: str
    lang: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token, "privacy")


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="strict",
                        secure=secure(request))


def signed_in(request: Request) -> Subject:
    token = request.cookies.get(COOKIE, "")
    session = None
    if token:
        with store(request).connect() as conn:
            session = authenticate(conn, token)
    if session is None:
        raise SignInRequired
    return Subject(session, token, page_language(request, LANGS))


SubjectPage = Annotated[Subject, Depends(signed_in)]


async def checked_form(request: Request, subject: SubjectPage) -> dict[str, str]:
    """The submitted form, once its CSRF token is the session's."""
    form = await read_form(request)
    if not csrf_matches(subject.token, form.get("csrf", ""), "privacy"):
        raise CsrfRefused
    return form


def install(app: FastAPI) -> None:
    """The answers to :class:`SignInRequired` and :class:`CsrfRefused` (HTML, never a traceback)."""

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(HOME, status_code=303)
        return render(request, "privacy/refused.html.j2", page_language(request, LANGS), status=401,
                      langs=LANGS, subject=None, reason="session")

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return render(request, "privacy/refused.html.j2", page_language(request, LANGS), status=403,
                      langs=LANGS, subject=None, reason="csrf")

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
