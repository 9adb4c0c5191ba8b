"""The API's browsable page (``/api/v1/docs``), where staff paste a key into "Authorize", runs no
script from elsewhere: FastAPI's default loads Swagger UI from a CDN (a floating ``@5`` version, no
integrity), which would be handed every key pasted there the day it served something else. The
page's script, style and icon are garde's own static files (``make vendor-swagger``)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api_support import api_client

LINKS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']|['"](https?://[^'"]+)""")


def test_the_docs_page_loads_nothing_from_another_origin(sqlite_url: str, tmp_path: Path) -> None:
    with api_client(sqlite_url) as (client, _):
        page = client.get("/api/v1/docs")
        assert page.status_code == 200 and "swagger" in page.text.lower()
        links = [link for found in LINKS.findall(page.text)
                 if (link := next(part for part in found if part)) != "data:,"]  # no icon
        assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
        assert {"/api/v1/openapi.json", "/static/swagger/swagger-ui-bundle.js",
                "/static/swagger/swagger-ui.css"} <= set(links)
        for link in links:
            assert client.get(link).status_code == 200, link
        assert '"validatorUrl": null' in page.text  # no spec sent to swagger.io's validator either
