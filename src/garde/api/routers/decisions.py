"""``POST /decisions``: may this activity use this subject's data? One, or a batch of 1,000."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from garde.api.auth import KeyFirstRoute, Pending, allow, allow_in_hop
from garde.api.keys import ApiKey
from garde.api.models import ACTIVITY, CHANNEL, Strict, SubjectIn
from garde.api.problems import responses
from garde.api.state import service
from garde.consent.recording import check_activity
from garde.decide import DecisionPoint
from garde.decide.model import Decision

router = APIRouter(prefix="/decisions", tags=["decisions"], responses=responses(401, 403, 404, 422),
                   route_class=KeyFirstRoute)
Caller = Annotated[ApiKey, Depends(allow("service"))]
PendingCaller = Annotated[Pending, Depends(allow_in_hop("service"))]
BATCH_LIMIT = 1000


class DecisionIn(Strict):
    activity: str = ACTIVITY
    subject: SubjectIn
    categories: list[Annotated[str, Field(max_length=128)]] | None = Field(
        default=None, max_length=200, description="data categories to use (default: every declared one)")
    channel: str | None = CHANNEL


class BatchIn(Strict):
    activity: str = ACTIVITY
    subjects: list[SubjectIn] = Field(min_length=1, max_length=BATCH_LIMIT)
    categories: list[Annotated[str, Field(max_length=128)]] | None = Field(default=None, max_length=200)
    channel: str | None = CHANNEL


class ReasonOut(BaseModel):
    code: str
    message: str
    blocks: bool
    categories: list[str] = []


class DecisionOut(BaseModel):
    activity: str
    subject_id: str | None
    channel: str | None
    allowed: bool
    categories: list[str]
    reasons: list[ReasonOut]


class BatchOut(BaseModel):
    decisions: list[DecisionOut] = Field(description="one per subject, in the order asked")


def _out(decision: Decision) -> DecisionOut:
    return DecisionOut.model_validate(decision.to_data())


def _json(answer: BaseModel) -> Response:
    """The answer, already validated, as JSON: returned as a Response, FastAPI neither validates it
    again nor hands that to its thread pool (a third hop per decision; docs/performance.md)."""
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("", response_model=DecisionOut)
async def decide(body: DecisionIn, request: Request, caller: PendingCaller) -> Response:
    """Decide one use of one subject's data; audited with the key's name as actor."""
    # one hop to the thread pool per decision: the key check and the decision (docs/performance.md)
    return await run_in_threadpool(_decide, body, request, caller)


def _decide(body: DecisionIn, request: Request, caller: Pending) -> Response:
    key = caller.key()  # read from the store on every request, before anything else is done
    held = service(request)
    check_activity(held.model, body.activity)
    with DecisionPoint(held.model, held.engine, audit=held.audit, actor=key.actor) as point:
        return _json(_out(point.decide(body.activity, body.subject.identities(), body.categories,
                                       body.channel)))


@router.post("/batch", response_model=BatchOut)
def decide_batch(body: BatchIn, request: Request, key: Caller) -> Response:
    """Decide the same use for up to 1,000 subjects; each decision audited."""
    held = service(request)
    check_activity(held.model, body.activity)
    subjects = [subject.identities() for subject in body.subjects]  # every identity checked first
    with DecisionPoint(held.model, held.engine, audit=held.audit, actor=key.actor) as point:
        return _json(BatchOut(decisions=[_out(point.decide(body.activity, ids, body.categories, body.channel))
                                         for ids in subjects]))
