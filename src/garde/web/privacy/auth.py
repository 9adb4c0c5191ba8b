"""Who is on a privacy center page: a data subject signed in with a one-time code, or nobody.

The browser holds the API's subject session token (:mod:`garde.rights.sessions`, of which the
store keeps only the hash) in the ``garde_privacy`` cookie, scoped to ``/privacy``
(:class:`garde.web.cookies.CookieSurface`). Every page under ``/privacy/me`` declares
``subject: SubjectPage``: without a live session a GET is sent to ``/privacy/`` (303), anything
else is refused (401). Every form that changes something carries the CSRF token of the session,
checked by :func:`checked_form` before the route reads a field: without it, 403 and nothing
changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response

from garde.api.state import store
from garde.rights.sessions import SubjectSession, authenticate, end_session
from garde.web.cookies import CookieSurface, secure
from garde.web.pages import render

HOME = "/privacy/"
LANGS = ("en", "fr", "it")
SURFACE = CookieSurface(cookie="garde_privacy", path="/privacy", langs=LANGS, lookup=authenticate,
                        sign_in=HOME, refused_page="privacy/refused.html.j2", missing="session",
                        context="subject", csrf_purpose="privacy")
COOKIE, PATH = SURFACE.cookie, SURFACE.path
__all__ = ["COOKIE", "HOME", "LANGS", "PATH", "SURFACE", "Subject", "SubjectPage", "checked_form", "secure",
           "signed_in"]


@dataclass(frozen=True)
class Subject:
    session: SubjectSession
    token: str
    lang: str

    @property
    def csrf(self) -> str:
        return SURFACE.csrf(self.token)


class ContactsMoved(Exception):
    """The session's identity was moved away from its subject while it was open (a rectification run by
    a worker, or here): :func:`moved` answers."""

    def __init__(self, subject: Subject) -> None:
        super().__init__("the session's identity no longer identifies its subject")
        self.subject = subject


def signed_in(request: Request) -> Subject:
    visit = SURFACE.visit(request)
    subject = Subject(visit.found, visit.secret, visit.lang)
    if subject.session.moved:
        raise ContactsMoved(subject)
    return subject


def moved(request: Request, subject: Subject) -> Response:
    """A session opened with an e-mail or phone a rectification moved to a new one: it opens nothing of
    its subject any more (whoever holds a recycled old address next must not). Say why, and end it."""
    end_session(store(request), subject.session)
    response = render(request, "privacy/moved.html.j2", subject.lang, langs=LANGS, subject=subject)
    SURFACE.end(response, request)
    return response


async def _moved(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContactsMoved)
    return moved(request, exc.subject)


SubjectPage = Annotated[Subject, Depends(signed_in)]


def install(app: FastAPI) -> None:
    """The answer to a session whose identity moved (:class:`ContactsMoved`), on every page."""
    app.add_exception_handler(ContactsMoved, _moved)


async def checked_form(request: Request, subject: SubjectPage) -> dict[str, str]:
    """The submitted form, once its CSRF token is the session's."""
    return await SURFACE.checked_form(request, subject.token)
