"""Cross-origin requests (CORS): only from the origins of ``allowed_origins`` (``GARDE_ALLOWED_ORIGINS``).

A shop page that embeds the cookie banner, or the privacy center served from the shop's own site,
calls garde from another origin; a browser lets that page read garde's answer only when garde names
the page's origin in ``Access-Control-Allow-Origin``. garde names exact origins, never ``*``, and
never allows credentials (cookies, HTTP authentication): no route reads a cookie, and an API key is
an ``Authorization`` header a caller sets itself. Empty (the default): no cross-origin access.

A preflight from another origin is refused with a 403 problem carrying no CORS header, so the
browser stops there. A request that needs no preflight is answered as usual, without the header:
the page cannot read it. The banner's write route also refuses such a request itself
(:func:`origin_allowed`), since a browser sends it whatever garde answers.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from garde.settings import Settings

METHODS = ("GET", "POST")
HEADERS = ("Accept", "Accept-Language", "Authorization", "Content-Language", "Content-Type")
MAX_AGE = 600  # seconds a browser may keep a preflight's answer


class StrictCORS(CORSMiddleware):
    """Starlette's middleware with exact origins and no credentials; a refused preflight is a
    problem (``application/problem+json``) rather than a plain-text 400."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        super().__init__(app, allow_origins=list(origins), allow_methods=list(METHODS),
                         allow_headers=list(HEADERS), allow_credentials=False,
                         expose_headers=["Content-Language"], max_age=MAX_AGE)

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code == 200:
            return answer
        from garde.api.problems import problem  # problems renders; this module only decides

        request = Request({"type": "http", "headers": request_headers.raw, "method": "OPTIONS"})
        origin = request_headers.get("origin", "")
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        detail = (f"cross-origin request refused: {refused} "
                  f"not allowed for origin {origin[:200]!r} (GARDE_ALLOWED_ORIGINS)")
        return problem(request, 403, detail, headers={"Vary": "Origin"})


def install(app: FastAPI, settings: Settings) -> None:
    """Answer cross-origin requests from ``settings.allowed_origins`` only."""
    app.add_middleware(StrictCORS, origins=settings.allowed_origins)


def origin_allowed(request: Request, settings: Settings) -> bool:
    """A request a browser sent from a page of another origin carries ``Origin``: it is allowed only
    from ``allowed_origins`` (or garde's own origin). A request with no ``Origin`` (a server, curl)
    is not a page's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    return origin.lower() == own or origin in settings.allowed_origins
