"""``/requests``: data-subject requests handled by staff (a call centre's agents, the DPO).

Each route is ``garde request …``: submit, send a code again, verify (the subject's code, or an
agent's out-of-band check with its reason), show, list, run, extend, reject, and the answer files.
A code's check is answered only once its attempt is committed (``confirm_code``). Identities and
codes travel in bodies only; request ids (random) in paths. A submission answers the same for a
known and an unknown person: nothing is looked up until an identity is proven.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, StringConstraints, model_validator

from garde import rights
from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import Strict, SubjectIn
from garde.api.pagination import Page, Paging
from garde.api.problems import responses
from garde.api.ratelimits import per_key
from garde.api.state import service
from garde.jobs.requests import resume_proven, run_request
from garde.register import Register
from garde.rights import forwarding
from garde.rights.answers import answer_file, answer_files
from garde.rights.deployment import Deployment, phone_region
from garde.rights.instructed_erasure import instruct_erasure
from garde.rights.instructed_restriction import instruct_restriction, lift_restriction
from garde.rights.intake import REQUEST_TYPES, RequestType
from garde.rights.submission import receive
from garde.rights.verification import confirm_code
from garde.store.transactions import retried
from garde.web.headers import ANSWER_FILE_HEADERS

router = APIRouter(prefix="/requests", tags=["requests"], responses=responses(401, 403, 404, 409, 422))
Caller = Annotated[ApiKey, Depends(allow("agent"))]
Dpo = Annotated[ApiKey, Depends(allow())]
# What mails someone or creates a request is also limited per key (garde.api.ratelimits).
Submitter = Annotated[ApiKey, Depends(per_key("requests.submit.key"))]
CodeSender = Annotated[ApiKey, Depends(per_key("requests.send_code.key"))]
RequestId = Annotated[str, Path(min_length=8, max_length=36, description="the request's id (or its first 8+ "
                                                                          "characters)")]
Reason = Annotated[str, Field(min_length=1, max_length=2000, description="as told to the subject")]
Kind = Literal["email", "phone", "customer_id"]
# A rectification's new value (garde.rights.new_identity): proven by its code, or checked by staff.
NewKind = Literal["new_email", "new_phone", "new_customer_id"]
Field_ = Annotated[str, StringConstraints(max_length=200)]
Value = Annotated[str, StringConstraints(max_length=2000)]
ListStatus = Literal["received", "verified", "in_progress", "failed", "completed", "rejected", "cancelled",
                     "locked"]


class SubmitIn(Strict):
    type: RequestType = Field(description=", ".join(REQUEST_TYPES))
    subject: SubjectIn
    language: Literal["fr", "en", "it"] = Field(default="en", description="language of the mails and answer")
    corrections: dict[Field_, Value] | None = Field(
        default=None, max_length=50, description="rectification: {field: new value}, a field being a data "
        "category or database.table.column")
    scope: str | None = Field(default=None, max_length=128, description="objection: direct_marketing "
                              "(default) or an activity id")
    reason: str | None = Field(default=None, max_length=2000, description="the requester's reason, if given")
    send_code: bool = Field(default=True, description="send a code to the e-mail (and the phone, by SMS)")

    def details(self) -> dict[str, Any]:
        found = {"corrections": self.corrections, "scope": self.scope, "reason": self.reason}
        return {key: value for key, value in found.items() if value}


class CodesIn(Strict):
    identity: Literal["email", "phone"] | None = Field(default=None, description="default: each unproven one")


class VerifyIn(Strict):
    """Either the subject's one-time ``code``, or an agent's ``out_of_band`` check and what it ``checked``."""

    code: str | None = Field(default=None, max_length=16, description="the code the subject received")
    identity: Literal["email", "phone", "new_email", "new_phone"] | None = Field(
        default=None, description="which identity's code (needed when two have one waiting); new_email, "
        "new_phone: the new value of a rectification")
    out_of_band: str | None = Field(default=None, min_length=1, max_length=2000,
                                    description="how the agent checked the identities (ID card in store...)")
    checked: list[Kind | NewKind] = Field(default=[], max_length=6, description="with out_of_band: the "
                                          "identities checked (by kind; new_email...: a rectification's new "
                                          "value, checked another way)")

    @model_validator(mode="after")
    def one_way(self) -> VerifyIn:
        if (self.code is None) == (self.out_of_band is None):
            raise ValueError("give either code or out_of_band")
        return self


class ReasonIn(Strict):
    reason: Reason


class StepOut(BaseModel):
    at: datetime
    status: str
    actor: str
    note: str | None


class RequestSummaryOut(BaseModel):
    id: str
    type: str
    status: str
    identities: list[str] = Field(description="the kinds of identity given, never their values")
    language: str
    received_at: datetime
    deadline: date
    extended_deadline: date | None
    due: date
    overdue: bool
    verification: str | None
    locked: bool


class ForwardingOut(BaseModel):
    """What a request found of the data held for one client controller, and what became of it."""

    controller: str = Field(description="the controller, as the register's on_behalf_of names it")
    contact: str | None = Field(default=None, description="its contact, from the register")
    dpo: str | None = Field(default=None, description="its DPO's contact, from the register")
    status: Literal["to_forward", "forwarded", "restricted", "lifted", "erased"]
    found: dict[str, int] = Field(description="rows found per database.table (never a value)")
    noted_at: datetime
    forwarded_at: datetime | None
    forwarded_by: str | None
    note: str | None
    instruction: str | None = Field(description="the controller's instruction to erase or to restrict, "
                                                "as recorded")
    instructed_by: str | None
    erased_at: datetime | None
    erasure: dict[str, Any] | None
    lifted_at: datetime | None = Field(description="when the controller's restriction was lifted on its "
                                                   "instruction (GDPR Art. 18(3))")
    lift_instruction: str | None = Field(description="the controller's instruction to lift it, as recorded")
    lifted_by: str | None


class ForwardIn(Strict):
    controller: str = Field(min_length=1, max_length=256, description="as the request's forwardings name it")
    note: str | None = Field(default=None, max_length=2000, description="how it was passed on (mail, portal)")


class InstructionIn(Strict):
    controller: str = Field(min_length=1, max_length=256)
    instruction: str = Field(min_length=1, max_length=2000, description="the controller's instruction to "
                             "erase, to restrict or to lift its restriction, as received (its reference, "
                             "date)")
    instructed_by: str = Field(min_length=1, max_length=256, description="who gave it, for the controller")


class RequestOut(RequestSummaryOut):
    subject_id: str | None
    details: dict[str, Any]
    extension_reason: str | None
    verified_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    result: dict[str, Any] | None = Field(description="what the run did; answer files by name")
    proofs: dict[str, dict[str, str] | None] = Field(description="how each identity was proven, or null")
    wrong_attempts: int
    locked_at: datetime | None
    steps: list[StepOut]
    forwardings: list[ForwardingOut] | None = Field(
        default=None, description="data held as a processor that the request found, per client "
        "controller (GDPR Art. 28(3)(e)): given by GET /requests/{id}")


class ReceiptOut(BaseModel):
    request: RequestOut
    codes_sent: list[str]
    unproven: list[str] = Field(description="identities given but not proven yet: not used until they are")
    not_sent: str | None = Field(description="why no code could be sent, if so")


class CodesOut(BaseModel):
    request_id: str
    sent: list[str]


class AnswerFileOut(BaseModel):
    name: str
    media_type: str
    size: int


def _out(request: rights.Request) -> RequestOut:
    data = request.to_data()
    if data["result"] and isinstance(data["result"].get("files"), list):  # names, never the server's paths
        data["result"] = {**data["result"], "files": [FilePath(f).name for f in data["result"]["files"]]}
    return RequestOut.model_validate(data)


@router.post("", response_model=ReceiptOut, status_code=201, responses=responses(429))
def submit(body: SubmitIn, request: Request, key: Submitter) -> ReceiptOut:
    """Receive a request; its deadline runs from now. A code goes to the e-mail (and the phone by SMS)
    given, by the configured mailer. The same answer whether the person is known or not."""
    held = service(request)
    mailer = rights.configured_mailer(held.settings) if body.send_code else None
    receipt = receive(held.engine, body.type, body.subject.identities(), mailer, language=body.language,
                      details=body.details(), actor=key.actor, region=phone_region(held.model.registers))
    return ReceiptOut(request=_out(receipt.request), codes_sent=receipt.codes_sent, unproven=receipt.unproven,
                      not_sent=receipt.not_sent)


@router.get("", response_model=Page[RequestSummaryOut])
def list_requests(request: Request, key: Caller, paging: Annotated[Paging, Depends()],
                  status: Annotated[ListStatus | None, Query(description="this status, or `locked`")] = None,
                  overdue: Annotated[bool, Query(description="open requests past their due date")] = False,
                  ) -> Page[RequestSummaryOut]:
    """Requests by date of receipt (oldest first), a page at a time."""
    with service(request).engine.connect() as conn:
        found = rights.list_requests(conn, status=status, overdue=overdue, limit=paging.read,
                                     after=paging.after((datetime, str)))
    items, cursor = paging.page([RequestSummaryOut.model_validate(r.to_data()) for r in found],
                                lambda r: (r.received_at, r.id))
    return Page[RequestSummaryOut](items=items, next_cursor=cursor)


@router.get("/{request_id}", response_model=RequestOut)
def show(request_id: RequestId, request: Request, key: Caller) -> RequestOut:
    """A request, its timestamped steps, its deadline, its result and its forwardings to do."""
    held = service(request)
    with held.engine.connect() as conn:
        found = rights.get_request(conn, request_id)
        forwardings = forwarding.listed(conn, found.id)
    out = _out(found)
    out.forwardings = _forwardings(held.model.registers, forwardings)
    return out


def _forwardings(registers: Iterable[Register], views: list[dict[str, Any]]) -> list[ForwardingOut]:
    return [ForwardingOut.model_validate(view) for view in forwarding.with_contacts(registers, views)]


@router.post("/{request_id}/forward", response_model=ForwardingOut)
def forward(request_id: RequestId, body: ForwardIn, request: Request, key: Dpo) -> ForwardingOut:
    """Record that the request was passed on to a controller the organisation processes its data for
    (GDPR Art. 28(3)(e)); audited, once."""
    held = service(request)
    with held.engine.connect() as conn:
        full = rights.get_request(conn, request_id).id
    done = forwarding.mark_forwarded(held.engine, full, body.controller, actor=key.actor, note=body.note)
    return _forwardings(held.model.registers, [done])[0]


@router.post("/{request_id}/instructed-erasure", response_model=ForwardingOut)
def instructed_erasure(request_id: RequestId, body: InstructionIn, request: Request,
                       key: Dpo) -> ForwardingOut:
    """Erase the rows held for a controller that instructed it (GDPR Art. 28(3)(a), 29), once the
    request is forwarded to it: its columns only; the instruction and who gave it recorded and audited.
    Called again, it changes nothing more."""
    held = service(request)
    with held.engine.connect() as conn:
        full = rights.get_request(conn, request_id).id
    with Deployment.open(settings=held.settings) as deployment:
        done = instruct_erasure(held.engine, deployment, full, body.controller,
                                           instruction=body.instruction, instructed_by=body.instructed_by,
                                           actor=key.actor)
    return _forwardings(held.model.registers, [done])[0]


@router.post("/{request_id}/instructed-restriction", response_model=ForwardingOut)
def instructed_restriction(request_id: RequestId, body: InstructionIn, request: Request,
                           key: Dpo) -> ForwardingOut:
    """Restrict, on the instruction of a controller the organisation processes the subject's data for
    (GDPR Art. 18, 28(3)(a), 29), the activities it carries out for that controller as a processor,
    once the restriction request is forwarded to it; the instruction and who gave it recorded and
    audited. Called again, it changes nothing more."""
    return _on_instruction(instruct_restriction, request_id, body, request, key.actor)


@router.post("/{request_id}/restriction-lifted", response_model=ForwardingOut)
def restriction_lifted(request_id: RequestId, body: InstructionIn, request: Request,
                       key: Dpo) -> ForwardingOut:
    """Lift, on the controller's instruction (GDPR Art. 18(3), 28(3)(a)), the restriction it instructed
    of the request's subject: decide() allows the activities carried out for it as a processor again.
    The instruction and who gave it recorded and audited; called again, it changes nothing more."""
    return _on_instruction(lift_restriction, request_id, body, request, key.actor)


def _on_instruction(act: Callable[..., dict[str, Any]], request_id: str, body: InstructionIn,
                    request: Request, actor: str) -> ForwardingOut:
    """Record a controller's instruction about its restriction (``act``: instruct or lift)."""
    held = service(request)
    with held.engine.connect() as conn:
        full = rights.get_request(conn, request_id).id
    registers = list(held.model.registers)
    done = act(held.engine, registers, full, body.controller, instruction=body.instruction,
               instructed_by=body.instructed_by, actor=actor)
    return _forwardings(registers, [done])[0]


