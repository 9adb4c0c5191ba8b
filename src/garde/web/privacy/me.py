"""``/privacy/me``: a signed-in subject's requests, answer files, consents, and the forms that
submit a request, change a consent, object to direct marketing and sign out (one request's page
and its files: :mod:`garde.web.privacy.requests`).

Every route calls the library the API's ``/me`` routes call (:mod:`garde.rights.self_service`)
or :mod:`garde.rights.my_consents`; another subject's request or file is the same 404 as a
missing one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from garde.api.ratelimits import client_address, rate_limited
from garde.api.state import service
from garde.consent.confirmations import open_for
from garde.problems import GardeError
from garde.ratelimit import RateLimited
from garde.rights import self_service as mine
from garde.rights.intake import REQUEST_TYPES
from garde.rights.my_consents import (
    ObjectionStands,
    OutsideScope,
    change_my_consent,
    consent_lines,
    object_to_direct_marketing,
    objects_to_direct_marketing,
)
from garde.rights.sessions import end_session
from garde.store.transactions import retried
from garde.web.pages import render
from garde.web.privacy.auth import HOME, LANGS, SURFACE, SubjectPage, checked_form

router = APIRouter()
ME = "/privacy/me"
# The types whose request takes a free text: the reason of a restriction or an objection.
WITH_TEXT = {"restriction": "reason", "objection": "reason"}


def _me(request: Request, subject: SubjectPage, *, status: int = 200, error: str | None = None,
        done: str | None = None) -> Response:
    held = service(request)
    with held.engine.connect() as conn:
        found = mine.my_requests(conn, subject.session)
        files = mine.my_answer_files(conn, subject.session, held.settings.results)
        state, _ = mine.my_consents(conn, subject.session, held.model.validity())
        objected = objects_to_direct_marketing(conn, subject.session)
        asked = open_for(conn, subject.session.kind, subject.session.identity_hash)
    return render(request, "privacy/me.html.j2", subject.lang, status=status, langs=LANGS, subject=subject,
                  requests=[mine.request_view(r) for r in found], files=files, types=REQUEST_TYPES,
                  consents=consent_lines(held.model, state, subject.lang, objected=objected, asked=asked),
                  objected=objected, error=error,
                  done=done or request.query_params.get("done"))


@router.get(ME, include_in_schema=False)
def me(request: Request, subject: SubjectPage) -> Response:
    return _me(request, subject)


@router.post(ME + "/requests", include_in_schema=False)
async def submit(request: Request, subject: SubjectPage,
                 form: dict[str, str] = Depends(checked_form)) -> Response:
    kind = form.get("type", "")
    text = form.get("details", "").strip()
    details = {WITH_TEXT[kind]: text} if kind in WITH_TEXT and text else {}
    held = service(request)

    def submitted() -> None:
        rate_limited("requests.submit")(request)
        retried(held.engine, lambda conn: mine.submit_mine(conn, subject.session, kind, language=subject.lang,
                                                           details=details), what="a subject's request")

    try:
        await run_in_threadpool(submitted)
    except RateLimited:
        return _me(request, subject, status=429, error="too_many")
    except GardeError:
        return _me(request, subject, status=400, error="request")
    return RedirectResponse(ME + "?done=request", status_code=303)


@router.post(ME + "/consents", include_in_schema=False)
def consent(request: Request, subject: SubjectPage, form: dict[str, str] = Depends(checked_form)) -> Response:
    held = service(request)
    try:
        rate_limited("consents.change")(request)
        change_my_consent(held.engine, held.model, subject.session, form.get("activity", "")[:128],
                          form.get("channel") or None, form.get("action") == "give", subject.lang,
                          ip=client_address(request, held.settings.trusted_proxies),
                          user_agent=request.headers.get("user-agent", "")[:512] or None)
    except RateLimited:
        return _me(request, subject, status=429, error="too_many")
    except ObjectionStands:
        return _me(request, subject, status=409, error="objected")
    except OutsideScope:
        return _me(request, subject, status=403, error="scope")
    except GardeError:
        return _me(request, subject, status=400, error="consent")
    return RedirectResponse(ME + "?done=consent", status_code=303)


@router.post(ME + "/object", include_in_schema=False)
def object_to_marketing(request: Request, subject: SubjectPage,
                        form: dict[str, str] = Depends(checked_form)) -> Response:
    held = service(request)
    object_to_direct_marketing(held.engine, held.model, subject.session, subject.lang,
                               ip=client_address(request, held.settings.trusted_proxies),
                               user_agent=request.headers.get("user-agent", "")[:512] or None)
    return RedirectResponse(ME + "?done=objection", status_code=303)


@router.post(ME + "/logout", include_in_schema=False)
def logout(request: Request, subject: SubjectPage, form: dict[str, str] = Depends(checked_form)) -> Response:
    end_session(service(request).engine, subject.session)
    response = RedirectResponse(HOME, status_code=303)
    SURFACE.end(response, request)
    return response
