"""The app factory: ``create_app(settings)`` builds the service `garde serve` runs.

The store is opened (and migrated) when the app starts; the register is compiled once into
the decision model; decisions are audited through one buffered writer that the app's end
flushes. ``/healthz`` says the process answers, ``/readyz`` that the store is reachable and
at the latest schema.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from garde import web
from garde.api import cors, docs, problems
from garde.api.decision_threads import DecisionThreads
from garde.api.limits import BodyLimit
from garde.api.query import known_query
from garde.api.routers import (
    audiences,
    audit,
    consents,
    decisions,
    holds,
    me,
    opendsr,
    registers,
    requests,
    retention,
)
from garde.api.state import Service, service
from garde.audit import AuditWriter
from garde.decide.model import DecisionModel
from garde.settings import Settings, get_settings
from garde.store import head_revision, open_store
from garde.store.logs import install_cleaning
from garde.web import banner

PREFIX = "/api/v1"
PUBLIC = frozenset({"/healthz", "/readyz", f"{PREFIX}/openapi.json", f"{PREFIX}/docs"})


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    detail: str | None = None


def route_table(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """Every API route as (method, full path, route), the included routers' routes too."""
    try:  # FastAPI >= 0.12x includes routers lazily: their routes are reached through contexts
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copies the routes into the app
        return [(method, route.path, route) for route in app.routes if isinstance(route, APIRoute)
                for method in sorted(route.methods or ())]
    return [(method, context.path or "", route) for context in iter_route_contexts(app.routes)
            if isinstance(route := context.original_route, APIRoute)
            for method in sorted(route.methods or ())]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: the configured ones)."""
    install_cleaning()  # a uvicorn worker process starts here: its log lines quote no database values
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = DecisionModel.load(settings.registers)
        engine = open_store(settings.database_url)
        writer = AuditWriter(engine)
        decisions = DecisionThreads(settings.database_url, model, writer, settings.decision_threads)
        app.state.garde = Service(settings, engine, model, writer, decisions)
        # What is alive now (the modules, the app, the register's model) lives as long as the server:
        # frozen, the collector's full passes stop walking it, each of which stalled every request of
        # the worker for ≈ 0.1 s (docs/performance.md). Thawed at the end, so that it can be freed.
        # A process that froze its heap itself (a host mounting this app, a pre-forking server) keeps
        # its own policy: thawing at the end would thaw the host's heap too, and a full collection
        # here would walk it for nothing.
        freezing = gc.get_freeze_count() == 0
        if freezing:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if freezing:
                gc.unfreeze()
            decisions.close()
            writer.close()
            engine.dispose()

    app = FastAPI(title="garde", version="1", lifespan=lifespan, dependencies=[Depends(known_query)],
                  openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  description="The executable register of processing activities, as a service. "
                              "Every route but /healthz, /readyz and the opening of a data subject's "
                              "session (/api/v1/me/session) needs `Authorization: Bearer <key>` (a "
                              "subject session token on /api/v1/me).")
    problems.install(app)
    app.add_middleware(BodyLimit)
    cors.install(app, settings)
    head = head_revision()  # read from the migrations' files once per process, not per app

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"],
             responses={503: {"model": Health, "description": "store unreachable or not migrated"}})
    def readyz(request: Request) -> Health | JSONResponse:
        """The store is reachable and at the latest schema."""
        try:
            with service(request).engine.connect() as conn:
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DBAPIError as exc:
            why = problems.store_unavailable(request, exc)
            return JSONResponse(Health(status="unavailable", detail=why).model_dump(), status_code=503)
        if revision != head:
            return JSONResponse(Health(status="unavailable", detail=f"store at schema {revision}, "
                                       f"expected {head}").model_dump(), status_code=503)
        return Health(status="ok")

    for router in (registers.router, decisions.router, consents.router, audit.router, audiences.router,
                   retention.router, holds.router, requests.router, me.router, docs.router):
        app.include_router(router, prefix=PREFIX)
    app.include_router(opendsr.router)  # OpenDSR names its own paths: /opendsr/discovery, /opendsr/requests
    app.include_router(banner.router)
    web.mount(app)  # the pages: /dpo/, /static/
    return app
