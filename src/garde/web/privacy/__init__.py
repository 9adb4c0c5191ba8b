"""The privacy center, ``/privacy/`` (fr, en, it): a data subject reads the notice, signs in with
a one-time code, follows their requests, downloads their answers, submits a request, changes
their consents and objects to direct marketing. Server-rendered forms, no script needed."""

from fastapi import APIRouter, FastAPI

from garde.web import cookies
from garde.web.privacy import auth, me, requests, signin

router = APIRouter()
for _pages in (signin.router, me.router, requests.router):
    router.include_router(_pages)


def mount(app: FastAPI) -> None:
    """Add the privacy center's pages and its answers to a missing session or CSRF token."""
    cookies.install(app)
    auth.install(app)
    app.include_router(router)


__all__ = ["mount", "router"]
