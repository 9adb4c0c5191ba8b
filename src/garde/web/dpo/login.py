"""``/dpo/login`` and ``/dpo/logout``: a DPO pastes a ``dpo`` API key, the browser gets a session.

The login form is protected like every form: before a session exists, its token is tied to a
random ``garde_login`` cookie the form's page set (an attacker's page can neither read nor set
it), so nobody can log a DPO's browser in with someone else's key.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from garde.api.ratelimits import count_failure, refused
from garde.api.state import service, store
from garde.problems import GardeError
from garde.ratelimit import RateLimited
from garde.store.transactions import retried
from garde.web.cookies import csrf_matches, csrf_token, read_cookie
from garde.web.dpo.auth import LANGS, LOGIN, SURFACE, DpoPage, checked_form
from garde.web.forms import read_form
from garde.web.pages import page_language, render
from garde.web.sessions import end_session, start_session

router = APIRouter()
NONCE = "garde_login"


def _form(request: Request, lang: str, *, status: int = 200, error: str | None = None) -> Response:
    nonce = secrets.token_urlsafe(32)
    response = render(request, "dpo/login.html.j2", lang, status=status, langs=LANGS, dpo=None,
                      csrf=csrf_token(nonce, "login"), error=error)
    SURFACE.set_cookie(response, request, NONCE, nonce, 3600, path=LOGIN)
    return response


@router.get(LOGIN, include_in_schema=False)
def login_form(request: Request) -> Response:
    return _form(request, page_language(request, LANGS))


@router.post(LOGIN, include_in_schema=False)
async def login(request: Request) -> Response:
    lang = page_language(request, LANGS)
    # Wrong keys per client address, counted in the store (every worker shares the count).
    if await run_in_threadpool(refused, request, "dpo.login") is not None:
        return _form(request, lang, status=429, error="too_many")
    form = await read_form(request)
    if not csrf_matches(read_cookie(request, NONCE), form.get("csrf", ""), "login"):
        return _form(request, lang, status=403, error="csrf")
    lifetime = timedelta(hours=service(request).settings.dpo_session_hours)
    try:
        key = form.get("key", "")
        session_id, _ = retried(store(request), lambda conn: start_session(conn, key, lifetime),
                                what="a DPO login")
    except GardeError:
        try:
            await run_in_threadpool(count_failure, request, "dpo.login")
        except RateLimited:
            return _form(request, lang, status=429, error="too_many")
        return _form(request, lang, status=401, error="key")
    response = RedirectResponse("/dpo/", status_code=303)
    SURFACE.set_cookie(response, request, SURFACE.cookie, session_id, int(lifetime.total_seconds()))
    SURFACE.drop_cookie(response, request, NONCE, path=LOGIN)
    return response


@router.post("/dpo/logout", include_in_schema=False)
def logout(request: Request, dpo: DpoPage, form: dict[str, str] = Depends(checked_form)) -> Response:
    retried(store(request), lambda conn: end_session(conn, dpo.session_id), what="a DPO logout")
    response = RedirectResponse(LOGIN, status_code=303)
    SURFACE.end(response, request)
    return response
