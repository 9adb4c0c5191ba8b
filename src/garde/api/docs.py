"""``/api/v1/docs``: the OpenAPI description as a browsable page (Swagger UI), from garde's own files.

Staff paste a key into the page's "Authorize" dialog, so the page runs no script from elsewhere:
FastAPI's default page loads Swagger UI from a CDN (a floating version, no integrity check), whose
next answer would be handed every key pasted there. Swagger UI is vendored from the npm registry
into the static files (``make vendor-swagger``), and the page asks no online validator. The page
carries the web pages' CSP with its one inline script (FastAPI's start of Swagger UI) allowed by its
SHA-256: a script injected into the page (a hostile description in the OpenAPI document, a
compromised static file aside) runs nowhere, and no other site may frame the page.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from garde.web.headers import CSP, HEADERS

STATIC = "/static/swagger"
router = APIRouter()


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="garde API",
                               swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
                               swagger_css_url=f"{STATIC}/swagger-ui.css", swagger_favicon_url="data:,",
                               swagger_ui_parameters={"validatorUrl": None})
    inline = re.findall(rb"<script>(.*?)</script>", bytes(page.body), re.S)
    hashes = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                     for script in inline)
    page.headers.update({**HEADERS, "Content-Security-Policy": CSP.replace("script-src 'self'",
                                                                          f"script-src 'self'{hashes}")})
    return page
