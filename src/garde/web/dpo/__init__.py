"""The DPO dashboard, ``/dpo/`` (fr, en): registers and findings, the request queue, retention,
consent figures, the audit chain and the job queue, for a DPO logged in with a ``dpo`` API key."""

from fastapi import APIRouter

from garde.web.dpo import jobs, login, overview, registers, requests

router = APIRouter()
for _pages in (login.router, overview.router, registers.router, requests.router, jobs.router):
    router.include_router(_pages)

__all__ = ["router"]
