"""``POST /decisions``: may this activity use this subject's data? One, or a batch of 1,000."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from garde.api.auth import Pending, allow_in_hop
from garde.api.decision_threads import Seat
from garde.api.key_first import KeyFirstRoute
from garde.api.models import ACTIVITY, CHANNEL, Strict, SubjectIn
from garde.api.problems import responses
from garde.api.state import service
from garde.consent.recording import check_activity
from garde.decide.model import Decision

router = APIRouter(prefix="/decisions", tags=["decisions"], responses=responses(401, 403, 404, 422),
                   route_class=KeyFirstRoute)
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
    # one hop, to a decision thread: its key check and its decision (docs/performance.md)
    return await service(request).decisions.run(_decide, body, caller)


def _decide(seat: Seat, body: DecisionIn, caller: Pending) -> Response:
    key = seat.key(caller)  # read from the store on every request, before anything else is done
    check_activity(seat.point.model, body.activity)
    seat.point.actor = key.actor  # the seat's point serves one request at a time
    decision = seat.point.decide(body.activity, body.subject.identities(), body.categories, body.channel)
    return _json(_out(decision))


@router.post("/batch", response_model=BatchOut)
async def decide_batch(body: BatchIn, request: Request, caller: PendingCaller) -> Response:
    """Decide the same use for up to 1,000 subjects; each decision audited."""
    return await service(request).decisions.run(_decide_batch, body, caller)


def _decide_batch(seat: Seat, body: BatchIn, caller: Pending) -> Response:
    key = seat.key(caller)
    check_activity(seat.point.model, body.activity)
    subjects = [subject.identities() for subject in body.subjects]  # every identity checked first
    seat.point.actor = key.actor
    decisions = seat.point.decide_many([(body.activity, ids, body.categories, body.channel)
                                        for ids in subjects])
    return _json(BatchOut(decisions=[_out(decision) for decision in decisions]))
