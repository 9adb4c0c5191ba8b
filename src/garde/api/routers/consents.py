"""``/consents``: give, withdraw, the state and history of a subject's consents, receipts, GPC.

The state and the history are asked by ``POST`` with the subject in the body: identities stay
out of URLs, and so out of access logs and proxies. A receipt is asked by its event id, which
names no one by itself; but the receipt names its subject (by garde's subject id), so only the
roles that serve subjects (``agent``, ``dpo``) read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import ACTIVITY, CHANNEL, Mirror, Moment, Strict, SubjectIn, mirror
from garde.api.pagination import Cursor, Limit, Page, decode_cursor, page
from garde.api.problems import responses
from garde.api.ratelimits import key_budget
from garde.api.state import service
from garde.consent.ledger import LedgerEvent, public_fields
from garde.consent.recording import (
    ConsentChoice,
    consent_history,
    consent_receipt,
    consent_state,
    record_gpc_signal,
)
from garde.consent.state import ConsentState
from garde.consent.unchecked import Recorded, record_call, unchecked_kinds
from garde.rights.mailer import after_answer, configured_mailer

router = APIRouter(prefix="/consents", tags=["consents"], responses=responses(401, 403, 404, 422))
Caller = Annotated[ApiKey, Depends(allow("agent", "service"))]
Agent = Annotated[ApiKey, Depends(allow("agent"))]  # a receipt names its subject: those who serve them
Shop = Annotated[ApiKey, Depends(allow("service"))]  # a browser's signal reaches the shop's systems


IdentityKind = Literal["email", "phone", "customer_id"]
CHECKED = Field(default=None, description=(
    "per identity of `subject`, whether the shop checked it (`true`: a signed-in account's verified "
    "address) or a visitor typed it (`false`: it may be someone else's). An unchecked one is never linked "
    "to the others; a consent for it waits for its holder's confirmation in the privacy center. An "
    "identity not named here follows the `consent_unchecked_identities` setting (`confirm`: unchecked; "
    "`link` or unset: checked); a customer id is checked"), examples=[{"email": True, "phone": False}])


class GiveIn(Strict):
    activity: str = ACTIVITY
    subject: SubjectIn
    checked: dict[IdentityKind, bool] | None = CHECKED
    channel: str | None = CHANNEL
    method: str = Field(default="web_form", max_length=64,
                        description="how it was collected: web_form, cookie_banner, in_store, call_centre...")
    notice_version: str | None = Field(default=None, max_length=128,
                                       description="version of the notice shown (default: the current one)")
    notice_lang: Literal["fr", "en", "it"] | None = None
    ip: str | None = Field(default=None, max_length=64, description="the subject's IP (its HMAC kept)")
    user_agent: str | None = Field(default=None, max_length=512)
    at: Moment = Field(default=None, description="when it happened (ISO 8601), not in the future")


class WithdrawIn(Strict):
    activity: str = ACTIVITY
    subject: SubjectIn
    checked: dict[IdentityKind, bool] | None = CHECKED
    channel: str | None = Field(default=None, max_length=64, description="omit for every channel")
    method: str = Field(default="preference_centre", max_length=64)
    unsubscribe: bool = Field(default=False, description="also put the subject on the suppression list")
    at: Moment = None


class StateIn(Strict):
    subject: SubjectIn


AS_RECEIPT = {"event_id": "receipt"}  # a consent's state names its deciding event as its receipt
STATE_SHOWN = ("activity", "channel", "status", "dpv", "since", "expires_at", "event_id")
# The ledger event as the API answers it: the fields of LedgerEvent that an event shows
# (public_fields, as to_data gives them).
ConsentEventOut = mirror("ConsentEventOut", LedgerEvent, [f.name for f in public_fields()], module=__name__,
                         described={"event_id": "the receipt id (`GET /consents/receipts/{event_id}`)",
                                    "ip_hash": "HMAC of the subject's IP address, never the address"})
# Where a consent stands (ConsentState), its deciding event's id as the receipt's.
ConsentStateOut = mirror("ConsentStateOut", ConsentState, STATE_SHOWN, module=__name__, renamed=AS_RECEIPT,
                         described={"dpv": "the state in the W3C DPV's words"})


def _event(event: LedgerEvent) -> dict[str, Any]:
    return event.to_data()


PENDING: Any = Field(default=[], description=(
    "the identities (kinds) whose holder is asked to confirm: a consent is recorded for them once they "
    "give it in the privacy center"))
UNCONFIRMABLE: Any = Field(default=[], description="unchecked identities nothing here can ask (a telephone "
                                              "number without an SMS gateway): nothing is recorded for them")


class GivenOut(ConsentEventOut):  # type: ignore[valid-type,misc]
    """The consent recorded on the subject of the checked identities, and what waits for confirmation."""

    pending: list[str] = PENDING
    unconfirmable: list[str] = UNCONFIRMABLE


class PendingOut(BaseModel):
    """No identity of the call was checked: nothing is recorded until a holder confirms."""

    pending: list[str] = PENDING
    unconfirmable: list[str] = UNCONFIRMABLE


def _recorded(request: Request, key: ApiKey, choice: ConsentChoice, checked: dict[IdentityKind, bool] | None,
              background: BackgroundTasks) -> Recorded:
    held = service(request)
    unchecked = unchecked_kinds(choice.identities, checked, held.settings.consent_unchecked_identities)
    recorded = record_call(held.engine, held.model, choice, unchecked, configured_mailer(held.settings),
                           key_budget(request, key, "consent.confirm.key"))  # invitations: the key's mail
    # after the answer: it takes as long whoever the identity is
    background.add_task(after_answer(recorded.deliver, "an invitation to confirm"))
    return recorded


@router.post("/give", response_model=GivenOut, status_code=201,
             responses={202: {"model": PendingOut, "description": "none checked: confirmations asked"}})
def give(body: GiveIn, request: Request, key: Caller, background: BackgroundTasks) -> Any:
    """Record that a subject gave consent; audited with the key's name as actor. Identities the shop did
    not check are asked to confirm (`checked`): 202 when none was checked."""
    recorded = _recorded(request, key, ConsentChoice(
        "given", body.activity, body.subject.identities(), body.channel, body.method, body.notice_version,
        body.notice_lang, body.ip, body.user_agent, body.at, actor=key.actor), body.checked, background)
    waiting = {"pending": list(recorded.pending), "unconfirmable": list(recorded.unconfirmable)}
    if recorded.event is None:
        return JSONResponse(PendingOut(**waiting).model_dump(), status_code=202)
    return {**_event(recorded.event), **waiting}


@router.post("/withdraw", response_model=ConsentEventOut, status_code=201)
def withdraw(body: WithdrawIn, request: Request, key: Caller, background: BackgroundTasks) -> dict[str, Any]:
    """Record a withdrawal, as easy as giving (GDPR Art. 7(3)); audited with the key's name. An
    identity the shop did not check (`checked`) is withdrawn on its own subject, linked to no other."""
    recorded = _recorded(request, key, ConsentChoice(
        "withdrawn", body.activity, body.subject.identities(), body.channel, body.method, at=body.at,
        unsubscribe=body.unsubscribe, actor=key.actor), body.checked, background)
    assert recorded.event is not None  # a withdrawal always lands on a subject
    return _event(recorded.event)


@router.post("/state", response_model=list[ConsentStateOut])  # type: ignore[valid-type]
def state(body: StateIn, request: Request, key: Caller) -> list[Mirror]:
    """A subject's consents as they stand now, derived from the ledger."""
    held = service(request)
    return [ConsentStateOut.of(s) for s in consent_state(held.engine, held.model, body.subject.identities())]


