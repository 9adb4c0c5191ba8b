"""``/me``: a data subject's own session, requests, consents and answer files.

Opening a session (``/me/session``, then ``/me/session/confirm``) needs no key and is
rate-limited per client address; everything else needs the session's token and reaches only
what that session proved (:mod:`garde.rights.self_service`): any other id is a 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from garde.api.auth import public
from garde.api.models import Strict, mirror
from garde.api.problems import responses
from garde.api.ratelimits import rate_limited
from garde.api.routers.consents import AS_RECEIPT, STATE_SHOWN
from garde.api.state import service
from garde.api.subject_auth import subject_only
from garde.consent.ledger import LedgerEvent
from garde.consent.state import ConsentState
from garde.jobs.requests import resume_proven
from garde.rights import self_service as mine
from garde.rights.deployment import phone_region
from garde.rights.intake import get_request
from garde.rights.mailer import after_answer, configured_mailer
from garde.rights.sessions import SubjectSession, confirm_session, end_session, start_session
from garde.store.transactions import retried
from garde.web.headers import ANSWER_FILE_HEADERS

# Opening a session needs no key nor token (it is how a subject gets one); it gives nothing away
# and is rate-limited per address and per identity.
OPENS_SESSION = public("opens a data subject's own session: answers the same for any identity")

router = APIRouter(prefix="/me", tags=["data subjects"], responses=responses(401, 404, 422, 429))
Subject = Annotated[SubjectSession, Depends(subject_only)]
SENT = "if this identity is known to us, a code was sent to it"


class SessionIn(Strict):
    email: str | None = Field(default=None, max_length=320, examples=["ana@example.com"])
    phone: str | None = Field(default=None, max_length=40)
    language: Literal["fr", "en", "it"] = "en"

    @model_validator(mode="after")
    def one_identity(self) -> SessionIn:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give one identity: email or phone")
        return self


class SessionOut(BaseModel):
    session: str = Field(description="send it back with the code to /me/session/confirm")
    code_expires_at: datetime
    message: str


class ConfirmIn(Strict):
    session: str = Field(pattern=r"^[0-9a-f]{32}$", description="the `session` of `/me/session`'s answer")
    code: str = Field(pattern=r"^[0-9 ]{1,16}$", description="the six digits of the mail")


class NewValueCodeIn(Strict):
    code: str = Field(pattern=r"^[0-9 ]{1,16}$", description="the six digits sent to the new e-mail or phone")


class TokenOut(BaseModel):
    token: str = Field(description="send it as `Authorization: Bearer <token>`")
    expires_at: datetime


class StepOut(BaseModel):
    at: str
    status: str
    note: str | None


class RequestOut(BaseModel):
    id: str
    type: str
    status: str
    language: str
    received_at: str
    deadline: date
    extended_deadline: date | None
    extension_reason: str | None
    due: date
    overdue: bool
    verified_at: str | None
    completed_at: str | None
    rejected_at: str | None
    rejection_reason: str | None
    locked: bool
    awaiting: list[str] = Field(default=[], description="a rectification waiting for its new e-mail or "
                                "phone (by kind) to be confirmed by the code sent to it")
    identities: dict[str, bool] = Field(description="the identity kinds it gave, and whether each is proven")
    steps: list[StepOut] | None = None


class SubmitIn(Strict):
    type: Literal["access", "portability", "rectification", "erasure", "restriction", "objection"]
    language: Literal["fr", "en", "it"] | None = None
    details: dict[str, Any] = Field(default={}, max_length=50,
                                    description="what the type needs: corrections, objection scope")


# A subject's own consents: where each stands, and the events of their history with what the
# subject gave (never the controller's evidence: the IP's digest, the agent, the actor).
ConsentNowOut = mirror("ConsentNowOut", ConsentState, [a for a in STATE_SHOWN if a != "dpv"], module=__name__,
                       renamed=AS_RECEIPT)
MY_EVENT_SHOWN = ("event_id", "activity", "channel", "action", "at", "method", "notice_version", "expires_at")
MyConsentEventOut = mirror("MyConsentEventOut", LedgerEvent, MY_EVENT_SHOWN, module=__name__,
                           renamed=AS_RECEIPT)


class ConsentsOut(BaseModel):
    state: list[ConsentNowOut]  # type: ignore[valid-type]
    history: list[MyConsentEventOut]  # type: ignore[valid-type]
    partial: bool = Field(default=False, description=(
        "other identities are linked with the one this session proved: only what was recorded with it "
        "is listed, and more may be held under the others (prove them to see it)"))


class AnswerFileOut(BaseModel):
    request_id: str
    name: str
    size: int


@router.post("/session", response_model=SessionOut, status_code=202,
             dependencies=[Depends(OPENS_SESSION), Depends(rate_limited("session.start"))])
def open_session(body: SessionIn, request: Request, background: BackgroundTasks) -> SessionOut:
    """Ask for a one-time code to the e-mail address (or telephone number). The answer is the
    same whether or not garde knows the identity; the code is mailed after the answer."""
    held = service(request)
    kind, value = ("email", body.email) if body.email is not None else ("phone", body.phone or "")
    started = start_session(held.engine, kind, value, configured_mailer(held.settings),
                            language=body.language, region=phone_region(held.model.registers))
    background.add_task(after_answer(started.deliver, "a sign-in code"))
    return SessionOut(session=started.session, code_expires_at=started.code_expires_at, message=SENT)


@router.post("/session/confirm", response_model=TokenOut,
             dependencies=[Depends(OPENS_SESSION), Depends(rate_limited("session.confirm"))])
def confirm(body: ConfirmIn, request: Request) -> TokenOut:
    """The code from the mail: a session token, or 401 (wrong, expired, locked or unknown: one answer)."""
    held = service(request)
    token = confirm_session(held.engine, body.session, body.code,
                            lifetime=timedelta(minutes=held.settings.subject_session_minutes))
    return TokenOut(token=token.token, expires_at=token.expires_at)


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, session: Subject) -> Response:
    """End the session: its token is refused from now on."""
    end_session(service(request).engine, session)
    return Response(status_code=204)


@router.get("/requests", response_model=list[RequestOut])
def requests(request: Request, session: Subject) -> list[RequestOut]:
    """My requests, oldest first."""
    with service(request).engine.connect() as conn:
        return [RequestOut.model_validate(mine.request_view(r)) for r in mine.my_requests(conn, session)]


@router.post("/requests", response_model=RequestOut, status_code=201,
             dependencies=[Depends(rate_limited("requests.submit"))])
def submit(body: SubmitIn, request: Request, session: Subject) -> RequestOut:
    """Submit a request for myself: its identity is the session's (proven by its code)."""
    submitted = retried(service(request).engine, lambda conn: mine.submit_mine(
        conn, session, body.type, language=body.language, details=body.details), what="a subject's request")
    return RequestOut.model_validate(mine.request_view(submitted, steps=True))


