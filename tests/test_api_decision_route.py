"""The decisions' route class (:mod:`garde.api.key_first`): a well-formed request goes straight to
the route, and gets the answer FastAPI's own path gives; a route with a dependency the direct path
does not know never takes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from garde.api import create_app
from garde.api.app import route_table
from garde.api.auth import Pending, allow_in_hop
from garde.api.key_first import KeyFirstRoute
from garde.api.query import known_query
from tests.api_support import api_client

# Content types FastAPI reads as JSON: the first one only may take the direct path.
DIRECT, FASTAPI = "application/json", "application/json; charset=utf-8"

texts = st.sampled_from(["newsletter", "order-fulfilment", "no-such-activity", "", "Email", "email", "sms",
                         "ana@example.com", "not an address", "+33 6 12 34 56 78", "0612345678", "C-1001",
                         "x" * 129, "y" * 321, "é\u00e9\ud7ff", "\x00"])
values = st.recursive(st.none() | st.booleans() | st.integers(-2, 2**70) | st.floats(allow_nan=False) | texts,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["email", "phone", "customer_id", "other"]), inner,
                                        max_size=3),
                      max_leaves=6)
subjects = st.fixed_dictionaries({}, optional={"email": texts | values, "phone": texts,
                                               "customer_id": texts | values, "extra": texts})
bodies = st.fixed_dictionaries({}, optional={
    "activity": texts | values, "subject": subjects | values,
    "categories": st.lists(texts, max_size=3) | values, "channel": texts | values,
    "subjects": st.lists(subjects, max_size=2), "unknown": values})
identities = st.fixed_dictionaries({}, optional={
    "email": st.sampled_from(["ana@example.com", "s1@example.com"]),
    "phone": st.sampled_from(["+33612345678", "0612345678"])})
asked = st.fixed_dictionaries(
    {"activity": st.sampled_from(["newsletter", "order-fulfilment", "no-such-activity"])},
    optional={"subject": identities, "subjects": st.lists(identities, min_size=1, max_size=3),
              "channel": st.sampled_from(["email", "Email", "sms", None]),
              "categories": st.lists(st.sampled_from(["contact", "identity", "no-such"]), max_size=2)})
# bytes FastAPI and pydantic might read differently: JSON's edges, encodings, repeated keys
edges = st.sampled_from([
    b"", b" ", b"null", b"[]", b"{}", b"{", b'"newsletter"', b"\xef\xbb\xbf{}", b"{} x", b"NaN",
    '{"activity": "newsletter", "subject": {"email": "ana@example.com"}}'.encode("utf-16"),
    b'{"activity": "newsletter", "activity": "nope", "subject": {"email": "ana@example.com"}}',
    b'{"activity": "nope", "activity": "newsletter", "subject": {"email": "ana@example.com"}}',
    b'{"activity": "newsletter", "subject": {"email": "an\xffa@example.com"}}',
    b'{"activity": "newsletter", "subject": {"email": "\\ud800@example.com"}}',
    b'{"activity": "newsletter", "subject": {"email": "ana@example.com"}, "channel": "email"}\n',
    b'{"activity": "newsletter", "subject": {"email": "ana@example.com"}, "categories": Infinity}',
])


def _answer(response: Any) -> tuple[int, str, Any]:
    body = response.content
    kind = response.headers.get("content-type", "")
    return response.status_code, kind, json.loads(body) if "json" in kind and body else body


def test_the_decisions_take_the_direct_path() -> None:
    routes = {path: route for _, path, route in route_table(create_app())
              if path.startswith("/api/v1/decisions")}
    assert {path: getattr(route, "direct", False) for path, route in routes.items()} == {
        "/api/v1/decisions": True, "/api/v1/decisions/batch": True}


class Asked(BaseModel):
    activity: str


Caller = Annotated[Pending, Depends(allow_in_hop("service"))]


async def _extra() -> None:
    return None


def test_a_dependency_the_direct_path_does_not_know_keeps_every_request_on_fastapis_path() -> None:
    """On the route, on its router, or on the app: whatever FastAPI would solve beyond the query
    check and the key, the route has no direct path."""
    def router(**options: Any) -> APIRouter:
        made = APIRouter(route_class=KeyFirstRoute, **options)

        @made.post("/plain")
        async def plain(body: Asked, request: Request, key: Caller) -> Response:
            return Response()

        @made.post("/guarded", dependencies=[Depends(_extra)])
        async def guarded(body: Asked, request: Request, key: Caller) -> Response:
            return Response()

        @made.post("/queried")
        async def queried(body: Asked, request: Request, key: Caller, lang: str = "en") -> Response:
            return Response()

        return made

    def direct(app: FastAPI) -> dict[str, bool]:
        return {path: getattr(route, "direct", False) for _, path, route in route_table(app)}

    app = FastAPI(dependencies=[Depends(known_query)])
    app.include_router(router(), prefix="/a")
    app.include_router(router(dependencies=[Depends(_extra)]), prefix="/b")
    assert direct(app) == {"/a/plain": True, "/a/guarded": False, "/a/queried": False,
                           "/b/plain": False, "/b/guarded": False, "/b/queried": False}
    other = FastAPI(dependencies=[Depends(known_query), Depends(_extra)])
    other.include_router(router(), prefix="/c")
    assert not any(direct(other).values())


@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/decisions/batch"])
def test_the_direct_path_answers_as_fastapi_does(sqlite_url: str, tmp_path: Path, path: str) -> None:
    """Whatever the body and the key, a request answered on the direct path (``Content-Type:
    application/json``) gets the status, type and body that FastAPI's own path gives the same
    request (``application/json; charset=utf-8``, which never takes the direct path)."""
    with api_client(sqlite_url) as (client, keys):
        keys_sent = st.sampled_from([None, keys["service"], keys["dpo"], keys["agent"], "gk_nonsense",
                                     keys["service"][:-1] + ("B" if keys["service"].endswith("A") else "A")])
        schemes = st.sampled_from(["Bearer ", "bearer ", "Bearer  ", "Basic ", ""])

        @settings(max_examples=150, derandomize=True)
        @given(body=(asked | bodies).map(lambda data: json.dumps(data).encode()) | edges, key=keys_sent,
               scheme=schemes)
        def same_answer(body: bytes, key: str | None, scheme: str) -> None:
            headers = {} if key is None else {"Authorization": scheme + key}
            answers = [_answer(client.post(path, content=body, headers={**headers, "Content-Type": kind}))
                       for kind in (DIRECT, FASTAPI)]
            assert answers[0] == answers[1], body
            assert answers[0][0] < 500, answers[0]

        same_answer()
