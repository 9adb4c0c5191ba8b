"""Each route takes the body it needs, no more: its bytes and, in JSON, its members and items.

Both are checked here, before FastAPI parses the body, and a body over either is a 413 problem.
Bytes bound the memory a request holds; members and list items bound the work of validating it:
a 1.3 MB object of 100,000 unknown members made 100,000 field errors, ≈ 4.5 s of the event loop
during which the server answered no one (red30; behind a key or a subject session, sec31).

:data:`BODIES` lists every route that is not a ``GET``: a new one has no limit until it is listed
(``tests/test_api_bodies.py`` holds the table to the app's routes). A ``GET`` (any method not
listed) takes :data:`NO_BODY`. docs/api.md shows the table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024


@dataclass(frozen=True, slots=True)
class Body:
    """The largest body a route takes: ``size`` bytes, holding at most ``members`` JSON object
    members and list items (all levels counted)."""

    size: int
    members: int


#: A route that reads no body (a client's empty ``{}`` passes).
NO_BODY = Body(1 * KB, 16)
#: A route anyone may call, without a key or a session: a sign-in's body is under 400 bytes, a
#: banner choice of 32 categories under 2 kB.
PUBLIC = Body(4 * KB, 64)
#: A few fields and a reason, an out-of-band check or a scope of 2,000 characters (12 kB when each
#: is written as a ``\u`` escape).
SMALL = Body(16 * KB, 64)
#: A request with its corrections: 50 fields of 200 and values of 2,000 characters (≈ 110 kB, 620 kB
#: when each character of the values is a ``\u`` escape).
REQUEST = Body(768 * KB, 256)
#: A decision: a subject and up to 200 categories of 128 characters (≈ 26 kB).
DECISION = Body(64 * KB, 512)
#: Another privacy tool's request: 10 identities of 320 characters, 5 callback URLs of 2,048 (≈ 32 kB
#: with every identity's character a ``\u`` escape).
OPENDSR = Body(64 * KB, 128)
#: A batch of 1,000 subjects of three identities each (≈ 500 kB at their longest), 200 categories.
BATCH = Body(1024 * KB, 5_000)
#: An HTML form of the dashboard or the privacy center: at most 20 fields of 2,000 characters
#: (garde.web.forms), percent-encoded; no JSON read, no members counted.
FORM = Body(64 * KB, 0)

BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/decisions"): DECISION,
    ("POST", "/api/v1/decisions/batch"): BATCH,
    ("POST", "/api/v1/consents/give"): SMALL,
    ("POST", "/api/v1/consents/withdraw"): SMALL,
    ("POST", "/api/v1/consents/state"): SMALL,
    ("POST", "/api/v1/consents/history"): SMALL,
    ("POST", "/api/v1/consents/gpc"): SMALL,
    ("POST", "/api/v1/audiences"): SMALL,
    ("POST", "/api/v1/retention/sweep"): SMALL,
    ("POST", "/api/v1/holds"): SMALL,
    ("POST", "/api/v1/holds/{hold_id}/release"): NO_BODY,
    ("POST", "/api/v1/requests"): REQUEST,
    ("POST", "/api/v1/requests/{request_id}/forward"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/instructed-erasure"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/instructed-restriction"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/restriction-lifted"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/codes"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/verify"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/run"): NO_BODY,
    ("POST", "/api/v1/requests/{request_id}/extend"): SMALL,
    ("POST", "/api/v1/requests/{request_id}/reject"): SMALL,
    ("POST", "/api/v1/me/session"): PUBLIC,
    ("POST", "/api/v1/me/session/confirm"): PUBLIC,
    ("POST", "/api/v1/me/logout"): NO_BODY,
    ("POST", "/api/v1/me/requests"): REQUEST,
    ("POST", "/api/v1/me/requests/{request_id}/confirm"): SMALL,
    ("POST", "/opendsr/requests"): OPENDSR,
    ("DELETE", "/opendsr/requests/{subject_request_id}"): NO_BODY,
    ("POST", "/banner/v1/{register_id}/choices"): PUBLIC,
    ("POST", "/dpo/login"): FORM,
    ("POST", "/dpo/logout"): FORM,
    ("POST", "/dpo/requests/{request_id}/extend"): FORM,
    ("POST", "/dpo/requests/{request_id}/reject"): FORM,
    ("POST", "/dpo/requests/{request_id}/forward"): FORM,
    ("POST", "/dpo/requests/{request_id}/instructed-erasure"): FORM,
    ("POST", "/dpo/requests/{request_id}/instructed-restriction"): FORM,
    ("POST", "/dpo/requests/{request_id}/restriction-lifted"): FORM,
    ("POST", "/dpo/requests/{request_id}/run"): FORM,
    ("POST", "/privacy/"): FORM,
    ("POST", "/privacy/code"): FORM,
    ("POST", "/privacy/me/requests"): FORM,
    ("POST", "/privacy/me/consents"): FORM,
    ("POST", "/privacy/me/object"): FORM,
    ("POST", "/privacy/me/logout"): FORM,
    ("POST", "/privacy/me/requests/{request_id}/confirm"): FORM,
}
#: The largest body any route takes (docs/deploy.md: a proxy in front may refuse above it).
MAX_BODY = max(body.size for body in BODIES.values())
#: A refused body's errors: a problem lists at most this many (and says how many there were).
LISTED_ERRORS = 100


class Limits:
    """:data:`BODIES` looked up by a request's method and path: paths without a parameter in a
    dict, the others by their pattern (a route's own, as Starlette matches it)."""

    def __init__(self, bodies: dict[tuple[str, str], Body]) -> None:
        self.exact: dict[tuple[str, str], Body] = {}
        self.patterns: dict[str, list[tuple[re.Pattern[str], Body]]] = {}
        for (method, path), body in bodies.items():
            if "{" in path:
                self.patterns.setdefault(method, []).append((compile_path(path)[0], body))
            else:
                self.exact[(method, path)] = body
                if path.endswith("/") and len(path) > 1:  # Starlette redirects the bare path there
                    self.exact[(method, path.rstrip("/"))] = body

    def of(self, method: str, path: str) -> Body:
        found = self.exact.get((method, path))
        if found is not None:
            return found
        for pattern, body in self.patterns.get(method, ()):  # a GET: none
            if pattern.match(path):
                return body
        return NO_BODY


LIMITS = Limits(BODIES)


def json_members(body: bytes, bound: int) -> int:
    """How many object members and list items the JSON ``body`` holds, all levels counted; at most
    ``bound`` + 1 (counting stops past it). 0 if it is not JSON (its route's parser says so).

    Each member has its ``:`` and each item but the first of its list a ``,``: when those bytes
    and the ``[`` are no more than ``bound`` (strings' own count too), so are the members: the
    body is not parsed here, and 0 is returned (within the bound, as the count would be)."""
    if body.count(b":") + body.count(b",") + body.count(b"[") <= bound:
        return 0
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder: FastAPI answers 400
        return 0
    count, pending = 0, [document]
    while pending and count <= bound:
        value = pending.pop()
        if isinstance(value, dict):
            count += len(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            count += len(value)
            pending.extend(value)
    return count


class BodyLimit:
    """ASGI middleware: a body over its route's :class:`Body` is answered with a 413 problem
    (a declared ``Content-Length`` over the size before any byte is read; a streamed body as soon
    as it grows past it; a JSON body holding more members than allowed once received). The body
    is received here, then handed on as one message."""

    def __init__(self, app: ASGIApp, limits: Limits = LIMITS) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope["method"], scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit.size):
                await self._refuse(scope, receive, send, limit, "too_large")
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit.size:
                await self._refuse(scope, receive, send, limit, "too_large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if limit.members and json_members(body, limit.members) > limit.members:
            await self._refuse(scope, receive, send, limit, "too_many")
            return
        await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False},
                                      receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: Body, why: str) -> None:
        from garde.api.problems import problem, worded  # problems renders; this module only counts

        request = Request(scope)
        detail = worded(request, why, limit=limit.size // KB, members=limit.members)
        await problem(request, 413, detail)(scope, receive, send)


def _replay(first: Message, then: Receive | None = None) -> Receive:
    """A ``receive`` giving ``first``, then what ``then`` gives (a disconnect, later)."""
    given = False

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return first
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive
