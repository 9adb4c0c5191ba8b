"""``/privacy/``: the notice, and signing in with a one-time code (the API's subject session).

Signing in is two forms: the e-mail address (:func:`garde.rights.sessions.start_session` mails
a code to it, known to garde or not, and the page answers the same either way), then the code
(:func:`garde.rights.sessions.confirm_session` gives the token the ``garde_privacy`` cookie
holds). Before a session exists, both forms' CSRF token is tied to a random ``garde_signin``
cookie the page set, as the dashboard's login form does; the pending session's id waits in an
HttpOnly cookie too, never in a URL.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from garde.api.ratelimits import rate_limited
from garde.api.state import service
from garde.problems import GardeError
from garde.publish import register_document
from garde.ratelimit import RateLimited
from garde.rights.deployment import phone_region
from garde.rights.mailer import after_answer, configured_mailer
from garde.rights.sessions import PROOF_LIFETIME, confirm_session, start_session
from garde.web.cookies import csrf_matches, csrf_token, read_cookie
from garde.web.forms import read_form
from garde.web.headers import document_csp
from garde.web.pages import page_language, render
from garde.web.privacy.auth import HOME, LANGS, SURFACE

router = APIRouter()
NONCE = "garde_signin"
PENDING = "garde_privacy_pending"
PROOF = "garde_privacy_proof"  # the browser's proof of a mailbox it signed in with (rights.sessions)
CODE = "/privacy/code"


def _page(request: Request, template: str, *, status: int = 200, error: str | None = None) -> Response:
    lang = page_language(request, LANGS)
    nonce = read_cookie(request, NONCE) or secrets.token_urlsafe(32)
    registers = service(request).model.registers
    response = render(request, template, lang, status=status, langs=LANGS, subject=None,
                      csrf=csrf_token(nonce, "signin"), error=error, registers=registers)
    SURFACE.set_cookie(response, request, NONCE, nonce, 3600)
    return response


def _signin_form(request: Request, form: dict[str, str]) -> bool:
    return csrf_matches(read_cookie(request, NONCE), form.get("csrf", ""), "signin")


@router.get(HOME, include_in_schema=False)
def home(request: Request) -> Response:
    return _page(request, "privacy/home.html.j2")


@router.get("/privacy/notice", include_in_schema=False)
def notice(request: Request, register: int = 0) -> Response:
    """The notice the register in force publishes, in the page's language (its draft when it has gaps)."""
    lang = page_language(request, LANGS)
    registers = service(request).model.registers
    try:
        if not 0 <= register < len(registers):
            raise GardeError(f"no register {register}")
        _, content = register_document(registers[register], f"notice-{lang}.html")
    except GardeError:
        return render(request, "privacy/not_found.html.j2", lang, status=404, langs=LANGS, subject=None)
    return Response(content, media_type="text/html; charset=utf-8",
                    headers={"Content-Language": lang, "Cache-Control": "no-cache",
                             "Content-Security-Policy": document_csp(content)})


@router.post(HOME, include_in_schema=False)
async def sign_in(request: Request, background: BackgroundTasks) -> Response:
    form = await read_form(request)
    if not _signin_form(request, form):
        return _page(request, "privacy/home.html.j2", status=403, error="csrf")
    held = service(request)
    try:
        await run_in_threadpool(rate_limited("session.start"), request)
        started = await run_in_threadpool(
            start_session, held.engine, "email", form.get("email", "")[:320],
            configured_mailer(held.settings),
            language=page_language(request, LANGS), region=phone_region(held.model.registers),
            proof=read_cookie(request, PROOF)[:128])
    except RateLimited:
        return _page(request, "privacy/home.html.j2", status=429, error="too_many")
    except GardeError:
        return _page(request, "privacy/home.html.j2", status=400, error="email")
    background.add_task(after_answer(started.deliver, "a sign-in code"))
    response = RedirectResponse(CODE, status_code=303)
    SURFACE.set_cookie(response, request, PENDING, started.session, 3600)
    return response


@router.get(CODE, include_in_schema=False)
def code_form(request: Request) -> Response:
    if not read_cookie(request, PENDING):
        return RedirectResponse(HOME, status_code=303)
    return _page(request, "privacy/code.html.j2")


@router.post(CODE, include_in_schema=False)
async def code(request: Request) -> Response:
    form = await read_form(request)
    if not _signin_form(request, form):
        return _page(request, "privacy/code.html.j2", status=403, error="csrf")
    held = service(request)
    lifetime = timedelta(minutes=held.settings.subject_session_minutes)
    try:
        await run_in_threadpool(rate_limited("session.confirm"), request)
        token = await run_in_threadpool(confirm_session, held.engine, read_cookie(request, PENDING)[:64],
                                        form.get("code", "").strip()[:16], lifetime=lifetime)
    except RateLimited:
        return _page(request, "privacy/code.html.j2", status=429, error="too_many")
    except GardeError:
        return _page(request, "privacy/code.html.j2", status=401, error="code")
    response = RedirectResponse("/privacy/me", status_code=303)
    SURFACE.set_cookie(response, request, SURFACE.cookie, token.token, int(lifetime.total_seconds()))
    SURFACE.drop_cookie(response, request, PENDING)
    if token.proof:
        SURFACE.set_cookie(response, request, PROOF, token.proof, int(PROOF_LIFETIME.total_seconds()))
    SURFACE.drop_cookie(response, request, NONCE)
    return response