@router.post("/{request_id}/codes", response_model=CodesOut, responses=responses(429))
def send_code(request_id: RequestId, body: CodesIn, request: Request, key: CodeSender) -> CodesOut:
    """Send a new one-time code (it replaces the previous one; wrong attempts still count)."""
    held = service(request)
    mailer = rights.configured_mailer(held.settings)
    def sending(conn: sa.Connection) -> CodesOut:
        # run again, a new code is sent: the one mailed by the aborted attempt was never stored
        if body.identity:
            found = rights.send_code(conn, request_id, mailer, kind=body.identity, actor=key.actor)
            return CodesOut(request_id=found.id, sent=[body.identity])
        sent = rights.send_codes(conn, request_id, mailer, actor=key.actor)
        return CodesOut(request_id=rights.get_request(conn, request_id).id, sent=sent)

    return retried(held.engine, sending, what=f"request {request_id}: codes sent")


@router.post("/{request_id}/verify", response_model=RequestOut)
def verify(request_id: RequestId, body: VerifyIn, request: Request, key: Caller) -> RequestOut:
    """Prove an identity: the subject's code (answered after the attempt is committed; a wrong code is a
    400), or an agent's out-of-band check naming the identities checked and how."""
    held = service(request)
    if body.code is not None:
        verified = confirm_code(held.engine, request_id, body.code, kind=body.identity, actor=key.actor)
    else:
        assert body.out_of_band is not None
        out_of_band = body.out_of_band
        verified = retried(held.engine, lambda conn: rights.verify_out_of_band(
            conn, request_id, out_of_band, actor=key.actor, identities=body.checked),
            what=f"request {request_id}: verified out of band")
    # A rectification that waited for this new value runs, as when the subject types its code.
    if resume_proven(held.engine, verified, actor=key.actor, settings=held.settings,
                     mailer=rights.configured_mailer(held.settings)) is not None:
        with held.engine.connect() as conn:
            verified = rights.get_request(conn, verified.id)
    return _out(verified)


