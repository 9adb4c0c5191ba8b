"""What every surface tells a browser about transport and script: over https, every answer (the
privacy center, the dashboard, the banner, the API, its Swagger page, static files, errors) carries
``Strict-Transport-Security``, so a browser never again sends a session cookie, a key or a sign-in
form over plain http; over plain http (the demo on localhost) none does, since browsers ignore it
there. The Swagger page, where staff paste a key, runs only its own scripts under a CSP."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest

from garde.api.app import route_table
from tests.api_support import REGISTER, garde_serve
from tests.test_web_privacy import ANA, _prepare
from tests.web_support import web_client

HSTS = "max-age=31536000"  # a year, garde's host only


def test_over_https_every_surface_pins_https(sqlite_url: str, tmp_path: Path) -> None:
    answered = _prepare(sqlite_url, tmp_path)[ANA]
    with web_client(sqlite_url, tmp_path) as (client, keys):
        gets = sorted({path for method, path, _ in route_table(client.app) if method == "GET"})
        asked = [path.replace("{request_id}", answered).replace("{name}", "access.json")
                 .replace("{register_id}", "reference-shop").replace("{event_id}", "1")
                 .replace("{path:path}", "garde.css") for path in gets]
        asked += ["/api/v1/openapi.json", "/nowhere", "/api/v1/nowhere", "/static/swagger/swagger-ui.css",
                  "/banner/v1/banner.js"]
        assert {"/privacy/", "/dpo/login", "/api/v1/docs", "/api/v1/openapi.json", "/readyz"} <= set(asked)
        for scheme in ("https", "http"):
            client.http.base_url = f"{scheme}://garde.test"
            for url in asked:
                answer = client.get(url, headers={"Authorization": f"Bearer {keys['dpo']}"})
                wanted = HSTS if scheme == "https" else None
                assert answer.headers.get("strict-transport-security") == wanted, (scheme, url)
        decided = client.post("/api/v1/decisions", json={"activity": "newsletter", "subject": {"email": ANA}},
                              headers={"Authorization": f"Bearer {keys['service']}"})
        assert decided.status_code == 200 and decided.headers.get("strict-transport-security") is None
        client.http.base_url = "https://garde.test"
        decided = client.post("/api/v1/decisions", json={"activity": "newsletter", "subject": {"email": ANA}},
                              headers={"Authorization": f"Bearer {keys['service']}"})
        assert decided.status_code == 200, decided.text
        assert decided.headers["strict-transport-security"] == HSTS  # the decisions' direct path too


def test_the_swagger_page_runs_only_its_own_scripts(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, _):
        page = client.get("/api/v1/docs")
        assert page.status_code == 200
        csp = page.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0], csp
        for inline in re.findall(r"<script>(.*?)</script>", page.text, re.S):
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page.text)
        assert scripts == ["/static/swagger/swagger-ui-bundle.js"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_swagger_page_works_in_a_browser_under_its_csp(migrated_url: str, tmp_path: Path,
                                                           browser: Any) -> None:
    env = {**os.environ, "GARDE_DATABASE_URL": migrated_url, "GARDE_REGISTERS": str(REGISTER)}
    with garde_serve(env, tmp_path) as base:
        page = browser.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".opblock-tag", timeout=30_000)  # Swagger UI drew the routes
        assert "decisions" in page.inner_text("body")
        page.close()
        assert refused == []
