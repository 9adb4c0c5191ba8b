"""``/banner/v1``: the cookie banner a shop embeds with one script (docs/banner.md).

- ``GET /banner/v1/banner.js``: the script (no dependency, no request to any other host);
- ``GET /banner/v1/{register}/config.json?lang=fr``: what it shows
  (:func:`garde.documents.banner.banner_config`);
- ``POST /banner/v1/{register}/choices``: a visitor's choice into the consent ledger
  (:func:`garde.consent.banner.record_banner_choice`).

The routes are public (a shop page can hold no key) and give nothing away: the configuration is
the register's public tracker list, and recording a choice answers only with what was just
recorded. Cross-origin calls come from ``GARDE_ALLOWED_ORIGINS`` only (garde.api.cors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from garde.api.auth import public
from garde.api.cors import origin_allowed
from garde.api.models import Strict
from garde.api.problems import responses
from garde.api.ratelimits import rate_limited
from garde.api.state import service
from garde.consent import gpc_signal
from garde.consent.banner import BannerChoice, record_banner_choice
from garde.documents.banner import MAX_CATEGORIES, banner_config
from garde.problems import NotFound, closest
from garde.publish import register_files
from garde.register import load_register
from garde.register.model import Register

SCRIPT = Path(__file__).with_name("banner.js")
MAX_CHOICE_BODY = 4096  # a choice is about 200 bytes; the route reads no more than this
Lang = Literal["fr", "en", "it"]
RegisterId = Annotated[str, PathParam(max_length=128, pattern=r"^[A-Za-z0-9._-]+$",
                                      description="the register file's name without .yaml")]

router = APIRouter(prefix="/banner/v1", tags=["cookie banner"],
                   dependencies=[Depends(public("the cookie banner: a shop page can hold no API key"))],
                   responses=responses(404, 422))


class ChoiceIn(Strict):
    visitor_id: str = Field(max_length=36, description="the browser's random id (UUID v4) on the shop's site")
    lang: Lang = Field(description="the language the banner was shown in (its notice version is recorded)")
    version: str = Field(max_length=64, description="the banner configuration's version the visitor saw")
    choices: dict[Annotated[str, Field(max_length=64)], bool] = Field(
        max_length=MAX_CATEGORIES, description="every category the banner asks about: accepted or not")
    gpc: bool = Field(default=False, description="navigator.globalPrivacyControl: advertising is refused")


CHOICE_SCHEMA = ChoiceIn.model_json_schema()


class ChoiceOut(BaseModel):
    recorded: int = Field(description="ledger events written (one per category and activity)")
    notice_version: str
    expires_at: datetime | None = Field(description="when the consents given lapse (none given: null)")


@dataclass
class Banners:
    """What the routes keep for the app's life: the registers by id, their configurations by
    language (a configuration renders the notice for its version)."""

    registers: dict[str, Register]
    configs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _banners(request: Request) -> Banners:
    state = request.app.state
    if not hasattr(state, "banners"):
        paths = register_files([service(request).settings.registers])
        state.banners = Banners({path.stem: load_register(path) for path in paths})
    banners: Banners = state.banners
    return banners


def _register(request: Request, register_id: str) -> Register:
    registers = _banners(request).registers
    if register_id not in registers:
        hint = closest(register_id, registers)
        raise NotFound(f"no register {register_id!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    return registers[register_id]


def _config(request: Request, register_id: str, lang: str | None) -> dict[str, Any]:
    register = _register(request, register_id)
    lang = lang or (register.language if register.language in ("fr", "en", "it") else "en")
    configs = _banners(request).configs
    if (register_id, lang) not in configs:
        months = service(request).settings.cookie_consent_months
        configs[(register_id, lang)] = banner_config(register, register_id, lang, months)
    return configs[(register_id, lang)]


@router.get("/banner.js", response_class=Response,
            responses={200: {"content": {"text/javascript": {}}, "description": "the banner's script"}})
def script() -> Response:
    """The banner's script; a shop includes it with ``data-garde-register``."""
    return Response(SCRIPT.read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Cross-Origin-Resource-Policy": "cross-origin"})


@router.get("/{register_id}/config.json", response_model=dict[str, Any])
def config(register_id: RegisterId, request: Request,
           lang: Annotated[Lang | None, Query(description="default: the register's language")] = None,
           ) -> dict[str, Any]:
    """The categories the banner asks about, their purposes and trackers' lifetimes, in ``lang``."""
    return _config(request, register_id, lang)


@router.post("/{register_id}/choices", response_model=ChoiceOut, status_code=201,
             responses=responses(403, 409, 413, 429), openapi_extra={"requestBody": {
                 "required": True, "content": {"application/json": {"schema": CHOICE_SCHEMA}}}})
async def choices(register_id: RegisterId, request: Request) -> ChoiceOut:
    """Record a visitor's choice (accept all, refuse all, customise, close: refuse) in the ledger."""
    held = service(request)
    if not origin_allowed(request, held.settings):
        raise HTTPException(403, "this page's origin is not in GARDE_ALLOWED_ORIGINS")
    body = await request.body()
    if len(body) > MAX_CHOICE_BODY:
        raise HTTPException(413, f"a banner choice is at most {MAX_CHOICE_BODY} bytes")
    client = request.client.host if request.client else None
    await run_in_threadpool(rate_limited("banner.choice"), request)  # counted in the store
    try:
        choice = ChoiceIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return _record(request, register_id, choice, client)


def _record(request: Request, register_id: str, body: ChoiceIn, client: str | None) -> ChoiceOut:
    shown = _config(request, register_id, body.lang)
    if body.version != shown["version"]:
        raise HTTPException(409, "the banner changed since it was shown: it asks again")
    held = service(request)
    events = record_banner_choice(held.engine, held.model, _register(request, register_id), BannerChoice(
        body.visitor_id, body.choices, shown["notice_version"], held.settings.cookie_consent_months,
        ip=client, user_agent=(request.headers.get("user-agent") or "")[:512] or None,
        gpc=body.gpc or gpc_signal(request.headers)))
    ends = [e.expires_at for e in events if e.expires_at is not None]
    return ChoiceOut(recorded=len(events), notice_version=shown["notice_version"],
                     expires_at=min(ends) if ends else None)
