"""A redirect never names a host the request's ``Host`` header chose, and no cache keeps it (sec27;
before, Starlette's trailing-slash 307 was ``http://<Host>/dpo/requests``, with no ``Cache-Control``):
a real `garde serve` process asked with a hostile ``Host``."""

from __future__ import annotations

import httpx

from tests.test_api_serve import deployment, server  # noqa: F401 (fixtures: a running server)

HOSTILE = "attacker.example"


REDIRECTS = {  # asked -> where the redirect must point
    "/dpo/requests/": "/dpo/requests",
    "/dpo/requests/?status=open&x=1": "/dpo/requests?status=open&x=1",
    "/api/v1/registers/": "/api/v1/registers",
}


def test_a_trailing_slash_redirect_is_relative_and_not_stored(server: str) -> None:  # noqa: F811
    for path, target in REDIRECTS.items():
        for host in (HOSTILE, f"{HOSTILE}:8443", None):
            headers = {"Host": host} if host else {}
            answer = httpx.get(f"{server}{path}", headers=headers, follow_redirects=False, timeout=30)
            assert answer.status_code == 307, (path, host, answer.status_code)
            assert answer.headers["location"] == target, (path, host)
            assert HOSTILE not in answer.text and HOSTILE not in str(answer.headers)
            assert answer.headers["cache-control"] == "no-store"
    # a run of slashes never becomes a scheme-relative address (another host)
    answer = httpx.get(f"{server}//dpo/requests/", headers={"Host": HOSTILE}, follow_redirects=False,
                       timeout=30)
    location = answer.headers.get("location", "")
    assert not location.startswith("//") and HOSTILE not in location
