"""The demo shop page ``make demo`` serves (``/demo-shop/``): a small page of the reference shop that
embeds the cookie banner, so a visitor sees the register's trackers held back until consented.

Demo only: ``garde demo --serve`` mounts it (:func:`mount`, called by :mod:`garde.web.demo_shop.server`);
``create_app`` never does, so a production ``garde serve`` has no ``/demo-shop/``. The page is served
under the pages' CSP like every other: its style sheet and its stand-in tracker are files of this
package (``static/``), nothing comes from another site.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from garde.web.demo_shop.page import PREFIX, router

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Add the demo shop page and its files to ``app`` (an app ``create_app`` built)."""
    app.include_router(router)
    app.mount(f"{PREFIX}static", StaticFiles(directory=STATIC), name="demo-shop-static")


__all__ = ["PREFIX", "mount"]
