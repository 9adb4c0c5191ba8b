"""A web surface's session held in a cookie, and the CSRF token of its forms.

The DPO dashboard and the privacy center each keep a signed-in person's session in a cookie of
their own: :class:`CookieSurface` names it (its cookie, the path it is scoped to, how its value
is looked up in the store) and answers for it, so both behave alike:

- the cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it);
  over plain http (the demo on localhost) it is scoped to the surface's path: the dashboard's
  cookie is never sent to ``/privacy``, nor the privacy center's to ``/dpo``;
- over https every cookie of a surface (its session's, its sign-in form's nonce) is a
  ``__Host-`` one: Secure, ``Path=/``, no ``Domain``, so only garde's own host can set it. A
  sibling subdomain (``shop.example.com``) can set a cookie for the parent domain that the browser
  also sends to garde ("cookie tossing"): under the plain name it would fix the session or the
  sign-in nonce to one its setter knows; over https the plain names are not read at all;
- a page asked without a live session (no cookie, unknown, expired, revoked) is sent to the
  surface's sign-in page when it was a GET, and refused (401) otherwise;
- every form that changes something carries the session's CSRF token (:func:`csrf_token`), checked
  by :meth:`CookieSurface.checked_form` before a route reads a field: without it, 403 and
  nothing changes.

The CSRF token is an HMAC keyed by the session's secret (the cookie's value): tied to the
session, never stored, and unknown to a page of another site, which cannot read the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from garde.api.state import store
from garde.web.forms import read_form
from garde.web.pages import page_language, render

Found = TypeVar("Found")


def csrf_token(secret: str, purpose: str = "forms") -> str:
    """The token every state-changing form of a session carries (a keyed digest of its secret)."""
    return hmac.new(secret.encode(), f"garde-csrf:{purpose}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, token: str, purpose: str = "forms") -> bool:
    """Whether ``token`` is the CSRF token of ``secret``. No secret (a form posted without its cookie,
    as another site's page posts it: SameSite=Strict keeps the cookie home) matches nothing: the token
    of an empty secret is a constant anyone can compute."""
    if not secret:
        return False
    return hmac.compare_digest(csrf_token(secret, purpose).encode(), token.encode("utf-8", "replace"))


class SessionRequired(Exception):
    """No live session of ``surface`` for this request."""

    def __init__(self, surface: CookieSurface[Any]) -> None:
        super().__init__(surface.cookie)
        self.surface = surface


class CsrfRefused(Exception):
    """A state-changing form of ``surface`` without its session's token."""

    def __init__(self, surface: CookieSurface[Any]) -> None:
        super().__init__(surface.cookie)
        self.surface = surface


@dataclass(frozen=True)
class Visit(Generic[Found]):
    """A page asked within a live session: what the cookie's value was found to be (the DPO's key,
    the subject's session), the value itself, and the page's language."""

    found: Found
    secret: str
    lang: str


@dataclass(frozen=True)
class CookieSurface(Generic[Found]):
    """A web surface's session cookie and its answers to a missing session or CSRF token."""

    cookie: str
    path: str
    langs: tuple[str, ...]
    lookup: Callable[[sa.Connection, str], Found | None]  # None: no live session under this value
    sign_in: str  # where a GET without a session is sent
    refused_page: str  # the template of a refusal, given ``reason`` ("csrf" or ``missing``)
    missing: str  # the refusal's reason without a session
    context: str  # the name templates give the surface's visit (None on a refusal)
    csrf_purpose: str = "forms"

    def set_cookie(self, response: Response, request: Request, name: str, value: str, max_age: int, *,
                   path: str | None = None) -> None:
        """Set one of the surface's cookies (its session's, or a sign-in form's): HttpOnly,
        SameSite=Strict; over https ``__Host-`` (Secure, ``Path=/``), else scoped to ``path``
        (default the surface's)."""
        response.set_cookie(cookie_name(request, name), value, max_age=max_age,
                            path=cookie_path(request, path or self.path), httponly=True, samesite="strict",
                            secure=secure(request))

    def drop_cookie(self, response: Response, request: Request, name: str, *,
                    path: str | None = None) -> None:
        """Remove one of the surface's cookies from the browser (as :meth:`set_cookie` set it)."""
        response.delete_cookie(cookie_name(request, name), path=cookie_path(request, path or self.path),
                               httponly=True, samesite="strict", secure=secure(request))

    def end(self, response: Response, request: Request) -> None:
        """Remove the session's cookie from the browser."""
        self.drop_cookie(response, request, self.cookie)

    def visit(self, request: Request) -> Visit[Found]:
        """The live session of this request, or :class:`SessionRequired`."""
        secret = read_cookie(request, self.cookie)
        found = None
        if secret:
            with store(request).connect() as conn:
                found = self.lookup(conn, secret)
        if found is None:
            raise SessionRequired(self)
        return Visit(found, secret, page_language(request, self.langs))

    def csrf(self, secret: str) -> str:
        return csrf_token(secret, self.csrf_purpose)

    async def checked_form(self, request: Request, secret: str) -> dict[str, str]:
        """The submitted form, once its CSRF token is the session's; else :class:`CsrfRefused`."""
        form = await read_form(request)
        if not csrf_matches(secret, form.get("csrf", ""), self.csrf_purpose):
            raise CsrfRefused(self)
        return form

    def refusal(self, request: Request, status: int, reason: str) -> Response:
        return render(request, self.refused_page, page_language(request, self.langs), status=status,
                      langs=self.langs, reason=reason, **{self.context: None})


def secure(request: Request) -> bool:
    """Whether the page was asked over https (its cookies are then Secure)."""
    return request.url.scheme == "https"


HOST_PREFIX = "__Host-"


def cookie_name(request: Request, name: str) -> str:
    """``name`` as garde's cookie carries it for this request: ``__Host-name`` over https."""
    return HOST_PREFIX + name if secure(request) else name


def cookie_path(request: Request, path: str) -> str:
    """The path a cookie is set on: ``/`` over https (``__Host-`` requires it), else ``path``."""
    return "/" if secure(request) else path


def read_cookie(request: Request, name: str) -> str:
    """The value of garde's cookie ``name`` (its ``__Host-`` one over https; never a plain one there)."""
    return request.cookies.get(cookie_name(request, name), "")


async def _session_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SessionRequired)
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(exc.surface.sign_in, status_code=303)
    return exc.surface.refusal(request, 401, exc.surface.missing)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsrfRefused)
    return exc.surface.refusal(request, 403, "csrf")


def install(app: FastAPI) -> None:
    """The answers to :class:`SessionRequired` and :class:`CsrfRefused` of every surface (HTML,
    never a traceback)."""
    app.add_exception_handler(SessionRequired, _session_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
