"""A request body larger than :data:`MAX_BODY` is refused (413) before it is read into memory.

The largest legitimate body, a batch of 1,000 subjects, is about 100 kB; without a bound, one
caller could make a worker hold gigabytes while FastAPI parses them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 2 * 1024 * 1024


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
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(scope, receive, send)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay({"type": "http.request", "body": b"".join(chunks),
                                       "more_body": False}, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from garde.api.problems import problem, worded  # problems renders; this module only counts

        request = Request(scope)
        refusal = problem(request, 413, worded(request, "too_large", limit=self.limit // 1024))
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
