"""Every route takes the body it needs, no more: its bytes and its JSON members (garde.api.limits).

Red team of 2026-12-07 (red30, high; sec31). Behind a key, or a subject session (anyone can open
one for their own mailbox), a JSON body of 100,000 unknown members (or wrong-typed list items) in
1.3 MB made 100,000 field errors, ≈ 4.5 s of one server process's event loop during which it
answered no one; the API took 2 MB from anyone holding a key (4 kB on the two routes anyone may
call, since red30's fix). Now each route has its limit, in
bytes and in members and list items, checked before FastAPI parses the body (a 413 problem), and a
422 lists at most 100 of its errors. The limits table covers every route that is not a GET, and
the largest legitimate body of each route fits its limit. Through a real `garde serve` (SQLite).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.api import create_app
from garde.api.app import route_table
from garde.api.limits import BODIES, LISTED_ERRORS, json_members
from garde.rights import FileMailer
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from tests.api_support import REGISTER, bearer, garde_serve, new_keys
from tests.conftest import mailed_code

HOSTILE_MEMBERS = 100_000
JSON_TYPE = {"Content-Type": "application/json"}


def test_every_route_that_takes_a_body_has_its_limit() -> None:
    """A new route cannot forget one: every route that is not a GET is in the table (a GET takes
    1 kB), the table names no route that is gone, and the OpenAPI says 413 on every operation."""
    app = create_app()
    routes = {(method, path) for method, path, _ in route_table(app) if method not in ("GET", "HEAD")}
    assert routes == set(BODIES), (sorted(routes - set(BODIES)), sorted(set(BODIES) - routes))
    spec = app.openapi()
    operations = [(method, path, operation) for path, operations in spec["paths"].items()
                  for method, operation in operations.items()]
    undocumented = [(m, p) for m, p, operation in operations if "413" not in operation["responses"]]
    assert operations and undocumented == []
    assert {(m.upper(), p) for m, p, op in operations if "requestBody" in op} <= set(BODIES)


def _escaped(length: int) -> str:
    return "é" * length  # json.dumps writes each as \u00e9: six bytes a character


LARGEST: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/decisions/batch"): {
        "activity": "a" * 128, "channel": "c" * 64, "categories": ["k" * 128] * 200,
        "subjects": [{"email": f"{i}" + "e" * 300 + "@example.org", "phone": "+" + "1" * 39,
                      "customer_id": "c" * 128} for i in range(1000)]},
    ("POST", "/api/v1/decisions"): {
        "subject": {"email": _escaped(320), "phone": "1" * 40, "customer_id": _escaped(128)},
        "activity": "a" * 128, "channel": "c" * 64, "categories": ["k" * 128] * 200},
    ("POST", "/api/v1/requests"): {
        "type": "rectification", "language": "fr", "subject": {"email": _escaped(320), "phone": "1" * 40,
                                                               "customer_id": _escaped(128)},
        "corrections": {f"{i:02d}" + "f" * 198: "é" * 2000 for i in range(50)}, "reason": _escaped(2000)},
    ("POST", "/api/v1/me/requests"): {
        "type": "rectification", "language": "fr", "details": {
            "corrections": {f"{i:02d}" + "f" * 198: "é" * 2000 for i in range(50)},
            "reason": _escaped(2000)}},
    ("POST", "/api/v1/requests/{request_id}/verify"): {
        "out_of_band": _escaped(2000),
        "checked": ["email", "phone", "customer_id", "new_email", "new_phone", "new_customer_id"]},
    ("POST", "/api/v1/holds"): {"scope": _escaped(200), "reason": _escaped(2000)},
    ("POST", "/opendsr/requests"): {
        "regulation": "gdpr", "subject_request_id": "0" * 36, "subject_request_type": "erasure",
        "subject_identities": [{"identity_type": "email", "identity_value": _escaped(320),
                                "identity_format": "raw"}] * 10,
        "status_callback_urls": ["https://x.example/" + "u" * 2020] * 5, "api_version": "0.1",
        "property_id": _escaped(128), "group_id": _escaped(128)},
    ("POST", "/api/v1/consents/give"): {
        "subject": {"email": _escaped(320), "phone": "1" * 40, "customer_id": _escaped(128)},
        "activity": "a" * 128, "channel": "c" * 64, "method": "m" * 64, "notice_version": _escaped(128),
        "ip": "i" * 64, "user_agent": _escaped(512),
        "checked": {"email": True, "phone": True, "customer_id": True}},
}


@pytest.mark.parametrize("route", sorted(LARGEST))
def test_a_routes_largest_legitimate_body_fits_its_limit(route: tuple[str, str]) -> None:
    """Each field at its longest, every character written as a ``\\u`` escape where text may not be
    ASCII (as Python's json.dumps does): the body is within the route's bytes and members."""
    raw = json.dumps(LARGEST[route]).encode()
    limit = BODIES[route]
    assert len(raw) <= limit.size, (len(raw), limit)
    assert json_members(raw, limit.members) <= limit.members, limit


def _exact(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_exact(v) for v in value.values())
    if isinstance(value, list):
        return len(value) + sum(_exact(v) for v in value)
    return 0


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet=":,[]{}\"\\ ab", max_size=6),
                    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=4), inner,
                                                                                max_size=6), max_leaves=40)


@given(JSON, st.integers(min_value=0, max_value=60))
def test_a_body_is_over_its_members_exactly_when_it_holds_more(value: Any, bound: int) -> None:
    """Strings full of ``:`` ``,`` ``[`` only make the quick count parse the body: never a refusal."""
    counted = json_members(json.dumps(value).encode(), bound)
    assert (counted > bound) == (_exact(value) > bound)
    assert counted <= bound + 1 or _exact(value) > bound


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One `garde serve` on SQLite for the module: a service and a DPO key, Ana's subject session."""
    tmp_path = tmp_path_factory.mktemp("bodies")
    url = f"sqlite:///{tmp_path / 'garde.db'}"
    keys = new_keys(url, {"service": "shop", "dpo": "dpo"})
    engine = connect(url)
    migrate(engine)
    with engine.begin() as conn:
        ensure_subject(conn, {"email": "ana@example.org"})
    engine.dispose()
    env = {**os.environ, "GARDE_DATABASE_URL": url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_OUTBOX": str(tmp_path / "outbox"), "GARDE_RESULTS": str(tmp_path / "results")}
    with garde_serve(env, tmp_path) as base, httpx.Client(base_url=base, timeout=120) as http:
        started = http.post("/api/v1/me/session", json={"email": "ana@example.org"})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 30  # the code is mailed after the answer (a background task)
        while not FileMailer(tmp_path / "outbox").messages() and time.monotonic() < deadline:
            time.sleep(0.05)
        confirmed = http.post("/api/v1/me/session/confirm", json={"session": started.json()["session"],
                                                                 "code": mailed_code(tmp_path / "outbox")})
        assert confirmed.status_code == 200, confirmed.text
        yield base, {**keys, "subject": confirmed.json()["token"]}


def _unknown(members: int, **fields: Any) -> bytes:
    return json.dumps({**fields, **{f"k{i}": 1 for i in range(members)}}).encode()


def _filling(route: str, **fields: Any) -> bytes:
    """As many unknown members as the route's bytes take (each ``"k12345": 1, `` is 13 bytes)."""
    body = _unknown(BODIES[("POST", route)].size // 14, **fields)
    assert len(body) <= BODIES[("POST", route)].size
    return body


def test_the_healthz_answers_while_key_holders_worst_bodies_are_answered(
        served: tuple[str, dict[str, str]]) -> None:
    """The worst bodies at once: as many unknown members as the route's bytes take to the batch route
    (a service key: 74,898 members), to a staff request (a DPO key: 56,173), to a subject's own
    request (a session: 56,173), and 100,000 in 1.3 MB to the batch route and to the two routes
    anyone may call (no key: a sign-in, its code). Before: each ≈ 4.5 s of the event loop at
    100,000, `/healthz` waiting behind them (on the public routes, 4.9 s behind three, before
    their 4 kB bound). Then the worst a batch takes, just within its members: 422, its errors
    listed in part."""
    base, keys = served
    batch = "/api/v1/decisions/batch"
    subjects = [{"email": "ana@example.org"}]
    hundred_thousand = _unknown(HOSTILE_MEMBERS, activity="newsletter", email="ana@example.org",
                                subjects=subjects)
    me = "/api/v1/me/requests"
    hostile = [(batch, bearer(keys["service"]), _filling(batch, activity="newsletter", subjects=subjects)),
               ("/api/v1/requests", bearer(keys["dpo"]), _filling("/api/v1/requests", type="access")),
               (me, bearer(keys["subject"]), _filling(me, type="access")),
               (batch + "?", bearer(keys["service"]), hundred_thousand),
               ("/api/v1/me/session", {}, hundred_thousand),
               ("/api/v1/me/session/confirm", {}, hundred_thousand)]
    with httpx.Client(base_url=base, timeout=120) as http:
        answers: dict[str, httpx.Response] = {}

        def attack(route: str, headers: dict[str, str], body: bytes) -> None:
            answers[route] = http.post(route, content=body, headers={**headers, **JSON_TYPE})

        attackers = [threading.Thread(target=attack, args=args) for args in hostile]
        for thread in attackers:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        health = http.get("/healthz")
        waited = time.monotonic() - started
        for thread in attackers:
            thread.join()
        within = BODIES[("POST", "/api/v1/decisions/batch")].members - 10
        worst = http.post(batch, content=_unknown(within, activity="newsletter", subjects=subjects),
                          headers={**bearer(keys["service"]), **JSON_TYPE})
    print(f"/healthz waited {waited:.3f} s behind the six worst bodies")
    assert health.status_code == 200 and waited < 1.5, waited
    for route, answer in answers.items():
        assert answer.status_code == 413, (route, answer.text[:300])
        assert answer.headers["content-type"] == "application/problem+json" and len(answer.content) < 1000
    assert [answers[route].json()["detail"] for route, _, _ in hostile] == [
        "the body holds more than 5000 members and list items",
        "the body holds more than 256 members and list items",
        "the body holds more than 256 members and list items", "the body is larger than 1024 kB",
        "the body is larger than 4 kB", "the body is larger than 4 kB"]
    problem = worst.json()
    assert worst.status_code == 422 and len(problem["errors"]) == LISTED_ERRORS, worst.text[:300]
    assert problem["detail"] == f"{within} fields are invalid; the first {LISTED_ERRORS} are listed"


@pytest.mark.parametrize(("route", "key", "kb"), [
    ("/api/v1/requests/abcdefgh/verify", "dpo", 16),
    ("/api/v1/decisions", "service", 64),
    ("/api/v1/holds/1/release", "dpo", 1),
])
def test_a_body_over_its_routes_bytes_is_refused_before_it_is_read(
        served: tuple[str, dict[str, str]], route: str, key: str, kb: int) -> None:
    base, keys = served
    body = b'{"reason": "' + b"x" * (kb * 1024) + b'"}'
    with httpx.Client(base_url=base, timeout=60) as http:
        answer = http.post(route, content=body, headers={**bearer(keys[key]), **JSON_TYPE})
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == f"the body is larger than {kb} kB"
