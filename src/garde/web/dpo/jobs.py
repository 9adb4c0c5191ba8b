"""``/dpo/jobs``: the job queue, read-only (PostgreSQL; on SQLite jobs run inline and none waits)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from garde.api.state import store
from garde.jobs.listing import list_jobs
from garde.jobs.queue import is_queued
from garde.web.dpo.auth import LANGS, DpoPage
from garde.web.pages import render

router = APIRouter()
SHOWN = 100


@router.get("/dpo/jobs", include_in_schema=False)
def jobs(request: Request, dpo: DpoPage) -> Response:
    engine = store(request)
    return render(request, "dpo/jobs.html.j2", dpo.lang, langs=LANGS, dpo=dpo,
                  jobs=list_jobs(engine, limit=SHOWN), queued=is_queued(engine.url), shown=SHOWN)
