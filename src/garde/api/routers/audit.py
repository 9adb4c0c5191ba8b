"""``/audit``: is the audit log whole (verify, naming the first bad entry when it is not), and its
entries exported as JSON lines (export), streamed, from a sequence number on. A key revoked while
the export streams cuts it (:mod:`garde.api.streams`): its last line is then
``{"interrupted": "key_revoked", ...}``, with no ``seq``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from garde.api.auth import allow, bearer_token
from garde.api.keys import ApiKey
from garde.api.problems import responses
from garde.api.state import service
from garde.api.streams import close, watched
from garde.audit import export_lines
from garde.audit.verification import verify_store

router = APIRouter(prefix="/audit", tags=["audit"], responses=responses(401, 403))
Caller = Annotated[ApiKey, Depends(allow("auditor"))]


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    first_bad: int | None
    reason: str | None
    warnings: list[str]
    sealed: bool
    checkpoints: int


@router.get("/verify", response_model=VerificationOut)
def verify(request: Request, key: Caller) -> VerificationOut:
    """Recompute the hash chain, its seals and checkpoints, as `garde audit verify` does."""
    held = service(request)
    held.audit.flush()  # the decisions buffered so far are part of what is verified
    result = verify_store(held.engine)
    return VerificationOut(ok=result.ok, checked=result.checked, first_bad=result.first_bad,
                           reason=result.reason, warnings=list(result.warnings), sealed=result.sealed,
                           checkpoints=result.checkpoints)


@router.get("/export", response_class=StreamingResponse, responses={200: {
    "description": "one entry per line (JSON): seq, at, kind, subject_id, actor, payload, prev_hash, hash, "
                   "seal", "content": {"application/x-ndjson": {}}}})
def export(request: Request, key: Caller,
           after: Annotated[int, Query(ge=0, lt=2**62, description="only the entries after this sequence "
                                       "number: the `seq` of the last line of an earlier export")] = 0,
           kind: Annotated[str | None, Query(
               max_length=64, pattern=r"^[a-z0-9_.-]+$",
               description="only entries of this kind (e.g. consent.given)")] = None,
           ) -> StreamingResponse:
    """The audit log's entries as JSON lines, oldest first, streamed (`garde audit export`): with
    their hashes and seals, to verify or archive elsewhere. Resume with `after`."""
    held = service(request)
    held.audit.flush()  # the decisions buffered so far are part of the log
    lines = watched(_pieces(export_lines(held.engine, kind=kind, after=after)), engine=held.engine, key=key,
                    token=bearer_token(request) or "", route="GET /api/v1/audit/export", marker=_cut)
    return StreamingResponse(lines, media_type="application/x-ndjson")


def _pieces(lines: Iterator[str], size: int = 64 * 1024) -> Iterator[str]:
    """``lines`` joined into pieces of about ``size`` characters, whole lines each: one hop to the
    thread pool and one send per piece rather than per line."""
    held: list[str] = []
    length = 0
    try:
        for line in lines:
            held.append(line)
            length += len(line)
            if length >= size:
                yield "".join(held)
                held, length = [], 0
        if held:
            yield "".join(held)
    finally:
        close(lines)


def _cut(reason: str) -> str:
    """The last line of an export cut short: no ``seq``, so no entry; resume with ``after`` = the
    ``seq`` of the line before it."""
    return json.dumps({"interrupted": reason, "complete": False}) + "\n"
