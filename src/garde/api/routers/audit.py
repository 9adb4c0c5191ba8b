"""``/audit/verify``: is the audit log whole? Names the first bad entry when it is not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.problems import responses
from garde.api.state import service
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
