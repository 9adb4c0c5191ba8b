"""``/privacy/me/requests/{id}``: one of the signed-in subject's requests (its type, status, steps,
the legal deadline and the days left) and the download of its answer files.

Both call :mod:`garde.rights.self_service`, as the API's ``/me/requests`` routes do: another
subject's request or file, a made-up id and a missing file are the same 404.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from garde.api.ratelimits import rate_limited
from garde.api.state import service
from garde.jobs.requests import resume_proven
from garde.problems import GardeError, NotFound
from garde.ratelimit import RateLimited
from garde.rights import configured_mailer, display
from garde.rights import self_service as mine
from garde.web.pages import render
from garde.web.privacy.auth import LANGS, Subject, SubjectPage, checked_form, moved

router = APIRouter()
REQUEST = "/privacy/me/requests/{request_id}"
MAX_ID = 64


def _not_found(request: Request, subject: Subject) -> Response:
    return render(request, "privacy/not_found.html.j2", subject.lang, status=404, langs=LANGS,
                  subject=subject)


@router.get(REQUEST, include_in_schema=False)
def request_page(request_id: str, request: Request, subject: SubjectPage) -> Response:
    return _page(request_id, request, subject)


def _page(request_id: str, request: Request, subject: Subject, error: str | None = None,
          status: int = 200) -> Response:
    held = service(request)
    try:
        with held.engine.connect() as conn:
            progress = mine.my_request_status(conn, subject.session, request_id[:MAX_ID],
                                              held.settings.results)
    except NotFound:
        return _not_found(request, subject)

    def day(value: date | str | None) -> str:
        return display.day(value, subject.lang)

    def moment(value: datetime | str | None) -> str:
        return display.moment(value, subject.lang)

    return render(request, "privacy/request.html.j2", subject.lang, status=status, langs=LANGS,
                  subject=subject, progress=progress, day=day, moment=moment, error=error)


@router.post(REQUEST + "/confirm", include_in_schema=False)
def confirm_new_identity(request_id: str, request: Request, subject: SubjectPage,
                         form: dict[str, str] = Depends(checked_form)) -> Response:
    """The code sent to the new e-mail or phone of a rectification (garde.rights.new_identity),
    counted per address with the sign-in's codes, as the API's route takes it."""
    held = service(request)
    try:
        rate_limited("session.confirm")(request)
    except RateLimited:
        return _page(request_id, request, subject, error="too_many", status=429)
    try:
        proven = mine.confirm_my_new_identity(held.engine, subject.session, request_id[:MAX_ID],
                                              form.get("code", "")[:16])
    except NotFound:
        return _not_found(request, subject)
    except GardeError:  # a wrong, expired or refused code: said on the page, the attempt counted
        return _page(request_id, request, subject, error="code", status=400)
    # The last new value proven: the request runs now (SQLite) or is queued for the workers.
    resume_proven(held.engine, proven, actor=subject.session.actor, settings=held.settings,
                  mailer=configured_mailer(held.settings))
    try:
        with held.engine.connect() as conn:
            mine.my_request_status(conn, subject.session, request_id[:MAX_ID], held.settings.results)
    except NotFound:  # the run completed here and moved the subject to the new value
        return moved(request, subject)
    return RedirectResponse(REQUEST.format(request_id=request_id[:MAX_ID]), status_code=303)


@router.get(REQUEST + "/files/{name}", include_in_schema=False)
def download(request_id: str, name: str, request: Request, subject: SubjectPage) -> Response:
    held = service(request)
    try:
        with held.engine.connect() as conn:
            path = mine.my_answer_file(conn, subject.session, held.settings.results, request_id[:MAX_ID],
                                       name[:MAX_ID])
    except NotFound:
        return _not_found(request, subject)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream",
                        headers={"Cache-Control": "no-store"})
