"""``/opendsr``: OpenDSR v2, for other privacy tools sending requests (``garde.rights.opendsr``).

Mounted beside ``/api/v1``, at ``/opendsr``, as the protocol names its routes. Every route needs a
key, of role ``opendsr`` (these routes and nothing else), ``agent`` or ``dpo``: the sending tool
records requests and vouches for the identities it sends, as an agent does; an ``opendsr`` key
follows and cancels only the requests its own tool sent (staff keys, every one). Errors are
problem+json like the rest of the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from garde import rights
from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import Moment, Strict
from garde.api.problems import responses
from garde.api.ratelimits import per_key
from garde.api.state import service
from garde.rights import opendsr
from garde.rights.deployment import phone_region
from garde.store.transactions import retried
from garde.subjects import now

router = APIRouter(prefix="/opendsr", tags=["opendsr"], responses=responses(401, 403, 404, 409, 422))
Caller = Annotated[ApiKey, Depends(allow("agent", "opendsr"))]
# the budget of /api/v1/requests
Submitter = Annotated[ApiKey, Depends(per_key("requests.submit.key", "opendsr"))]


class IdentityIn(Strict):
    identity_type: str = Field(max_length=64, examples=["email"])
    identity_value: str = Field(max_length=320)
    identity_format: str = Field(default="raw", max_length=16, description="only raw is usable")


class OpenDsrIn(Strict):
    regulation: str = Field(max_length=16, examples=["gdpr"])
    subject_request_id: uuid.UUID = Field(description="chosen by the sender; becomes the garde request's id")
    subject_request_type: str = Field(max_length=32, description="access, portability or erasure")
    subject_identities: list[IdentityIn] = Field(min_length=1, max_length=10)
    submitted_time: Moment = Field(default=None, description="when the subject asked: the "
                                            "deadline runs from it")
    status_callback_urls: list[Annotated[str, Field(max_length=2048)]] = Field(
        default=[], max_length=5, description="kept with the request; not called (poll GET instead)")
    api_version: str | None = Field(default=None, max_length=8)
    property_id: str | None = Field(default=None, max_length=128)
    group_id: str | None = Field(default=None, max_length=128)
    extensions: dict[str, Any] | None = Field(default=None, description="accepted, not used")


class SupportedIdentity(BaseModel):
    identity_type: str
    identity_format: str


class DiscoveryOut(BaseModel):
    api_version: str
    supported_identities: list[SupportedIdentity]
    supported_subject_request_types: list[str]
    supported_regulations: list[str]
    processor_certificate: str | None = Field(description="null: garde signs no callback")


class ReceivedOut(BaseModel):
    controller_id: str
    subject_request_id: str
    received_time: datetime
    expected_completion_time: datetime | None


class StatusOut(BaseModel):
    controller_id: str
    subject_request_id: str
    request_status: str = Field(description="pending, in_progress, completed or cancelled")
    expected_completion_time: datetime | None
    api_version: str
    results_url: str | None = Field(description="where staff download the answer files, once completed")
    extensions: dict[str, Any] = Field(description="garde: the request's own status and type")


def _tool(key: ApiKey) -> bool:
    """Whether ``key`` is a privacy tool's (``opendsr``): it reaches the requests it sent, not another
    tool's (red28); staff keys reach every OpenDSR request."""
    return key.role == "opendsr"


def _controller(request: Request) -> str:
    registers = service(request).model.registers
    return registers[0].controller.name if registers else "garde"


def _status(request: Request, found: rights.Request) -> StatusOut:
    files = f"/api/v1/requests/{found.id}/files" if found.status == "completed" else None
    return StatusOut(controller_id=_controller(request), subject_request_id=found.id,
                     request_status=opendsr.status(found),
                     expected_completion_time=opendsr.expected_completion(found),
                     api_version=opendsr.API_VERSION, results_url=files,
                     extensions={"garde": {"status": found.status, "type": found.type}})


@router.get("/discovery", response_model=DiscoveryOut)
def discovery(key: Caller) -> DiscoveryOut:
    """What garde supports: request types, identities (raw only), regulations."""
    return DiscoveryOut.model_validate(opendsr.discovery())


@router.post("/requests", response_model=ReceivedOut, status_code=201, responses=responses(429))
def submit(body: OpenDsrIn, request: Request, key: Submitter) -> ReceivedOut:
    """Record a request from another privacy tool; its identities count as checked by the sending key.
    Sent again with the same id and type, even at the same moment, the request recorded is answered;
    with another type, 409."""
    held = service(request)
    sent = opendsr.OpenDsrRequest(
        body.regulation, str(body.subject_request_id), body.subject_request_type,
        [opendsr.Identity(i.identity_type, i.identity_value, i.identity_format)
         for i in body.subject_identities],
        body.submitted_time, body.status_callback_urls)
    registers = held.model.registers
    language = registers[0].language if registers and registers[0].language in ("fr", "en", "it") else "en"
    received = opendsr.receive_opendsr(held.engine, sent, actor=key.actor, region=phone_region(registers),
                                       language=language, own_only=_tool(key))
    return ReceivedOut(controller_id=_controller(request), subject_request_id=received.id,
                       received_time=received.received_at,
                       expected_completion_time=opendsr.expected_completion(received))


@router.get("/requests/{subject_request_id}", response_model=StatusOut)
def status(subject_request_id: uuid.UUID, request: Request, key: Caller) -> StatusOut:
    """The request's status in OpenDSR's words (and garde's own in ``extensions``)."""
    with service(request).engine.connect() as conn:
        return _status(request, opendsr.opendsr_request(conn, str(subject_request_id),
                                                        sender=key.actor if _tool(key) else None))


@router.delete("/requests/{subject_request_id}", response_model=ReceivedOut)
def cancel(subject_request_id: uuid.UUID, request: Request, key: Caller) -> ReceivedOut:
    """Cancel a pending request (audited); one being run or answered cannot be cancelled: 409."""
    cancelled = retried(service(request).engine, lambda conn: opendsr.cancel_opendsr(
        conn, str(subject_request_id), actor=key.actor, own_only=_tool(key)), what="an OpenDSR cancellation")
    return ReceivedOut(controller_id=_controller(request), subject_request_id=cancelled.id,
                       received_time=now(), expected_completion_time=None)