class HistoryIn(Strict):
    subject: SubjectIn
    activity: str | None = Field(default=None, max_length=128, description="only this activity")


class HistoryOut(Page[ConsentEventOut]):  # type: ignore[valid-type]
    """A page of a subject's consent events, in the order they happened."""


@router.post("/history", response_model=HistoryOut)
def history(body: HistoryIn, request: Request, key: Caller, limit: Limit = 50,
            cursor: Cursor = None) -> HistoryOut:
    """Every consent event of a subject, oldest first: the proof the controller keeps (Art. 7(1))."""
    after = decode_cursor(cursor, (datetime, int))
    events = consent_history(service(request).engine, body.subject.identities(), body.activity,
                             after=None if after is None else (after[0], after[1]), limit=limit + 1)
    shown, next_cursor = page(events, limit, lambda e: (e.at, e.seq))
    return HistoryOut(items=[_event(e) for e in shown], next_cursor=next_cursor)


@router.get("/receipts/{event_id}", response_model=dict[str, Any])
def receipt(request: Request, key: Agent,
            event_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="the event's receipt id")],
            ) -> dict[str, Any]:
    """The consent receipt of one ledger event (ISO/IEC TS 27560, Kantara CR 1.1 fields)."""
    held = service(request)
    return consent_receipt(held.engine, held.model, event_id)


class GpcIn(Strict):
    subject: SubjectIn
    checked: dict[IdentityKind, bool] | None = Field(default=None, description=(
        "per identity of `subject`, whether the shop checked it, as for a consent: an unchecked one is "
        "linked to no other, and the objection is recorded on its own subject too (a withdrawal's rule); "
        "an identity not named here follows the `consent_unchecked_identities` setting"),
        examples=[{"email": True, "phone": False}])


class GpcOut(BaseModel):
    recorded: bool = Field(description="false: this subject's signal was recorded before")
    scope: str = Field(description="the objection's scope: targeted_advertising")
    activities: list[str] = Field(description="the register's activities it stops (`targeted_advertising: "
                                              "true`): decide() and audiences refuse them from now on")


@router.post("/gpc", response_model=GpcOut)
def gpc(body: GpcIn, request: Request, key: Shop,
        sec_gpc: Annotated[str | None, Header(max_length=8, description="the browser's signal: 1")] = None,
        ) -> GpcOut:
    """Record a visitor's Global Privacy Control signal (`Sec-GPC: 1`, relayed by the shop with the
    visitor's identity) as an objection to sale/sharing and targeted advertising (Art. 21(5)). An
    identity the shop did not check (`checked`) objects on its own subject, linked to no other."""
    held = service(request)
    identities = body.subject.identities()
    unchecked = unchecked_kinds(identities, body.checked, held.settings.consent_unchecked_identities)
    found = record_gpc_signal(held.engine, held.model, identities, {"sec-gpc": sec_gpc or ""},
                              actor=key.actor, unchecked=unchecked)
    return GpcOut(recorded=found.recorded, scope=found.scope, activities=found.activities)
