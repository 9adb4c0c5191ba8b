"""Security headers on every web page and static file (everything outside ``/api/``).

- ``Content-Security-Policy``: scripts, styles, fonts and forms from garde itself only, no inline
  script or style; images from garde or ``data:`` (the charts are SVG images drawn on the server);
  ``frame-ancestors 'none'`` (no page of garde inside another site's frame: clickjacking).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a request id in a URL
  never leaves for another site), ``X-Frame-Options: DENY`` for browsers without CSP 2.
- Over https (garde's own TLS, or a proxy of ``GARDE_TRUSTED_PROXIES`` saying so), on every answer
  of every surface, ``Strict-Transport-Security``: a browser that once reached garde over https
  never again sends a session cookie, an API key or a sign-in form over plain http, where anyone on
  the network could read or rewrite it (a link or a typed address without ``https://``).

Every redirect (3xx) of every surface gets ``Cache-Control: no-store``, and an absolute ``Location``
naming the request's own ``Host`` (Starlette's trailing-slash 307 builds one from that header) is
made relative (``/dpo/requests``): a forged ``Host`` never comes back as an address, and no cache
keeps a redirect that one request's headers shaped.

Every answer of the API (``/api/``, ``/opendsr/``) gets ``Cache-Control: no-store`` and
``nosniff`` unless its route set its own: a subject's requests, consents and answer files, and
staff's view of a request, are personal data no proxy or browser cache may keep. The API's
Swagger page (``/api/v1/docs``, :mod:`garde.api.docs`) sets the web headers itself, with a CSP
allowing its own inline script by its digest.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote, urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

API_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

# An answer file is the subject's data: never rendered in garde's origin, never sniffed into
# something else, never kept by a cache (the API's downloads, staff's and the subject's own).
ANSWER_FILE_HEADERS = {**API_HEADERS, "Content-Security-Policy": "sandbox"}


def content_disposition(kind: str, name: str) -> str:
    """A ``Content-Disposition`` naming ``name`` safely: an ASCII-only ``filename`` (a quote or a
    character outside Latin-1, from a register's file name, ended the name early or made the header
    unencodable, a 500) and the whole name as RFC 6266's ``filename*``."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"{kind}; filename=\"{plain}\"; filename*=utf-8''{quote(name, safe='')}"


_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.S)


def document_csp(html: bytes) -> str:
    """The CSP of a whole document garde wrote (the published notice, served as it is): :data:`CSP`,
    with that document's own ``<style>`` blocks allowed by their SHA-256, and nothing else inline."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(style).digest()).decode()}'"
                      for style in _STYLE.findall(html))
    return CSP.replace("style-src 'self'", f"style-src 'self' {hashes}") if hashes else CSP


def is_web(path: str) -> bool:
    return not path.startswith(("/api/", "/opendsr/"))


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())


# A year, garde's host only: the shop's other hosts may still serve plain http.
HSTS = "max-age=31536000"
_WEB, _API = _raw(HEADERS), _raw(API_HEADERS)
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = _raw({"Strict-Transport-Security": HSTS})


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every answer of a web path, :data:`API_HEADERS` to
    every answer of the API (each unless already set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _WEB if is_web(scope.get("path", "")) else _API
        if scope.get("scheme") == "https":
            added += _HSTS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw ASGI headers (names in lower case): a decision's answer pays a set and a list.
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                raw.extend(header for header in added if header[0] not in present)
                if 300 <= message["status"] < 400:
                    raw = redirect_headers(raw, scope)
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, with_headers)


def redirect_headers(raw: list[tuple[bytes, bytes]], scope: Scope) -> list[tuple[bytes, bytes]]:
    """A redirect's headers: ``no-store`` (replacing any other caching word), and its ``Location``
    made relative when it names the request's own ``Host``."""
    host = next((value for name, value in scope.get("headers", ()) if name == b"host"), b"").lower()
    headers = [(name, value) for name, value in raw if name.lower() != b"cache-control"]
    return [(name, _relative(value, host) if name.lower() == b"location" else value)
            for name, value in headers] + [_NO_STORE]


def _relative(location: bytes, host: bytes) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or parts.netloc.lower().encode("latin-1") != host:
        return location
    # one leading slash: "//x" would be read as another host
    path = "/" + parts.path.lstrip("/")
    return urlunsplit(("", "", path, parts.query, parts.fragment)).encode("latin-1")
