"""Security headers on every web page and static file (everything outside ``/api/``).

- ``Content-Security-Policy``: scripts, styles, fonts and forms from garde itself only, no inline
  script or style; images from garde or ``data:`` (the charts are SVG images drawn on the server);
  ``frame-ancestors 'none'`` (no page of garde inside another site's frame: clickjacking).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a request id in a URL
  never leaves for another site), ``X-Frame-Options: DENY`` for browsers without CSP 2.

The API's own pages (``/api/v1/docs``) keep FastAPI's defaults.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.S)


def document_csp(html: bytes) -> str:
    """The CSP of a whole document garde wrote (the published notice, served as it is): :data:`CSP`,
    with that document's own ``<style>`` blocks allowed by their SHA-256, and nothing else inline."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(style).digest()).decode()}'"
                      for style in _STYLE.findall(html))
    return CSP.replace("style-src 'self'", f"style-src 'self' {hashes}") if hashes else CSP


def is_web(path: str) -> bool:
    return not path.startswith("/api/")


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every answer of a web path (unless already set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