@router.get("/requests/{request_id}", response_model=RequestOut)
def one_request(request_id: str, request: Request, session: Subject) -> RequestOut:
    """One of my requests, with its steps."""
    with service(request).engine.connect() as conn:
        return RequestOut.model_validate(mine.request_view(mine.my_request(conn, session, request_id[:64]),
                                                           steps=True))


@router.post("/requests/{request_id}/confirm", response_model=RequestOut, responses=responses(400),
             dependencies=[Depends(rate_limited("session.confirm"))])
def confirm_new_value(request_id: Annotated[str, Path(max_length=64)], body: NewValueCodeIn, request: Request,
                      session: Subject) -> RequestOut:
    """The code sent to the new e-mail or phone of one of my rectifications (as the privacy center's
    form takes it: bounded, then locked; 400 for a wrong one, 404 for anyone else's request). The last
    new value proven, the request runs (at once on SQLite, queued on PostgreSQL)."""
    held = service(request)
    proven = mine.confirm_my_new_identity(held.engine, session, request_id, body.code.replace(" ", ""))
    resume_proven(held.engine, proven, actor=session.actor, settings=held.settings,
                  mailer=configured_mailer(held.settings))
    with held.engine.connect() as conn:
        # The request the code was just taken for, as it stands: once it ran, the subject's link may
        # have moved to the new value, and this session's old one no longer lists it.
        current = get_request(conn, proven.id)
    return RequestOut.model_validate(mine.request_view(current, steps=True))


@router.get("/consents", response_model=ConsentsOut)
def consents(request: Request, session: Subject) -> ConsentsOut:
    """My consents as they stand, and every event of their history."""
    held = service(request)
    with held.engine.connect() as conn:
        state, history = mine.my_consents(conn, session, held.model.validity())
    return ConsentsOut(
        state=[ConsentNowOut.of(s) for s in state], history=[MyConsentEventOut.of(e) for e in history],
        partial=session.narrowed)


@router.get("/files", response_model=list[AnswerFileOut])
def files(request: Request, session: Subject) -> list[AnswerFileOut]:
    """The answer files of my answered requests."""
    held = service(request)
    with held.engine.connect() as conn:
        return [AnswerFileOut(request_id=f.request_id, name=f.name, size=f.size)
                for f in mine.my_answer_files(conn, session, held.settings.results)]


@router.get("/requests/{request_id}/files/{name}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})
def download(request_id: str, name: str, request: Request, session: Subject) -> FileResponse:
    """Download one answer file of one of my answered requests."""
    held = service(request)
    with held.engine.connect() as conn:
        path = mine.my_answer_file(conn, session, held.settings.results, request_id[:64], name[:64])
    return FileResponse(path, filename=path.name, media_type="application/octet-stream",
                        headers=ANSWER_FILE_HEADERS)
