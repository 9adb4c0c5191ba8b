"""A request body larger than :data:`MAX_BODY` is refused (413) before it is read into memory; on a
route anyone may call without a key or a session, one larger than :data:`PUBLIC_BODY`.

The largest legitimate body, a batch of 1,000 subjects, is about 100 kB; without a bound, one
caller could make a worker hold gigabytes while FastAPI parses them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 2 * 1024 * 1024
#: The body of a route anyone may call, without a key or a session (:data:`PUBLIC_ROUTES`): a sign-in's
#: is under 400 bytes. Bounded before FastAPI parses it: a 1.3 MB object of 100,000 unknown members
#: made 100,000 field errors, ≈ 4.5 s of the event loop per request (red30).
PUBLIC_BODY = 4 * 1024
PUBLIC_ROUTES = frozenset({"/api/v1/me/session", "/api/v1/me/session/confirm"})


class BodyLimit:
    """ASGI middleware: a declared ``Content-Length`` over the limit, or a streamed body that
    grows past it, is answered with a 413 problem. The body (at most the limit) is received
    here, then handed on as one message."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = PUBLIC_BODY if scope.get("path", "").rstrip("/") in PUBLIC_ROUTES else self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await self._refuse(scope, receive, send, limit)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay({"type": "http.request", "body": b"".join(chunks),
                                       "more_body": False}, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from garde.api.problems import problem, worded  # problems renders; this module only counts

        request = Request(scope)
        refusal = problem(request, 413, worded(request, "too_large", limit=limit // 1024))
        await refusal(scope, receive, send)


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
