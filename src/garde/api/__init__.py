"""The service: `garde serve`'s REST API over the library (``create_app(settings)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from garde.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for ``settings``; see :mod:`garde.api.app`. Imported lazily: ``garde.api.keys``
    (the key table, which the CLI and the store's meta-test import) does not need FastAPI."""
    from garde.api.app import create_app as build

    return build(settings)
