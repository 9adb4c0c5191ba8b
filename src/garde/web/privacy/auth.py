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

from fastapi import Depends, Request

from garde.rights.sessions import SubjectSession, authenticate
from garde.web.cookies import CookieSurface, secure

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


def signed_in(request: Request) -> Subject:
    visit = SURFACE.visit(request)
    return Subject(visit.found, visit.secret, visit.lang)


SubjectPage = Annotated[Subject, Depends(signed_in)]


async def checked_form(request: Request, subject: SubjectPage) -> dict[str, str]:
    """The submitted form, once its CSRF token is the session's."""
    return await SURFACE.checked_form(request, subject.token)
