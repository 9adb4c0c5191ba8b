"""The routes anyone may call without a key or a session take a small body.

Red team of 2026-12-07 (red30, high). ``POST /api/v1/me/session`` and ``/me/session/confirm`` are
public (a session is what they open). Their body was bounded only by the API's 2 MiB: a 1.3 MB object
of 100,000 unknown members made FastAPI and the problem handler build 100,000 field errors, ≈ 4.5 s
of the server's event loop (a 6 MB 422 answer); the route's rate limit lets ten an hour through from
each client address, so some 80 addresses keep a one-worker `garde serve` from answering anyone.
Three such requests at once held `/healthz` 15 s (load 20 on 2 cores). Now those two routes take
at most 4 KiB (as the banner's public choice route): a bigger body is a 413 problem, answered before
it is parsed. The refusal is the middleware's, before any store is reached (SQLite only). Through a
real `garde serve`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx

from garde.api.limits import PUBLIC_BODY
from tests.api_support import REGISTER, garde_serve

MEMBERS = 100_000


def test_a_public_route_refuses_a_huge_body_before_parsing_it(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "GARDE_DATABASE_URL": sqlite_url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_OUTBOX": str(tmp_path / "outbox"), "GARDE_RESULTS": str(tmp_path / "results")}
    hostile = json.dumps({"email": "ana@example.org", **{f"k{i}": 1 for i in range(MEMBERS)}}).encode()
    with garde_serve(env, tmp_path) as base, httpx.Client(base_url=base, timeout=120) as http:
        answers: list[httpx.Response] = []

        def attack(route: str) -> None:
            answers.append(http.post(route, content=hostile, headers={"Content-Type": "application/json"}))

        attackers = [threading.Thread(target=attack, args=(route,)) for route in
                     ("/api/v1/me/session", "/api/v1/me/session/confirm", "/api/v1/me/session")]
        for thread in attackers:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        health = http.get("/healthz")
        waited = time.monotonic() - started
        for thread in attackers:
            thread.join()
        fine = http.post("/api/v1/me/session", json={"email": "ana@example.org"})
    assert health.status_code == 200 and waited < 1.5, waited
    assert [a.status_code for a in answers] == [413] * 3, [a.text[:200] for a in answers]
    assert all(len(a.content) < 1000 and a.headers["content-type"] == "application/problem+json"
               for a in answers)
    assert str(PUBLIC_BODY // 1024) in answers[0].json()["detail"]
    assert fine.status_code == 202, fine.text  # a sign-in's body is far below the bound
