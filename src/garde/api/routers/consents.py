"""``/consents``: give, withdraw, and the state of a subject's consents.

The state is asked by ``POST`` with the subject in the body: identities stay out of URLs,
and so out of access logs and proxies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import ACTIVITY, CHANNEL, Strict, SubjectIn
from garde.api.problems import responses
from garde.api.state import service
from garde.consent.ledger import LedgerEvent
from garde.consent.recording import ConsentChoice, consent_state, record_choice

router = APIRouter(prefix="/consents", tags=["consents"], responses=responses(401, 403, 404, 422))
Caller = Annotated[ApiKey, Depends(allow("agent", "service"))]


class GiveIn(Strict):
    activity: str = ACTIVITY
    subject: SubjectIn
    channel: str | None = CHANNEL
    method: str = Field(default="web_form", max_length=64,
                        description="how it was collected: web_form, cookie_banner, in_store, call_centre...")
    notice_version: str | None = Field(default=None, max_length=128,
                                       description="version of the notice shown (default: the current one)")
    notice_lang: Literal["fr", "en", "it"] | None = None
    ip: str | None = Field(default=None, max_length=64, description="the subject's IP (its HMAC kept)")
    user_agent: str | None = Field(default=None, max_length=512)
    at: datetime | None = Field(default=None, description="when it happened (ISO 8601), not in the future")


class WithdrawIn(Strict):
    activity: str = ACTIVITY
    subject: SubjectIn
    channel: str | None = Field(default=None, max_length=64, description="omit for every channel")
    method: str = Field(default="preference_centre", max_length=64)
    unsubscribe: bool = Field(default=False, description="also put the subject on the suppression list")
    at: datetime | None = None


class StateIn(Strict):
    subject: SubjectIn


class ConsentEventOut(BaseModel):
    event_id: str = Field(description="the receipt id")
    subject_id: str
    activity: str
    channel: str | None
    action: str
    at: datetime
    recorded_at: datetime
    method: str
    notice_version: str | None
    ip_hash: str | None
    user_agent: str | None
    expires_at: datetime | None
    actor: str
    source: str | None


class ConsentStateOut(BaseModel):
    activity: str
    channel: str | None
    status: str
    dpv: str
    since: datetime | None
    expires_at: datetime | None
    receipt: str | None


def _event(event: LedgerEvent) -> ConsentEventOut:
    return ConsentEventOut.model_validate(event.to_data())


@router.post("/give", response_model=ConsentEventOut, status_code=201)
def give(body: GiveIn, request: Request, key: Caller) -> ConsentEventOut:
    """Record that a subject gave consent; audited with the key's name as actor."""
    held = service(request)
    return _event(record_choice(held.engine, held.model, ConsentChoice(
        "given", body.activity, body.subject.identities(), body.channel, body.method, body.notice_version,
        body.notice_lang, body.ip, body.user_agent, body.at, actor=key.actor)))


@router.post("/withdraw", response_model=ConsentEventOut, status_code=201)
def withdraw(body: WithdrawIn, request: Request, key: Caller) -> ConsentEventOut:
    """Record a withdrawal, as easy as giving (GDPR Art. 7(3)); audited with the key's name."""
    held = service(request)
    return _event(record_choice(held.engine, held.model, ConsentChoice(
        "withdrawn", body.activity, body.subject.identities(), body.channel, body.method, at=body.at,
        unsubscribe=body.unsubscribe, actor=key.actor)))


@router.post("/state", response_model=list[ConsentStateOut])
def state(body: StateIn, request: Request, key: Caller) -> list[ConsentStateOut]:
    """A subject's consents as they stand now, derived from the ledger."""
    held = service(request)
    return [ConsentStateOut(activity=s.activity, channel=s.channel, status=s.status, dpv=s.dpv, since=s.since,
                            expires_at=s.expires_at, receipt=s.event_id)
            for s in consent_state(held.engine, held.model, body.subject.identities())]