class RunQueuedOut(BaseModel):
    request_id: str
    job_id: int = Field(description="the job's id in the queue")
    status: Literal["queued"] = "queued"


@router.post("/{request_id}/run", response_model=RequestOut, responses={
    202: {"model": RunQueuedOut, "description": "queued for the workers (a PostgreSQL store): poll the "
          "request at Location until its status is completed or failed"}})
def run(request_id: RequestId, request: Request, key: Caller) -> RequestOut | JSONResponse:
    """Execute a verified request over every database of the data map and write its answer files; the
    subject is told by mail. An erasure, rectification or restriction changes their data.

    On a SQLite store it runs now (200, the request as it ends); on PostgreSQL it is queued for the
    workers (202, the job's id, and the request's URL to poll in ``Location``)."""
    held = service(request)
    submission = run_request(held.engine, request_id, actor=key.actor, settings=held.settings,
                             mailer=rights.configured_mailer(held.settings))
    done: rights.Request = submission.result
    if submission.queued:
        assert submission.job_id is not None
        location = f"{request.url.path.rsplit('/', 2)[0]}/{done.id}"  # /api/v1/requests/{id}
        return JSONResponse(RunQueuedOut(request_id=done.id, job_id=submission.job_id).model_dump(),
                            status_code=202, headers={"Location": location})
    return _out(done)


