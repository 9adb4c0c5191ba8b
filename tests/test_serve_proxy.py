"""`garde serve` believes forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) only from
the proxies ``GARDE_TRUSTED_PROXIES`` names: uvicorn's own default trusts any process on this
machine, which could then pass for another client (rate limits) or for https (Secure cookies)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.api_support import REGISTER, garde_serve

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def _cookie_of_the_sign_in_page(sqlite_url: str, tmp_path: Path, **env: str) -> str:
    settings = {**os.environ, "GARDE_DATABASE_URL": sqlite_url, "GARDE_REGISTERS": str(REGISTER),
                "GARDE_OUTBOX": str(tmp_path / "outbox"), "GARDE_RESULTS": str(tmp_path / "results"), **env}
    settings.pop("FORWARDED_ALLOW_IPS", None)
    with garde_serve(settings, tmp_path) as base:
        page = httpx.get(f"{base}/privacy/", headers=FORWARDED, timeout=30)
    assert page.status_code == 200, page.text
    return page.headers["set-cookie"].lower()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(sqlite_url: str, tmp_path: Path) -> None:
    assert "secure" not in _cookie_of_the_sign_in_page(sqlite_url, tmp_path)


def test_forwarded_headers_from_a_trusted_proxy_are_believed(sqlite_url: str, tmp_path: Path) -> None:
    cookie = _cookie_of_the_sign_in_page(sqlite_url, tmp_path, GARDE_TRUSTED_PROXIES='["127.0.0.1/32"]')
    assert "secure" in cookie
