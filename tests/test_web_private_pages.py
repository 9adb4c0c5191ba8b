"""Every page of the two web surfaces, read from the route table, within live sessions (a DPO logged
in, a subject signed in with an answered request): what can carry personal data is never kept by
a cache (``Cache-Control: no-store``, errors included) and no page sends its URL to another site
(``Referrer-Policy: no-referrer``, under a CSP). Only the published notice (a public document) may
be kept, revalidated; a redirect carries nothing."""

from __future__ import annotations

from pathlib import Path

from garde.api.app import route_table
from tests.test_web_privacy import ANA, _prepare, _sign_in
from tests.web_support import log_in, web_client

PUBLIC = {"/privacy/notice": "no-cache"}


def test_every_page_of_both_surfaces_is_kept_by_no_cache_and_leaks_no_referrer(
        sqlite_url: str, tmp_path: Path) -> None:
    answered = _prepare(sqlite_url, tmp_path)[ANA]
    with web_client(sqlite_url, tmp_path) as (client, keys):
        log_in(client, keys["dpo"])
        _sign_in(client, ANA, tmp_path / "outbox")
        pages = sorted({path for method, path, _ in route_table(client.app)
                        if method == "GET" and path.startswith(("/privacy", "/dpo"))})
        assert {"/privacy/me", "/privacy/me/requests/{request_id}/files/{name}", "/dpo/requests/{request_id}",
                "/dpo/requests/{request_id}/files/{name}"} <= set(pages), pages
        asked = [page.replace("{request_id}", answered).replace("{name}", "access.json")
                 .replace("{register_id}", "0") for page in pages]
        # errors too: another id, a file that is not there, a request id that is none
        asked += ["/privacy/me/requests/00000000-0000-4000-8000-000000000000", "/privacy/me/requests/x",
                  f"/privacy/me/requests/{answered}/files/nothing.json", "/dpo/requests/x",
                  f"/dpo/requests/{answered}/files/nothing.json"]
        seen = set()
        for url in asked:
            for headers in ({}, {"Range": "bytes=0-9"}):
                answer = client.get(url, headers=headers)
                seen.add(answer.status_code)
                if answer.status_code in (303, 307):
                    assert not answer.content, url
                    continue
                wanted = PUBLIC.get(url.split("?")[0], "no-store")
                assert answer.headers.get("cache-control") == wanted, (url, answer.status_code)
                assert answer.headers["referrer-policy"] == "no-referrer", url
                assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], url
                assert answer.headers["x-content-type-options"] == "nosniff", url
        assert {200, 206, 404} <= seen, seen