def _told(request: Request, step: Callable[..., rights.Request], request_id: str, reason: str,
          key: ApiKey) -> RequestOut:
    """``step`` (extend or reject) with its reason; the subject is told by the configured mailer."""
    held = service(request)
    mailer = rights.configured_mailer(held.settings)
    done = retried(held.engine, lambda conn: step(conn, request_id, reason, actor=key.actor,
                                                  registers=held.model.registers, mailer=mailer),
                   what=f"request {request_id}: {step.__name__}")
    return _out(done)


@router.post("/{request_id}/extend", response_model=RequestOut)
def extend(request_id: RequestId, body: ReasonIn, request: Request, key: Caller) -> RequestOut:
    """Extend the deadline by two months (GDPR Art. 12(3)), within the first month; the subject is told."""
    return _told(request, rights.extend, request_id, body.reason, key)


@router.post("/{request_id}/reject", response_model=RequestOut)
def reject(request_id: RequestId, body: ReasonIn, request: Request, key: Caller) -> RequestOut:
    """Refuse a request with its reason (GDPR Art. 12(4)); the subject is told, with the complaint route."""
    return _told(request, rights.reject, request_id, body.reason, key)


@router.get("/{request_id}/files", response_model=list[AnswerFileOut])
def files(request_id: RequestId, request: Request, key: Caller) -> list[AnswerFileOut]:
    """The answer files of a completed request."""
    held = service(request)
    with held.engine.connect() as conn:
        found = answer_files(conn, request_id, held.settings.results)
    return [AnswerFileOut(name=f.name, media_type=f.media_type, size=f.size) for f in found]


@router.get("/{request_id}/files/{name}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the file, as an attachment"}})
def download(request_id: RequestId, name: Annotated[str, Path(max_length=255)], request: Request,
             key: Caller) -> FileResponse:
    """One answer file, by a name among the request's own files; its reading is audited."""
    held = service(request)
    found = retried(held.engine, lambda conn: answer_file(conn, request_id, name, held.settings.results,
                                                          actor=key.actor),
                    what=f"request {request_id}: a file read")
    return FileResponse(found.path, media_type=found.media_type, filename=found.name,
                        headers=ANSWER_FILE_HEADERS)
