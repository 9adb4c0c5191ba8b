"""Who is on a dashboard page: a DPO logged in with a ``dpo`` key, or nobody.

The browser holds a dashboard session's id (:mod:`garde.web.sessions`) in the ``garde_dpo``
cookie, scoped to ``/dpo`` (:class:`garde.web.cookies.CookieSurface`). Every page but the login
form declares ``dpo: DpoPage``: without a live session, a page asked with GET is sent to the login
form (303), anything else is refused (401). Every form that changes something carries the
session's CSRF token, checked by :func:`checked_form` before the route reads a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from garde.api.keys import ApiKey
from garde.web.cookies import CookieSurface
from garde.web.sessions import session_key

LANGS = ("en", "fr", "it")
LOGIN = "/dpo/login"
SURFACE = CookieSurface(cookie="garde_dpo", path="/dpo", langs=LANGS, lookup=session_key, sign_in=LOGIN,
                        refused_page="dpo/refused.html.j2", missing="login", context="dpo")
COOKIE = SURFACE.cookie


@dataclass(frozen=True)
class Dpo:
    key: ApiKey
    session_id: str
    lang: str

    @property
    def csrf(self) -> str:
        return SURFACE.csrf(self.session_id)

    @property
    def actor(self) -> str:
        return self.key.actor


def logged_in(request: Request) -> Dpo:
    visit = SURFACE.visit(request)
    return Dpo(visit.found, visit.secret, visit.lang)


DpoPage = Annotated[Dpo, Depends(logged_in)]


async def checked_form(request: Request, dpo: DpoPage) -> dict[str, str]:
    """The submitted form, once its CSRF token is the session's."""
    return await SURFACE.checked_form(request, dpo.session_id)
