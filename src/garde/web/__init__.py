"""The web edge of garde: pages served by ``garde serve`` beside the API.

``src/garde/web/`` holds what every surface shares: the base layout (``templates/base.html.j2``),
the static files (``static/``, served at ``/static``), the security headers of every page
(:mod:`garde.web.headers`) and the pages' wording (:mod:`garde.web.pages`, gettext through
:mod:`garde.i18n`). Each surface is a subpackage: the DPO dashboard (:mod:`garde.web.dpo`, at
``/dpo/``), the privacy center (:mod:`garde.web.privacy`, at ``/privacy/``) and the cookie
banner. Pages are thin edges, like the API's routes: parse, call one library function, render.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from garde.web.headers import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Add the web pages to ``app`` (the service ``create_app`` builds)."""
    from garde.web import cookies
    from garde.web.dpo import router as dpo
    from garde.web.privacy import mount as privacy

    cookies.install(app)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(dpo)
    privacy(app)
